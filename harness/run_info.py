"""What a run's `results.json` config records beyond its fingerprint: when it ran, each task's parameters and
version, where the data came from, and a hash of the weights of a built-in model."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.limit import sample_count
from harness.tasks.base import Task
from harness.tasks.data import TaskOptions

WEIGHT_FILES = ("*.safetensors", "*.bin", "*.gguf")


def task_version(task: Task) -> int:
    """A task's version: its generator version (bumped whenever its samples change), 1 where it has none."""
    version = task.params.get("generator_version", 1)
    if not isinstance(version, (int, float, str)):
        raise HarnessError(f"task {task.name}: generator_version {version!r} is not a number")
    return int(version)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def task_info(task: Task, limit: int | float | None) -> dict[str, Any]:
    """One task's version, parameters, generation settings, sample counts, data digest and `data`: where
    its data came from (`source` file|package|hub|url|generated, `location`, `split`, `digest`)."""
    size = task.size() if task.size is not None else None
    info: dict[str, Any] = {
        "version": task_version(task),
        "params": _jsonable(task.params),
        "metric": task.metric.name,
        "higher_is_better": task.metric.higher_is_better,
        "percent": task.metric.percent,
        "max_new_tokens": task.max_new_tokens,
        "stop": list(task.stop),
        "samples_available": sample_count(None, task.num_samples, size),  # per length, before --limit
        "samples_per_length": sample_count(limit, task.num_samples, size),
    }
    if task.data_digest is not None:
        info["data_digest"] = task.data_digest()
    info["data"] = task.data().record()
    return info


def builtin_weights(model: str) -> dict[str, Any] | None:
    """For a built-in model (`tiny`, `hf:tiny`, `vllm:smollm2-135m`): its name and the sha256 of each weight file."""
    from harness.core.backends import BACKENDS
    from harness.core.models import BUILTINS

    prefix, sep, rest = model.partition(":")
    name = rest if sep and prefix in BACKENDS else model
    if name not in BUILTINS or not BUILTINS[name].built:
        return None
    directory = BUILTINS[name].path
    files = sorted({p for pattern in WEIGHT_FILES for p in directory.glob(pattern)})
    return {"builtin": name, "sha256": {p.name: _sha256(p) for p in files}}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_info(model: str, tasks: list[Task], options: TaskOptions, limit: int | float | None, started: float) -> dict[str, Any]:
    """The config fields: `date` (UTC, ISO 8601, when the run started), `data_dir` (the data root tasks read,
    `--data-dir` or HARNESS_DATA_DIR), `task_info` per task, and `model_weights` for a built-in model."""
    root = options.data_root()
    info: dict[str, Any] = {
        "date": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "data_dir": str(root.resolve()) if root is not None else None,
        "task_info": {task.name: task_info(task, limit) for task in tasks},
    }
    weights = builtin_weights(model)
    if weights is not None:
        info["model_weights"] = weights
    return info
