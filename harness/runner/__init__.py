"""The runner: build samples -> schedule -> generate -> score -> aggregate -> persist.

Each phase is its own module; `evaluate` only strings them together. A rerun into the same
output directory computes only the samples that are missing or failed (a request that failed
after the backend's retries); a failed sample's retry, appended later, supersedes its record.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.core.backends.base import Backend
from harness.core.errors import HarnessError
from harness.core.outputs import OutputLock, ensure_dir, lock_output
from harness.core.prompt import ChatMode, PromptFormat
from harness.core.provenance import environment
from harness.core.records import RunRecord
from harness.core.redaction import redact
from harness.core.specs import BackendSpec, JudgeSpec
from harness.core.thinking import DEFAULT_MARKERS, Budget, Thinking
from harness.core.types import ScoredSample
from harness.judge import Judge
from harness.lmeval_export import write_lm_eval
from harness.results import Result, aggregate, group_scores
from harness.run_info import run_info
from harness.runner.dispatch import WorkerStats, execute_replicas
from harness.runner.execute import execute
from harness.runner.loading import LoadingBackend
from harness.runner.plan import build_work, check_budgets, check_lengths
from harness.runner.replicas import ReplicaBackend
from harness.runner.sample_cache import SampleCache
from harness.runner.samples_log import SampleLog
from harness.runner.schedule import check_schedule
from harness.store import Store
from harness.tasks import GROUPS, get_task
from harness.tasks.data import TaskOptions
from harness.tasks.options import resolve_task_args

RUN_FILE = "run.json"


@dataclass(frozen=True)
class EvalConfig:
    """Everything that defines an evaluation: the one schema `harness eval`, `harness.evaluate` and the sweep's
    eval section all load into (`harness.runner.prepare.eval_config`). `run.json` fingerprints the first fields;
    the evaluated model is `backend` (a `BackendSpec` of `model`, `model_args` and the options after them)."""

    model: str
    tasks: list[str]
    lengths: list[int]
    limit: int | float | None = None  # a count, or a fraction of each task's samples (harness.core.limit)
    seed: int = 42
    chat_template: ChatMode = "auto"
    model_args: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None
    task_args: dict[str, Any] = field(default_factory=dict)
    max_new_tokens: int | None = None  # the answer budget of every task (None: each task's own)
    max_think_tokens: int = 0  # a reasoning model's thinking budget, added to the answer's (0: not a reasoning model)
    think_markers: tuple[str, str] = DEFAULT_MARKERS  # think blocks stripped before scoring when max_think_tokens > 0
    use_sample_cache: bool = True
    # how the model loads, not what is evaluated: outside the fingerprint (`--device` is recorded in `model_args`)
    batch_size: int | str | None = None
    base_url: str | None = None
    tokenizer: str | None = None
    judge: JudgeSpec | None = None  # scores the judged tasks; its name enters the fingerprint
    max_length: bool = False  # `max` among the lengths: the model's own max length, added once it loads
    # how the work is spread and ordered, not what is computed: outside the fingerprint (harness.runner.schedule)
    replicas: int = 1  # model workers sharing the samples (harness.runner.replicas)
    executor: str = "local"  # where they run: local processes, or actors on a Ray cluster
    ray_address: str | None = None  # the Ray cluster to join (None: a local one)
    schedule: str = "prefix"  # prefix: samples sharing a prompt prefix together, longest first; length: the old order

    @property
    def backend(self) -> BackendSpec:
        """The evaluated model as a `BackendSpec`."""
        return BackendSpec(self.model, dict(self.model_args), base_url=self.base_url, tokenizer=self.tokenizer,
                           batch_size=self.batch_size)

    def task_options(self) -> TaskOptions:
        return TaskOptions(data_dir=Path(self.data_dir) if self.data_dir else None, args=self.task_args)

    @property
    def budget(self) -> Budget:
        """The run's generation budgets (`--max-new-tokens`, `--max-think-tokens`)."""
        return Budget(self.max_new_tokens, self.max_think_tokens)

    @property
    def thinking(self) -> Thinking:
        """How outputs are read before scoring (think blocks stripped when there is a thinking budget)."""
        return Thinking(self.max_think_tokens, self.think_markers)


