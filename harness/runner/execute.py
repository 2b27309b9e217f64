"""Phases 2-4: schedule work into batches, generate, score, and stream each batch to disk.

A request that failed after the backend's own retries (`harness.core.backends.failures`) makes its
sample a failed record (`error`, no score) and the run goes on; a rerun into the same output
computes the failed samples again. When the backend says its server is gone, the batch in hand is
written first and the run then stops with one line.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from harness.core.backends.base import Backend, LoglikelihoodRequest
from harness.core.backends.failures import RequestFailure, settle
from harness.core.errors import HarnessError
from harness.core.lengths import format_length
from harness.core.redaction import redact_text
from harness.core.thinking import Thinking
from harness.core.types import Message, ScoredSample
from harness.judge import Judge
from harness.runner.generations import BatchOutput, finish, limit_meta
from harness.runner.plan import WorkItem
from harness.runner.samples_log import SampleLog
from harness.runner.schedule import Schedule, units
from harness.tasks.base import JudgeSpec

MAX_OUTPUT_CHARS = 100_000  # an enormous output is scored in full but stored cut to this
MAX_ERROR_CHARS = 300  # a failed sample's reason, as stored
MAX_JUDGE_REPLY_CHARS = 2000  # a judge's reply, as stored


def clean_output(output: object) -> str:
    """Model output as valid UTF-8 text (empty when a backend returned nothing usable)."""
    text = output if isinstance(output, str) else ""
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class Judged:
    """The judge's score of one output (None: no readable verdict, scored 0 and counted as `judge_failed`) and
    what its sample records of it: the reply, or each sub-verdict of a several-prompt judge."""

    score: float | None
    meta: dict[str, object]


def score_item(item: WorkItem, text: str, latency: float, judged: Judged | None = None,
               extra: dict[str, object] | None = None) -> ScoredSample:
    """Score one output with the task's metric, or with the judge's verdict when judged."""
    meta = {**item.sample.persisted_meta(), **(extra or {})}
    if judged is None:
        score, parts = item.task.scored(item.sample, text)
        meta.update(parts)
    else:
        score = judged.score if judged.score is not None else 0.0
        meta.update(judged.meta)
    return _record(item, text[:MAX_OUTPUT_CHARS], score, latency, meta)


def failed_item(item: WorkItem, error: str, latency: float) -> ScoredSample:
    """The record of a sample that got no usable answer: no output, no score (it is left out of the
    aggregates), the reason (short, without secrets)."""
    return _record(item, "", 0.0, latency, item.sample.persisted_meta(), error=redact_text(error)[:MAX_ERROR_CHARS])


def _record(item: WorkItem, output: str, score: float, latency: float, meta: dict[str, object],
            error: str | None = None) -> ScoredSample:
    """The persisted record of one work item."""
    return ScoredSample(
        id=item.sample.id,
        task=item.sample.task,
        length=item.sample.length,
        index=item.sample.index,
        prompt_tokens=item.prompt_tokens,
        targets=item.sample.targets,
        output=output,
        score=score,
        latency_s=round(latency, 4),
        meta=meta,
        sample_cache=item.sample_cache,
        error=error,
    )


@dataclass(frozen=True)
class _Ask:
    """One judge prompt of a batch: the item it judges, its name (a several-prompt judge's), messages and parser."""

    index: int
    name: str
    prompt: list[Message]
    parse: Callable[[str], object | None]
    spec: JudgeSpec


def _asks(batch: list[WorkItem], texts: list[str], errors: list[str | None]) -> list[_Ask]:
    """Every judge prompt of the batch's judged, unfailed items (a single-prompt judge's under the name "")."""
    asks: list[_Ask] = []
    for i, item in enumerate(batch):
        spec = item.task.judge
        if spec is None or errors[i] is not None:
            continue
        output = item.task.postprocess(texts[i])
        if spec.multi is not None:
            asks += [_Ask(i, call.name, call.prompt, call.parse, spec) for call in spec.multi.calls(item.sample, output)]
        elif spec.prompt is not None and spec.parse is not None:
            asks.append(_Ask(i, "", spec.prompt(item.sample, output), spec.parse, spec))
    return asks


def judge_batch(judge: Judge | None, batch: list[WorkItem], texts: list[str], errors: list[str | None]) -> list[Judged | None]:
    """The judge's verdict for items whose task is judged; None for the rest. The judge sees the output after the
    task's postprocessing; all the batch's judge prompts (several per item for a several-prompt judge) go to the
    judge in one call per `max_tokens`; unreadable verdicts are asked again up to `tries`. Items already failed
    are not judged; a judge call that fails marks its item failed in `errors`."""
    out: list[Judged | None] = [None] * len(batch)
    if judge is None:
        return out
    by_tokens: dict[int, list[_Ask]] = {}
    for ask in _asks(batch, texts, errors):
        by_tokens.setdefault(ask.spec.max_tokens, []).append(ask)
    got: dict[int, dict[str, tuple[object | None, str]]] = {}
    for max_tokens, asks in by_tokens.items():
        verdicts = judge.verdicts([a.prompt for a in asks], max_tokens, [a.parse for a in asks], [a.spec.tries for a in asks])
        for ask, verdict in zip(asks, verdicts):
            if isinstance(verdict, RequestFailure):
                errors[ask.index] = errors[ask.index] or f"judge: {verdict.reason}"
            else:
                got.setdefault(ask.index, {})[ask.name] = verdict
    for i, named in got.items():
        spec = batch[i].task.judge
        if errors[i] is not None or spec is None:
            continue
        if spec.multi is None:
            rating, reply = named[""]
            score = float(rating) if isinstance(rating, (int, float)) else None
            out[i] = Judged(score, {"judge_reply": reply[:MAX_JUDGE_REPLY_CHARS], "judge_failed": score is None})
            continue
        readings = {name: reading if isinstance(reading, dict) else None for name, (reading, _) in named.items()}
        score, details = spec.multi.combine(batch[i].sample, readings)
        verdicts_meta = {name: {"reading": reading, "reply": reply[:MAX_JUDGE_REPLY_CHARS]} for name, (reading, reply) in named.items()}
        out[i] = Judged(score, {"judge_verdicts": verdicts_meta, "judge_details": details, "judge_failed": score is None})
    return out


def choose(backend: Backend, items: list[WorkItem]) -> tuple[list[tuple[str, list[float]] | RequestFailure], str | None]:
    """Multiple choice by loglikelihood (lm-eval's `acc`): each choice as a continuation of the
    rendered prompt (after the task's target delimiter); the most likely choice and all logprobs, or
    the failure of one of the item's requests; and the backend's reason to stop the run, if any."""
    requests = [
        LoglikelihoodRequest(item.prompt_format.render(item.sample.prompt, item.sample.answer_prefix), item.task.target_delimiter + choice)
        for item in items
        for choice in item.sample.choices
    ]
    answers, abort = settle(backend.loglikelihood, requests)
    results = iter(answers)
    out: list[tuple[str, list[float]] | RequestFailure] = []
    for item in items:
        mine = [next(results) for _ in item.sample.choices]
        failure = next((a for a in mine if isinstance(a, RequestFailure)), None)
        if failure is not None:
            out.append(failure)
            continue
        logprobs = [a.logprob for a in mine if not isinstance(a, RequestFailure)]
        best = max(range(len(logprobs)), key=logprobs.__getitem__)
        out.append((item.sample.choices[best], [round(lp, 6) for lp in logprobs]))
    return out, abort


def run_batch(backend: Backend, batch: list[WorkItem]) -> BatchOutput:
    """Outputs, output token counts, extra meta and failures for one batch: generation, or a choice by loglikelihood."""
    texts: list[str] = [""] * len(batch)
    tokens = [0] * len(batch)
    extra: list[dict[str, object]] = [{} for _ in batch]
    errors: list[str | None] = [None] * len(batch)
    aborts: list[str] = []
    generate = [i for i, item in enumerate(batch) if not item.sample.choices]
    pick = [i for i, item in enumerate(batch) if item.sample.choices]
    if generate:
        requests = [
            batch[i].prompt_format.request(
                batch[i].sample.prompt, batch[i].sample.answer_prefix, batch[i].task.max_new_tokens_for(batch[i].sample), batch[i].task.stop
            )
            for i in generate
        ]
        generations, abort = settle(backend.generate, requests)
        aborts += [abort] if abort else []
        for i, generation in zip(generate, generations):
            if isinstance(generation, RequestFailure):
                errors[i] = generation.reason
            else:
                texts[i] = clean_output(generation.text)
                tokens[i] = generation.output_tokens
                extra[i] = limit_meta(generation)
    if pick:
        chosen, abort = choose(backend, [batch[i] for i in pick])
        aborts += [abort] if abort else []
        for i, picked in zip(pick, chosen):
            if isinstance(picked, RequestFailure):
                errors[i] = picked.reason
            else:
                texts[i], extra[i] = picked[0], {"logprobs": picked[1]}
    return BatchOutput(texts, tokens, extra, errors, aborts[0] if aborts else None)


def batch_label(batch: list[WorkItem]) -> str:
    """What the bar says is running: the batch's task and length, and how many other task x length cells it mixes in."""
    cells = list(dict.fromkeys((item.sample.task, item.sample.length) for item in batch))
    task, length = cells[0]
    return f"{task} {format_length(length)}" + (f" (+{len(cells) - 1} more)" if len(cells) > 1 else "")


class Sink:
    """Where finished batches go: scored (and judged), appended to the samples log, counted on the progress bar.
    Thread-safe: the workers of a `--replicas` run share one sink, the one writer of the samples log."""

    def __init__(self, output: Path, judge: Judge | None, thinking: Thinking, bar: tqdm[Any]) -> None:
        self.output = output
        self.judge = judge
        self.thinking = thinking
        self.bar = bar
        self.logs: dict[str, SampleLog] = {}
        self.total_tokens = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._write = threading.Lock()
        self._judging = threading.Lock()

    def run(self, backend: Backend, batch: list[WorkItem],
            requeue: Callable[[list[WorkItem]], None] | None = None) -> tuple[str | None, bool]:
        """Run one batch on `backend` and record it; returns the reason to stop the run, if any, and whether it is the
        backend's own (its server gone: other workers can go on) rather than the judge's. With `requeue` (other
        workers are left), a gone backend's failed items are handed back to them instead of recorded as failed."""
        self.bar.set_description_str(batch_label(batch), refresh=True)
        t0 = time.perf_counter()
        done = finish(backend, batch, run_batch(backend, batch), self.thinking)
        latency = (time.perf_counter() - t0) / max(len(batch), 1)
        with self._judging:  # one judge (its cache a database) for every worker
            verdicts = judge_batch(self.judge, batch, done.answers, done.errors)
        judge_abort = self.judge.abort if self.judge is not None else None
        abort = judge_abort or done.abort
        handed_back = [item for item, error in zip(batch, done.errors) if error is not None] \
            if done.abort and not judge_abort and requeue else []
        records: list[tuple[WorkItem, ScoredSample, int]] = []
        for item, text, answer, out_tokens, extra, verdict, error in zip(batch, done.texts, done.answers, done.tokens,
                                                                         done.extra, verdicts, done.errors):
            if handed_back and error is not None:
                continue
            record = failed_item(item, error, latency) if error is not None else \
                replace(score_item(item, answer, latency, verdict, extra), output=text[:MAX_OUTPUT_CHARS])
            records.append((item, record, out_tokens))
        self.record(records)
        if handed_back and requeue is not None:
            requeue(handed_back)
        return abort, abort is not None and not judge_abort

    def record(self, records: list[tuple[WorkItem, ScoredSample, int]]) -> None:
        """Append the records durably, task by task, and move the bar."""
        with self._write:
            by_task: dict[str, list[ScoredSample]] = {}
            for item, record, out_tokens in records:
                by_task.setdefault(item.task.name, []).append(record)
                self.total_tokens += item.prompt_tokens + out_tokens
                self.failed += record.error is not None
            for task_name, scored in by_task.items():
                log = self.logs.setdefault(task_name, SampleLog(self.output / "samples" / f"{task_name}.jsonl"))
                log.append(scored)
            elapsed = time.perf_counter() - self.started
            self.bar.set_postfix_str(f"{self.total_tokens / max(elapsed, 1e-9):,.0f} tok/s" +
                                     (f", {self.failed} failed" if self.failed else ""))
            self.bar.update(len(records))

    def stop(self, abort: str) -> HarnessError:
        """The error a run stops with when its (last) backend is gone."""
        return HarnessError(f"{abort}; the finished samples are kept in {self.output}: rerun the same command to continue")


def execute(backend: Backend, work: list[WorkItem], batch_size: int, output: Path, judge: Judge | None = None,
            thinking: Thinking = Thinking(), schedule: Schedule = "length") -> float:
    """Run all work through the backend (and the judge), unit by unit in the `schedule`'s order; returns wall time in
    seconds. Failed samples are written as such; when the backend says its server is gone the batch is written, then a
    HarnessError. The answers scored are the outputs without their thinking, after any follow-up (`generations.finish`)."""
    started = time.perf_counter()
    with tqdm(total=len(work), desc="samples", unit="sample", dynamic_ncols=True) as bar:
        sink = Sink(output, judge, thinking, bar)
        for unit in units(work, batch_size, schedule):
            for batch in unit:
                abort, _ = sink.run(backend, batch)
                if abort:
                    raise sink.stop(abort)
    return time.perf_counter() - started
