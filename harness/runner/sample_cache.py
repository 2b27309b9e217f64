"""Generated samples on disk, so a second model with the same tokenizer reuses them.

Keyed by the task's parameters, the data options, the tokenizer's hash, the chat template's
hash, the length and the seed (lm-eval regenerates every run). Each sample is a pure function
of its index, so a later run asking for more samples only generates the missing indices.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from harness.paths import cache_dir
from harness.prompt import PromptFormat
from harness.types import SCHEMA_VERSION, Sample
from tasks.base import Task
from tasks.data import TaskOptions


def cache_key(task: Task, options: TaskOptions, fmt: PromptFormat, length: int, seed: int) -> str:
    """The content key of one (task, length) sample set."""
    spec: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "task": task.name,
        "params": task.params,
        **({"data": task.data_digest()} if task.data_digest is not None else {}),
        "data_dir": str(options.data_root()) if options.data_root() else None,
        "task_args": options.args,
        "tokenizer": fmt.tokenizer_hash,
        "chat_template": fmt.template_hash,
        "length": length,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:24]


class SampleCache:
    """`<cache>/samples/<key>.jsonl`: one sample per line, any order, appended as generated."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "samples"

    def samples(self, task: Task, options: TaskOptions, fmt: PromptFormat, length: int, n: int, seed: int) -> list[Sample]:
        """Samples 0..n-1, generating (and storing) only the ones not cached yet."""
        path = self.root / f"{cache_key(task, options, fmt, length, seed)}.jsonl"
        have = self._read(path)
        missing = [i for i in range(n) if i not in have]
        if missing:
            fresh = [task.make_sample(fmt, length, i, seed) for i in missing]
            self._append(path, fresh)
            have.update((s.index, s) for s in fresh)
        return [have[i] for i in range(n)]

    @staticmethod
    def _read(path: Path) -> dict[int, Sample]:
        found: dict[int, Sample] = {}
        if not path.exists():
            return found
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # a torn last line from a crash: regenerate that sample
                try:
                    sample = Sample.from_dict(json.loads(line))
                except (json.JSONDecodeError, KeyError, ValueError):
                    continue
                found[sample.index] = sample
        return found

    @staticmethod
    def _append(path: Path, samples: list[Sample]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(s.to_dict(), sort_keys=True, ensure_ascii=False) + "\n" for s in samples))
            f.flush()
            os.fsync(f.fileno())
