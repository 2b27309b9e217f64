"""Sweep stages: synth -> train -> eval per variant and replicate, each keyed by the content hash of its inputs.

A stage's directory is `ROOT/stages/<kind>-<key>/`; `stage.json` there says `done` once its output
is complete, so a rerun skips it (and a variant added later reuses every stage it shares). A stage
that failed is run again. A file lock per stage keeps two workers from running the same one.
Replicate k >= 1 of a variant differs from replicate 0 only by `seed` in its train stage's parameters
(and in its synth stage's, with `replicate_synth`): replicate 0's keys are those of a sweep without
replicates, and every replicate's eval stage has the same eval parameters, so it scores the same samples.
`stage.json` (`harness.core.records.StageRecord`) holds the parameters with secrets redacted (the key hashes
the real ones, which only the running stage sees).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.core.errors import HarnessError
from harness.core.jsonl import stderr_report
from harness.core.records import RecordVersionError, StageRecord
from harness.core.redaction import redact, redact_text
from harness.sweep.config import SweepConfig, Variant, eval_config, train_spec

STAGE_FILE = "stage.json"
VERSION = 1  # part of every key: bump when what a stage writes changes
UNKEYED = ("report_to",)  # parameters that change no output (experiment trackers): left out of the key
ChainKey = tuple[str, int]  # (variant, replicate): one chain of stages, upstream first


@dataclass(frozen=True)
class Stage:
    """One unit of work: `kind` (synth, data, train, eval), `params` (JSON), upstream `needs`."""

    kind: str
    params: dict[str, Any]
    needs: tuple[str, ...] = ()
    resources: dict[str, float] = field(default_factory=dict)
    label: str = field(default="", compare=False)  # what logs and sweep.json call it: "stage 2 of 6: train needles-1k"

    @property
    def key(self) -> str:
        params = {k: v for k, v in self.params.items() if k not in UNKEYED}
        spec = {"version": VERSION, "kind": self.kind, "params": params, "needs": list(self.needs)}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.key}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "key": self.key}


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def plan_sweep(config: SweepConfig, variants: list[Variant]) -> dict[ChainKey, list[Stage]]:
    """Every replicate's chain, replicate-major (all replicates 0 first: a sweep stopped midway leaves
    whole boards of fewer replicates, not some variants with all of theirs and others with none)."""
    most = max((config.replicates_of(v) for v in variants), default=0)
    return {(v.name, k): plan_variant(config, v, k) for k in range(most) for v in variants if k < config.replicates_of(v)}


def plan_variant(config: SweepConfig, variant: Variant, replicate: int = 0) -> list[Stage]:
    """The stages of one replicate of one variant, upstream first."""
    stages: list[Stage] = []
    model_need: tuple[str, ...] = ()
    train_seed, synth_seed = config.seeds(variant, replicate)
    if variant.kind != "none":
        if variant.kind == "synth":
            synth = dict(variant.synth)
            resources = synth.pop("resources", {"num_cpus": 1})
            if replicate and config.synth_per_replicate:  # replicate 0 keeps the params (and key) it had without replicates
                synth["seed"] = synth_seed
            data = Stage("synth", synth, resources=resources)
        else:
            assert variant.data is not None
            path = Path(variant.data).expanduser()
            if not path.exists():
                raise HarnessError(f"{config.source}: variant {variant.name!r}: data {path} does not exist")
            data = Stage("data", {"path": str(path.resolve()), "digest": _file_digest(path) if path.is_file() else str(path)})
        if config.measures_data:  # a data sweep: the synthesis is the replicate's result
            return [data]
        train = config.train_of(variant)
        train_resources = train.pop("resources", {"num_cpus": 1})
        if replicate:
            train["seed"] = train_seed
        stages += [data, Stage("train", {"base_model": config.base_model, **train}, (data.id,), train_resources)]
        model_need = (stages[-1].id,)
    evaluation = dict(config.eval)
    eval_resources = evaluation.pop("resources", {"num_cpus": 1})
    stages.append(Stage("eval", {"base_model": config.base_model if not model_need else None, **evaluation}, model_need,
                        eval_resources))
    return stages


def stage_dir(root: Path, stage: Stage | str) -> Path:
    return root / "stages" / (stage if isinstance(stage, str) else stage.id)


def read_stage(root: Path, stage_id: str) -> dict[str, Any] | None:
    """The stage's `stage.json`; None when there is none, or when it cannot be read (reported on stderr):
    the stage then counts as not run, and runs again (resuming from what its own output kept)."""
    path = stage_dir(root, stage_id) / STAGE_FILE
    if not path.exists():
        return None
    try:
        return StageRecord.read(path).to_dict()
    except RecordVersionError:
        raise  # written by a newer lc-harness: not run over
    except HarnessError as error:
        stderr_report(f"{error}; the stage will run again")
        return None


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(path: Path, data: dict[str, Any]) -> None:
    StageRecord.parse(data, str(path)).write(path)  # harness.core.records: typed, versioned, redacted


def run_stage(stage: Stage, root: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run `stage` unless its output is already complete; returns its stage.json. A failure is
    recorded (status failed, the error) and raised as HarnessError."""
    out = stage_dir(root, stage)
    with _locked(out):
        done = read_stage(root, stage.id)
        name = f"{stage.label} ({stage.id})" if stage.label else stage.id
        if done and done.get("status") == "done":
            log(f"{name}: done before, reused")
            return {**done, "cached": True}
        for need in stage.needs:
            upstream = read_stage(root, need)
            if not upstream or upstream.get("status") != "done":
                raise HarnessError(f"{stage.id}: upstream stage {need} has not finished")
        record: dict[str, Any] = {"stage": stage.to_dict(), "status": "running", "started": time.time()}
        _write(out / STAGE_FILE, record)
        log(f"{name}: running")
        started = time.perf_counter()
        try:
            record["output"] = RUNNERS[stage.kind](stage.params, [stage_dir(root, n) for n in stage.needs], out)
        except BaseException as error:
            record.update(status="failed", error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc(limit=8),
                          seconds=round(time.perf_counter() - started, 1))
            _write(out / STAGE_FILE, record)
            if isinstance(error, KeyboardInterrupt):
                raise
            raise HarnessError(redact_text(f"{stage.id} failed: {type(error).__name__}: {error}")) from error
        record.update(status="done", seconds=round(time.perf_counter() - started, 1))
        _write(out / STAGE_FILE, record)
        log(f"{name}: done in {record['seconds']} s")
        return {**redact(record), "cached": False}


