"""Generated samples on disk, so a second model with the same tokenizer reuses them.

Keyed by the task's parameters, its own options (`Task.options`) and data directory, the tokenizer's hash, the chat template's
hash, the length and the seed (lm-eval regenerates every run). Each sample is a pure function
of its index, so a later run asking for more samples only generates the missing indices, and a
line that cannot be trusted (bad, or its digest does not match) is simply generated again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from harness.core.jsonl import BadRecord, append_jsonl, expect, expect_messages, expect_strings, read_jsonl, stderr_report
from harness.core.paths import cache_dir
from harness.core.prompt import PromptFormat
from harness.core.types import SCHEMA_VERSION, Sample
from harness.tasks.base import Task
from harness.tasks.data import TaskOptions


def cache_key(task: Task, options: TaskOptions, fmt: PromptFormat, length: int, seed: int) -> str:
    """The content key of one (task, length) sample set."""
    spec: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "task": task.name,
        "params": task.params,
        **({"data": task.data_digest()} if task.data_digest is not None else {}),
        "data_dir": str(options.data_root()) if options.data_root() else None,
        "task_args": task.options.given,  # the task's own options only: a niah-only argument leaves RULER's key alone
        "tokenizer": fmt.tokenizer_hash,
        "chat_template": fmt.template_hash,
        "length": length,
        "seed": seed,
        # a run's --max-new-tokens / --max-think-tokens resize the prompts (absent by default: older keys stay valid)
        **({"budget": task.budget.key()} if task.budget.key() and not task.short else {}),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:24]


class SampleCache:
    """`<cache>/samples/<key>.jsonl`: one sample per line, any order, appended as generated.

    Each line carries `digest`, the SHA-256 of the cache key and the line's other fields: a line whose
    digest does not match (edited, moved from another entry, or written before lines had one) is
    reported and generated again, never used. A line that is not a sample costs that sample only."""

    def __init__(self, root: Path | None = None, report: Callable[[str], None] = stderr_report) -> None:
        self.root = root or cache_dir() / "samples"
        self.report = report
        self.failed = False  # a cache that cannot be read or written is said once, then only costs the building

    def samples(self, task: Task, options: TaskOptions, fmt: PromptFormat, length: int, n: int, seed: int) -> list[Sample]:
        """Samples 0..n-1, generating (and storing) only the ones not cached yet. A sample cache that
        cannot be read or written (a read-only or misplaced cache dir, a full disk) is only a cache:
        the samples are built, and the run goes on."""
        key = cache_key(task, options, fmt, length, seed)
        path = self.root / f"{key}.jsonl"
        try:
            have = read_entries(path, key, repair=True)
        except OSError as error:
            self._failed(path, "read", error)
            have = {}
        missing = [i for i in range(n) if i not in have]
        if missing:
            fresh = [task.make_sample(fmt, length, i, seed) for i in missing]
            try:
                append_jsonl(path, (entry_line(key, s) for s in fresh))
            except OSError as error:
                self._failed(path, "written", error)
            have.update((s.index, s) for s in fresh)
        return [have[i] for i in range(n)]

    def _failed(self, path: Path, how: str, error: OSError) -> None:
        if not self.failed:
            self.failed = True
            self.report(f"sample cache {path} cannot be {how} ({error.strerror or error}); samples are built without "
                        "it (HARNESS_CACHE moves the cache dir)")


def entry_digest(key: str, fields: dict[str, Any]) -> str:
    """What a cache line's `digest` must be: SHA-256 of the key and the line's other fields."""
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{key}\n{body}".encode()).hexdigest()


def entry_line(key: str, sample: Sample) -> str:
    """One cache line: the sample's fields and their `digest`."""
    fields = json.loads(json.dumps(sample.to_dict(), ensure_ascii=False))  # as a reader will see them
    return json.dumps({**fields, "digest": entry_digest(key, fields)}, sort_keys=True, ensure_ascii=False)


def check_sample(data: dict[str, Any]) -> Sample:
    """The sample of a cache line's fields (without `digest`), else BadRecord naming the field."""
    for name in ("id", "task", "answer_prefix"):
        expect(data, name, str, required=name != "answer_prefix")
    for name in ("length", "index", "prompt_tokens"):
        expect(data, name, int, required=name != "prompt_tokens")
    if not isinstance(data.get("prompt"), str):
        expect_messages(data, "prompt")
    expect_strings(data, "targets", required=False)
    expect_strings(data, "choices", required=False)
    expect(data, "meta", dict, required=False)
    return Sample.from_dict(data)


def read_entries(path: Path, key: str, repair: bool = False,
                 report: Callable[[str], None] = stderr_report) -> dict[int, Sample]:
    """The verified samples of cache entry `key` (stored at `path`), by index (the last good line
    of an index wins); bad and mismatching lines are reported."""
    unsigned: list[int] = []

    def verified(data: dict[str, Any]) -> Sample | None:
        digest = data.pop("digest", None)
        sample = check_sample(data)
        if digest is None:
            unsigned.append(sample.index)
            return None
        if digest != entry_digest(key, data):
            raise BadRecord(f"its digest does not match its content (edited, or copied from another entry); "
                            f"sample {sample.index} will be generated again")
        return sample

    found: dict[int, Sample] = {}
    for _, sample in read_jsonl(path, verified, repair, report):
        if sample is not None:
            found[sample.index] = sample
    if old := sorted(set(unsigned) - set(found)):
        report(f"{path}: {len(old)} sample(s) written without a digest (by an older version) are generated again")
    return found
