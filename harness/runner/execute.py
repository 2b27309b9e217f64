"""Phases 2-4: schedule work into batches, generate, score, and stream each batch to disk."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from harness.backends.base import Backend
from harness.runner.plan import WorkItem
from harness.runner.samples_log import SampleLog
from harness.types import ScoredSample

MAX_OUTPUT_CHARS = 100_000  # an enormous output is scored in full but stored cut to this


def batches(work: list[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    """Longest prompts first, so an out-of-memory error shows in the first batch."""
    ordered = sorted(work, key=lambda item: (-item.prompt_tokens, item.sample.task, item.sample.id))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def score_item(item: WorkItem, output: str, latency: float) -> ScoredSample:
    """Score one output; never raises on odd text (empty, huge, undecodable)."""
    text = output if isinstance(output, str) else ""
    text = text.encode("utf-8", "replace").decode("utf-8")
    score = float(item.task.score(item.sample, text))
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
        meta=item.sample.meta,
    )


def execute(backend: Backend, work: list[WorkItem], batch_size: int, output: Path) -> float:
    """Run all work through the backend; returns generation wall time in seconds."""
    logs: dict[str, SampleLog] = {}
    total_tokens = 0
    started = time.perf_counter()
    with tqdm(total=len(work), desc="samples", unit="sample", dynamic_ncols=True) as bar:
        for batch in batches(work, batch_size):
            requests = [
                item.prompt_format.request(
                    item.sample.prompt, item.sample.answer_prefix, item.task.max_new_tokens, item.task.stop
                )
                for item in batch
            ]
            t0 = time.perf_counter()
            generations = backend.generate(requests)
            latency = (time.perf_counter() - t0) / max(len(batch), 1)
            by_task: dict[str, list[ScoredSample]] = {}
            for item, generation in zip(batch, generations):
                by_task.setdefault(item.task.name, []).append(score_item(item, generation.text, latency))
                total_tokens += item.prompt_tokens + generation.output_tokens
            for task_name, records in by_task.items():
                log = logs.setdefault(task_name, SampleLog(output / "samples" / f"{task_name}.jsonl"))
                log.append(records)
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f"{total_tokens / max(elapsed, 1e-9):,.0f} tok/s")
            bar.update(len(batch))
    return time.perf_counter() - started