def fingerprint(config: EvalConfig, backend: Backend, tokenizer_name: str, template_hash: str | None) -> dict[str, Any]:
    """What must match for a rerun to reuse finished samples in the same output directory."""
    return {
        "model": config.model,
        "backend": backend.name,
        "model_args": config.model_args,
        "seed": config.seed,
        "chat_template": config.chat_template,
        "chat_template_hash": template_hash,
        "tokenizer": tokenizer_name,
        "task_args": config.task_args,
        # only when set: the fingerprints of runs made before these budgets existed stay the same
        **({"max_new_tokens": config.max_new_tokens} if config.max_new_tokens is not None else {}),
        **({"max_think_tokens": config.max_think_tokens, "think_markers": list(config.think_markers)}
           if config.max_think_tokens else {}),
    }


def run_id_for(print_: dict[str, Any], output: Path) -> str:
    """Stable id: the same config into the same directory is the same run."""
    key = json.dumps(print_, sort_keys=True) + "|" + str(output.resolve())
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def claim_output(output: Path, print_: dict[str, Any]) -> None:
    """Create the output dir, or check that an existing one holds a run of the same config."""
    ensure_dir(output, "--output directory")
    run_file = output / RUN_FILE
    if run_file.exists():
        previous = read_run_file(run_file)
        for key, value in print_.items():
            if previous.get(key) != value:
                raise HarnessError(
                    f"{output} holds a run with a different {key} ({previous.get(key)!r}, now {value!r}); "
                    "choose another --output"
                )
    else:  # written whole or not at all: a run killed here must not leave a run.json that blocks every rerun
        RunRecord(print_).write(run_file)


def read_run_file(path: Path) -> dict[str, Any]:
    """The config fingerprint recorded in an output directory's run.json; a file that is not one is an error
    naming it (the samples beside it are left alone)."""
    return RunRecord.read(path).fingerprint  # harness.core.records: its shape and version checked


def evaluate(config: EvalConfig, backend: Backend, output: Path, store: Store | None,
             judge: Judge | None = None, lock: OutputLock | None = None) -> tuple[str, Result]:
    """Run `config` on `backend`, writing samples and results under `output`; returns (run id, result).

    With a `judge`, tasks that define a judge are scored by it instead of their metric. The output directory is
    locked for the whole run (a second process writing it is refused); `lock` is the caller's when it took it
    already (`harness.api.prepare` does, before loading the model)."""
    if lock is not None and lock.holds(output):
        return _evaluate(config, backend, output, store, judge)
    with lock_output(output):
        return _evaluate(config, backend, output, store, judge)


