"""Phases 2-4: schedule work into batches, generate, score, and stream each batch to disk."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from harness.backends.base import Backend, LoglikelihoodRequest
from harness.judge import Judge
from harness.runner.plan import WorkItem
from harness.runner.samples_log import SampleLog
from harness.types import ScoredSample

MAX_OUTPUT_CHARS = 100_000  # an enormous output is scored in full but stored cut to this


def batches(work: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    """Longest prompts first, so an out-of-memory error shows in the first batch; multiple-choice
    items after them, task by task in sample order, so a backend can reuse a task's shared prompt
    prefix (few-shot examples) from one batch to the next."""
    ordered = sorted(work, key=lambda item: (bool(item.sample.choices), -item.prompt_tokens if not item.sample.choices else 0,
                                             item.sample.task, item.sample.index, item.sample.id))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def clean_output(output: object) -> str:
    """Model output as valid UTF-8 text (empty when a backend returned nothing usable)."""
    text = output if isinstance(output, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8")


def score_item(item: WorkItem, text: str, latency: float, judged: tuple[float | None, str] | None = None,
               extra: dict[str, object] | None = None) -> ScoredSample:
    """Score one output with the task's metric, or with the judge's verdict when judged."""
    meta = {**item.sample.meta, **(extra or {})}
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
    """The judge's (score, reply) for items whose task is judged; None for the rest. The judge sees
    the output after the task's postprocessing; unreadable verdicts are asked again up to `tries`."""
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
        prompts = {i: batch[i].task.judge.prompt(batch[i].sample, batch[i].task.postprocess(texts[i])) for i in indices}  # type: ignore[union-attr]
        pending = list(indices)
        attempt = 0
        while pending:
            replies = judge.replies([prompts[i] for i in pending], max_tokens, attempt)
            for i, reply in zip(pending, replies):
                out[i] = (batch[i].task.judge.parse(reply), reply)  # type: ignore[union-attr]
            attempt += 1
            pending = [i for i in pending if out[i][0] is None and attempt < batch[i].task.judge.tries]  # type: ignore[index, union-attr]
    return out


def choose(backend: Backend, items: list[WorkItem]) -> list[tuple[str, list[float]]]:
    """Multiple choice by loglikelihood (lm-eval's `acc`): each choice as a continuation of the
    rendered prompt (after the task's target delimiter); the most likely choice and all logprobs."""
    requests = [
        LoglikelihoodRequest(item.prompt_format.render(item.sample.prompt, item.sample.answer_prefix), item.task.target_delimiter + choice)
        for item in items
        for choice in item.sample.choices
    ]
    results = iter(backend.loglikelihood(requests))
    out = []
    for item in items:
        logprobs = [next(results).logprob for _ in item.sample.choices]
        best = max(range(len(logprobs)), key=logprobs.__getitem__)
        out.append((item.sample.choices[best], [round(lp, 6) for lp in logprobs]))
    return out


def run_batch(backend: Backend, batch: list[WorkItem]) -> tuple[list[str], list[int], list[dict[str, object]]]:
    """Outputs, output token counts and extra meta for one batch: generation, or a choice by loglikelihood."""
    texts: list[str] = [""] * len(batch)
    tokens = [0] * len(batch)
    extra: list[dict[str, object]] = [{} for _ in batch]
    generate = [i for i, item in enumerate(batch) if not item.sample.choices]
    pick = [i for i, item in enumerate(batch) if item.sample.choices]
    if generate:
        requests = [
            batch[i].prompt_format.request(
                batch[i].sample.prompt, batch[i].sample.answer_prefix, batch[i].task.max_new_tokens_for(batch[i].sample), batch[i].task.stop
            )
            for i in generate
        ]
        for i, generation in zip(generate, backend.generate(requests)):
            texts[i] = clean_output(generation.text)
            tokens[i] = generation.output_tokens
    if pick:
        for i, (choice, logprobs) in zip(pick, choose(backend, [batch[i] for i in pick])):
            texts[i] = choice
            extra[i] = {"logprobs": logprobs}
    return texts, tokens, extra


def execute(backend: Backend, work: list[WorkItem], batch_size: int, output: Path, judge: Judge | None = None) -> float:
    """Run all work through the backend (and the judge); returns wall time in seconds."""
    logs: dict[str, SampleLog] = {}
    total_tokens = 0
    started = time.perf_counter()
    with tqdm(total=len(work), desc="samples", unit="sample", dynamic_ncols=True) as bar:
        for batch in batches(work, batch_size):
            t0 = time.perf_counter()
            texts, output_tokens, extras = run_batch(backend, batch)
            latency = (time.perf_counter() - t0) / max(len(batch), 1)
            verdicts = judge_batch(judge, batch, texts)
            by_task: dict[str, list[ScoredSample]] = {}
            for item, text, out_tokens, extra, verdict in zip(batch, texts, output_tokens, extras, verdicts):
                record = score_item(item, text, latency, verdict, extra)
                by_task.setdefault(item.task.name, []).append(record)
                total_tokens += item.prompt_tokens + out_tokens
            for task_name, records in by_task.items():
                log = logs.setdefault(task_name, SampleLog(output / "samples" / f"{task_name}.jsonl"))
                log.append(records)
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f"{total_tokens / max(elapsed, 1e-9):,.0f} tok/s")
            bar.update(len(batch))
    return time.perf_counter() - started
