"""Phases 2-4: schedule work into batches, generate, score, and stream each batch to disk."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from harness.backends.base import Backend
from harness.judge import Judge
from harness.runner.plan import WorkItem
from harness.runner.samples_log import SampleLog
from harness.types import ScoredSample

MAX_OUTPUT_CHARS = 100_000  # an enormous output is scored in full but stored cut to this


def batches(work: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    """Longest prompts first, so an out-of-memory error shows in the first batch."""
    ordered = sorted(work, key=lambda item: (-item.prompt_tokens, item.sample.task, item.sample.id))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def clean_output(output: object) -> str:
    """Model output as valid UTF-8 text (empty when a backend returned nothing usable)."""
    text = output if isinstance(output, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8")


def score_item(item: WorkItem, text: str, latency: float, judged: tuple[float | None, str] | None = None) -> ScoredSample:
    """Score one output with the task's metric, or with the judge's verdict when judged."""
    meta = dict(item.sample.meta)
    if judged is None:
        score = float(item.task.score(item.sample, text))
    else:
        rating, reply = judged
        score = rating if rating is not None else 0.0
        meta.update(judge_reply=reply[:2000], judge_failed=rating is None)
    return ScoredSample(
        id=item.sample.id,
        task=item.sample.task,
        length=item.sample.length,
        index=item.sample.index,
        prompt_tokens=item.prompt_tokens,
        targets=item.sample.targets,
        output=text[:MAX_OUTPUT_CHARS],
        score=score,
        latency_s=round(latency, 4),
        meta=meta,
    )


def judge_batch(judge: Judge | None, batch: list[WorkItem], texts: list[str]) -> list[tuple[float | None, str] | None]:
    """The judge's (score, reply) for items whose task is judged; None for the rest."""
    out: list[tuple[float | None, str] | None] = [None] * len(batch)
    if judge is None:
        return out
    todo = [i for i, item in enumerate(batch) if item.task.judge is not None]
    by_tokens: dict[int, list[int]] = {}
    for i in todo:
        spec = batch[i].task.judge
        assert spec is not None
        by_tokens.setdefault(spec.max_tokens, []).append(i)
    for max_tokens, indices in by_tokens.items():
        prompts = [batch[i].task.judge.prompt(batch[i].sample, texts[i]) for i in indices]  # type: ignore[union-attr]
        for i, reply in zip(indices, judge.replies(prompts, max_tokens)):
            out[i] = (batch[i].task.judge.parse(reply), reply)  # type: ignore[union-attr]
    return out


def execute(backend: Backend, work: list[WorkItem], batch_size: int, output: Path, judge: Judge | None = None) -> float:
    """Run all work through the backend (and the judge); returns wall time in seconds."""
    logs: dict[str, SampleLog] = {}
    total_tokens = 0
    started = time.perf_counter()
    with tqdm(total=len(work), desc="samples", unit="sample", dynamic_ncols=True) as bar:
        for batch in batches(work, batch_size):
            requests = [
                item.prompt_format.request(
                    item.sample.prompt, item.sample.answer_prefix, item.task.max_new_tokens_for(item.sample), item.task.stop
                )
                for item in batch
            ]
            t0 = time.perf_counter()
            generations = backend.generate(requests)
            latency = (time.perf_counter() - t0) / max(len(batch), 1)
            texts = [clean_output(g.text) for g in generations]
            verdicts = judge_batch(judge, batch, texts)
            by_task: dict[str, list[ScoredSample]] = {}
            for item, generation, text, verdict in zip(batch, generations, texts, verdicts):
                by_task.setdefault(item.task.name, []).append(score_item(item, text, latency, verdict))
                total_tokens += item.prompt_tokens + generation.output_tokens
            for task_name, records in by_task.items():
                log = logs.setdefault(task_name, SampleLog(output / "samples" / f"{task_name}.jsonl"))
                log.append(records)
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f"{total_tokens / max(elapsed, 1e-9):,.0f} tok/s")
            bar.update(len(batch))
    return time.perf_counter() - started