def _synth(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    from harness.synth.run import synthesize

    stats = synthesize(params["plugin"], dict(params.get("config", {})), f"sweep synth {params['plugin']}", out / "data",
                       list(params.get("corpus", [])), int(params.get("seed", 0)), params.get("generator"),
                       dict(params.get("generator_args", {})))
    return {"data": str(out / "data" / "data.jsonl"), "records": stats["records"], "llm_calls": stats["llm_calls"],
            "results": str(out / "data" / "stats.json")}  # a data sweep's result: the synthesis's statistics


def _data(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    return {"data": params["path"]}


def _upstream_output(need: Path) -> dict[str, Any]:
    output = StageRecord.read(need / STAGE_FILE).output
    if output is None:
        raise HarnessError(f"{need / STAGE_FILE}: the stage has no output (it has not finished)")
    return dict(output)


def _train(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    from harness.train.trainer import train

    spec = train_spec(params, params["base_model"], _upstream_output(needs[0])["data"], "train stage")
    return {"model": str(train(spec, out / "model"))}


def _eval(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    """The same preparation as `harness eval` (`harness.runner.prepare`): backend, judge, output claimed."""
    from harness.runner.prepare import prepare, run

    model = params["base_model"] if not needs else _upstream_output(needs[0])["model"]
    run_id, _ = run(prepare(eval_config(params, model, "eval stage"), out / "eval"))
    return {"results": str(out / "eval" / "results.json"), "run_id": run_id, "model": model}


RUNNERS: dict[str, Callable[[dict[str, Any], list[Path], Path], dict[str, Any]]] = {
    "synth": _synth, "data": _data, "train": _train, "eval": _eval}
