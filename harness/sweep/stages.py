"""Sweep stages: synth -> train -> eval per variant, each keyed by the content hash of its inputs.

A stage's directory is `ROOT/stages/<kind>-<key>/`; `stage.json` there says `done` once its output
is complete, so a rerun skips it (and a variant added later reuses every stage it shares). A stage
that failed is run again. A file lock per stage keeps two workers from running the same one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from harness.errors import HarnessError
from harness.sweep.config import SweepConfig, Variant

STAGE_FILE = "stage.json"
VERSION = 1  # part of every key: bump when what a stage writes changes


@dataclass(frozen=True)
class Stage:
    """One unit of work: `kind` (synth, data, train, eval), `params` (JSON), upstream `needs`."""

    kind: str
    params: dict[str, Any]
    needs: tuple[str, ...] = ()
    resources: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        spec = {"version": VERSION, "kind": self.kind, "params": self.params, "needs": list(self.needs)}
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


def plan_variant(config: SweepConfig, variant: Variant) -> list[Stage]:
    """The stages of one variant, upstream first."""
    stages: list[Stage] = []
    model_need: tuple[str, ...] = ()
    if variant.kind != "none":
        if variant.kind == "synth":
            synth = dict(variant.synth)
            resources = synth.pop("resources", {"num_cpus": 1})
            data = Stage("synth", synth, resources=resources)
        else:
            assert variant.data is not None
            path = Path(variant.data).expanduser()
            if not path.exists():
                raise HarnessError(f"{config.source}: variant {variant.name!r}: data {path} does not exist")
            data = Stage("data", {"path": str(path.resolve()), "digest": _file_digest(path) if path.is_file() else str(path)})
        train = dict(config.train)
        train_resources = train.pop("resources", {"num_cpus": 1})
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
    path = stage_dir(root, stage_id) / STAGE_FILE
    return json.loads(path.read_text()) if path.exists() else None


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
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def run_stage(stage: Stage, root: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run `stage` unless its output is already complete; returns its stage.json. A failure is
    recorded (status failed, the error) and raised as HarnessError."""
    out = stage_dir(root, stage)
    with _locked(out):
        done = read_stage(root, stage.id)
        if done and done.get("status") == "done":
            return {**done, "cached": True}
        for need in stage.needs:
            upstream = read_stage(root, need)
            if not upstream or upstream.get("status") != "done":
                raise HarnessError(f"{stage.id}: upstream stage {need} has not finished")
        record: dict[str, Any] = {"stage": stage.to_dict(), "status": "running", "started": time.time()}
        _write(out / STAGE_FILE, record)
        log(f"{stage.id}: running")
        started = time.perf_counter()
        try:
            record["output"] = RUNNERS[stage.kind](stage.params, [stage_dir(root, n) for n in stage.needs], out)
        except BaseException as error:
            record.update(status="failed", error=f"{type(error).__name__}: {error}", traceback=traceback.format_exc(limit=8),
                          seconds=round(time.perf_counter() - started, 1))
            _write(out / STAGE_FILE, record)
            if isinstance(error, KeyboardInterrupt):
                raise
            raise HarnessError(f"{stage.id} failed: {type(error).__name__}: {error}") from error
        record.update(status="done", seconds=round(time.perf_counter() - started, 1))
        _write(out / STAGE_FILE, record)
        log(f"{stage.id}: done in {record['seconds']} s")
        return {**record, "cached": False}


def _synth(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    from synth.run import synthesize

    stats = synthesize(params["plugin"], dict(params.get("config", {})), f"sweep synth {params['plugin']}", out / "data",
                       list(params.get("corpus", [])), int(params.get("seed", 0)), params.get("generator"),
                       dict(params.get("generator_args", {})))
    return {"data": str(out / "data" / "data.jsonl"), "records": stats["records"], "llm_calls": stats["llm_calls"]}


def _data(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    return {"data": params["path"]}


def _upstream_output(need: Path) -> dict[str, Any]:
    return dict(json.loads((need / STAGE_FILE).read_text())["output"])


def _train(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    from harness.train.rope import parse_rope
    from harness.train.spec import TrainSpec, parse_lora, parse_stages
    from harness.train.trainer import train

    options = {k: v for k, v in params.items() if k not in ("base_model", "rope", "stages", "lora")}
    if "learning_rate" in options:
        options["learning_rate"] = float(options["learning_rate"])
    spec = TrainSpec(model=params["base_model"], data=_upstream_output(needs[0])["data"], stages=parse_stages(str(params["stages"])),
                     rope=parse_rope(params["rope"]) if params.get("rope") else None,
                     lora=parse_lora(params.get("lora")), **options)
    model = train(spec, out / "model")
    return {"model": str(model)}


def _eval(params: dict[str, Any], needs: list[Path], out: Path) -> dict[str, Any]:
    from harness.backends import load_backend
    from harness.lengths import parse_lengths
    from harness.paths import default_db_path
    from harness.runner import EvalConfig, evaluate
    from harness.store import Store
    from tasks import resolve

    model = params["base_model"] if not needs else _upstream_output(needs[0])["model"]
    lengths = params["lengths"]
    parsed = parse_lengths(",".join(str(n) for n in lengths) if isinstance(lengths, list) else str(lengths))
    model_args = dict(params.get("model_args", {}))
    config = EvalConfig(model=model, tasks=resolve(list(params["tasks"])), lengths=parsed, limit=params.get("limit"),
                        seed=int(params.get("seed", 42)), chat_template=params.get("chat_template", "auto"),
                        model_args=model_args, data_dir=params.get("data_dir"), task_args=dict(params.get("task_args", {})))
    backend = load_backend(model, **model_args)
    db = os.environ.get("HARNESS_DB")
    try:
        run_id, result = evaluate(config, backend, out / "eval", Store(Path(db) if db else default_db_path()))
    finally:
        backend.close()
    return {"results": str(out / "eval" / "results.json"), "run_id": run_id, "model": model}


RUNNERS: dict[str, Callable[[dict[str, Any], list[Path], Path], dict[str, Any]]] = {
    "synth": _synth, "data": _data, "train": _train, "eval": _eval}