def _evaluate(config: EvalConfig, backend: Backend, output: Path, store: Store | None,
              judge: Judge | None) -> tuple[str, Result]:
    started = time.perf_counter()
    started_at = time.time()
    options = config.task_options()
    resolve_task_args(config.tasks, config.task_args)  # every key reaches a task that declares it
    tasks = [get_task(name, options).with_budget(config.budget) for name in config.tasks]
    loading = isinstance(backend, LoadingBackend)  # its max length is known once the model is in
    if not loading and any(not t.short for t in tasks):  # short-context tasks run at their own length
        check_lengths(config.lengths, backend.max_length, config.model)
    check_budgets(tasks, config.lengths)
    unjudged = [t.name for t in tasks if t.judge is not None and t.judge.required and judge is None]
    if unjudged:
        raise HarnessError(f"{', '.join(unjudged)} is scored by an LLM judge: pass --judge MODEL "
                           "(a built-in, a checkpoint, or openai:NAME with --judge-base-url)")
    tokenizer = backend.tokenizer

    # the samples first: they need only the tokenizer (an hf model may still be loading, harness.runner.loading)
    done = {r.id for t in tasks for r in SampleLog(output / "samples" / f"{t.name}.jsonl").read() if not r.failed}
    t0 = time.perf_counter()
    cache = SampleCache() if config.use_sample_cache else None
    plan = build_work(tasks, config.lengths, config.limit, config.seed, tokenizer, config.chat_template, done,
                      options, cache)
    work = plan.work
    build_s = time.perf_counter() - t0

    if loading and any(not t.short for t in tasks):
        check_lengths(config.lengths, backend.max_length, config.model)
    tokenizer_name = getattr(tokenizer, "name_or_path", None) or "none"
    template_hash = PromptFormat.create(tokenizer, config.chat_template).template_hash
    print_ = fingerprint(config, backend, str(tokenizer_name), template_hash)
    if judge is not None:
        print_["judge"] = judge.name
    print_ = redact(print_)  # what is written (run.json, results, the database) holds no key; the backend keeps it
    claim_output(output, print_)
    schedule = check_schedule(config.schedule)
    workers: list[WorkerStats] = []
    if isinstance(backend, ReplicaBackend):
        generate_s, workers = execute_replicas(backend.lanes, work, backend.batch_hint, output, judge, config.thinking,
                                               schedule) if work else (0.0, [])
    else:
        generate_s = execute(backend, work, backend.batch_hint, output, judge, config.thinking, schedule) if work else 0.0

    wanted = {(t.name, length) for t in tasks for length in t.lengths_for(config.lengths)}
    records: list[ScoredSample] = []
    for task in tasks:
        records += [r for r in SampleLog(output / "samples" / f"{task.name}.jsonl").read(report=False) if (r.task, r.length) in wanted]
    order = {task.name: i for i, task in enumerate(tasks)}  # one order whatever order the samples were computed in
    records = sorted(latest_records(records), key=lambda r: (order[r.task], r.length, r.index, r.id))
    table = aggregate(tasks, records, config.lengths, plan.skipped)
    reports = {
        task.name: report
        for task in tasks
        if task.report is not None
        and (report := task.report([r for r in records if r.task == task.name and not r.failed], output))
    }
    run_config = redact({
        **print_,
        **backend.describe(),
        "model": config.model,
        "tasks": config.tasks,
        "lengths": config.lengths,
        "limit": config.limit,
        **run_info(config.model, tasks, options, config.limit, started_at),
        "environment": environment(),
        **(judge.describe() if judge is not None else {}),
        "timings": {
            "build_samples_s": round(build_s, 3),
            "generate_s": round(generate_s, 3),
            "total_s": round(time.perf_counter() - started, 3),
            "samples_computed": len(work),
            "samples_reused": len(records) - len(work),
            "schedule": schedule,
            **({"replicas": len(backend.lanes), "executor": config.executor, "workers": [w.to_dict() for w in workers]}
               if isinstance(backend, ReplicaBackend) else {}),
        },
    })
    result = Result(results=table, groups=group_scores(table, dict(GROUPS.items())), config=run_config,
                    extra={"reports": reports} if reports else {})
    result.write(output / "results.json")
    write_lm_eval(result, output)  # the same results in lm-evaluation-harness's layout
    run_id = run_id_for(print_, output)
    if store is not None:
        store.record(run_id, result, output)
    return run_id, result


def latest_records(records: list[ScoredSample]) -> list[ScoredSample]:
    """One record per sample id, in first-seen order: the last answered one, else the last failed one
    (a rerun appends the retry of a failed sample after its failed record)."""
    chosen: dict[str, ScoredSample] = {}
    for record in records:
        previous = chosen.get(record.id)
        if previous is None or previous.failed or not record.failed:
            chosen[record.id] = record
    return list(chosen.values())


__all__ = ["EvalConfig", "evaluate", "asdict"]
