"""The core records that flow through the runner: `Message`, `Sample`, `ScoredSample`.

`Task` lives in `tasks/`, `Backend` in `harness/backends/`; these are the plain data between them.
Everything that persists carries a schema `version`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

SCHEMA_VERSION = 1


class Message(TypedDict):
    """One chat turn, as transformers' chat templates and the OpenAI API take it."""

    role: str
    content: str


Prompt = str | list[Message]


def sample_id(task: str, length: int, index: int, seed: int) -> str:
    """A stable id: the same task, length, index and seed always give the same id."""
    key = f"{task}|{length}|{index}|{seed}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class NeedleDepths:
    """Where a sample's needles sit, in percent of its haystack, in needle order.

    `grid`: the first depth is a point of the task's depth grid (classic NIAH), drawn exactly on a
    heatmap; otherwise the depths were drawn at random (RULER) and a heatmap bins them.
    """

    depths: tuple[float, ...]
    grid: bool = False


# The typed fields of `Sample` the runner reads, and the `meta` keys they are persisted under
# (sample caches and `samples/<task>.jsonl` keep the layout they always had).
RESERVED_META = ("skipped", "truncated_from", "max_new_tokens", "depth", "needle_depths", "depths")


def needle_depths_of(meta: dict[str, Any]) -> NeedleDepths | None:
    """The needle depths persisted in `meta`: classic NIAH's `depth` + `needle_depths`, or RULER's `depths`."""
    if meta.get("depth") is not None:
        each = meta.get("needle_depths")
        return NeedleDepths(tuple(each) if isinstance(each, (list, tuple)) and each else (meta["depth"],), grid=True)
    depths = meta.get("depths")
    if isinstance(depths, (list, tuple)) and depths:
        return NeedleDepths(tuple(depths))
    return None


def truncated_from_of(meta: dict[str, Any]) -> int | None:
    """The persisted `truncated_from` (prompt tokens before truncation; 0: it fit), None when the task does not truncate."""
    value = meta.get("truncated_from")
    return None if value is None else int(value)


@dataclass(frozen=True)
class Sample:
    """One prompt at one context length.

    `prompt` is the user content (text or chat messages); `answer_prefix` is placed at the
    start of the model's answer (inside the assistant turn when a chat template is used).
    `prompt_tokens` is the exact rendered prompt length when the generator measured it (0: unknown).

    What the runner reads is typed: `skipped` (a reason: the sample is not run, only counted),
    `truncated_from` (prompt tokens before truncation, 0 when it fit; None: the task never truncates),
    `max_new_tokens` (a per-sample generation cap; None: the task's), `needle_depths` (where the
    needles sit, for heatmaps). `meta` holds the rest (task-specific, for scorers and readers);
    on disk the typed fields are written into `meta` under their old keys (`persisted_meta`).
    """

    id: str
    task: str
    length: int
    index: int
    prompt: Prompt
    targets: tuple[str, ...] = ()
    answer_prefix: str = ""
    choices: tuple[str, ...] = ()
    prompt_tokens: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""
    truncated_from: int | None = None
    max_new_tokens: int | None = None
    needle_depths: NeedleDepths | None = None

    def __post_init__(self) -> None:
        clash = [key for key in RESERVED_META if key in self.meta]
        if clash:
            raise ValueError(f"sample {self.id}: meta key(s) {', '.join(clash)} are typed fields of Sample; set those instead")

    def persisted_meta(self) -> dict[str, Any]:
        """`meta` with the typed fields under their persisted keys (what sample caches and scored samples hold)."""
        out = dict(self.meta)
        if self.skipped:
            out["skipped"] = self.skipped
        if self.truncated_from is not None:
            out["truncated_from"] = self.truncated_from
        if self.max_new_tokens is not None:
            out["max_new_tokens"] = self.max_new_tokens
        if self.needle_depths is not None:
            if self.needle_depths.grid:
                out["depth"] = self.needle_depths.depths[0]
                out["needle_depths"] = list(self.needle_depths.depths)
            else:
                out["depths"] = list(self.needle_depths.depths)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists; the typed fields go into `meta`, see `persisted_meta`)."""
        return copy.deepcopy({
            "id": self.id, "task": self.task, "length": self.length, "index": self.index, "prompt": self.prompt,
            "targets": list(self.targets), "answer_prefix": self.answer_prefix, "choices": list(self.choices),
            "prompt_tokens": self.prompt_tokens, "meta": self.persisted_meta(),
        })

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Sample":
        """Rebuild a sample written by `to_dict` (the typed fields read back out of `meta`)."""
        meta = dict(data.get("meta", {}))
        depths = needle_depths_of(meta)
        truncated_from = truncated_from_of(meta)
        skipped = str(meta.get("skipped") or "")
        cap = meta.get("max_new_tokens")
        for key in RESERVED_META:
            meta.pop(key, None)
        return cls(
            id=data["id"],
            task=data["task"],
            length=int(data["length"]),
            index=int(data["index"]),
            prompt=data["prompt"],
            targets=tuple(data.get("targets", ())),
            answer_prefix=data.get("answer_prefix", ""),
            choices=tuple(data.get("choices", ())),
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            meta=meta,
            skipped=skipped,
            truncated_from=truncated_from,
            max_new_tokens=None if cap is None else int(cap),
            needle_depths=depths,
        )


@dataclass(frozen=True)
class ScoredSample:
    """One finished sample as written to `samples/<task>.jsonl`.

    `error` is set when the sample got no usable answer (a request that failed after the backend's
    retries): it is written with `"failed": true`, counted apart and left out of every score, and a
    rerun into the same output computes it again. A normal sample's line carries neither key.
    """

    id: str
    task: str
    length: int
    index: int
    prompt_tokens: int
    targets: tuple[str, ...]
    output: str
    score: float
    latency_s: float
    meta: dict[str, Any] = field(default_factory=dict)
    version: int = SCHEMA_VERSION
    sample_cache: str | None = None  # the prompt: sample `index` in <cache>/samples/<sample_cache>.jsonl (`harness show --sample`)
    error: str | None = None  # why the sample got no answer (None: it did)

    @property
    def truncated_from(self) -> int | None:
        """Prompt tokens before truncation (0: it fit), None for a task that never truncates (the sample's typed field)."""
        return truncated_from_of(self.meta)

    @property
    def needle_depths(self) -> NeedleDepths | None:
        """Where the sample's needles sat (the sample's typed field), None without needles."""
        return needle_depths_of(self.meta)

    @property
    def failed(self) -> bool:
        """Whether the sample got no usable answer (see `error`)."""
        return self.error is not None

    def to_json(self) -> str:
        """One JSON line; keys sorted so the file is byte-stable (no `sample_cache` key when there is none)."""
        data = asdict(self)
        data["targets"] = list(self.targets)
        if data["sample_cache"] is None:
            del data["sample_cache"]
        if self.error is None:
            del data["error"]
        else:
            data["failed"] = True
        return json.dumps(data, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScoredSample":
        """Rebuild a scored sample from its JSON line."""
        return cls(
            id=data["id"],
            task=data["task"],
            length=int(data["length"]),
            index=int(data["index"]),
            prompt_tokens=int(data["prompt_tokens"]),
            targets=tuple(data["targets"]),
            output=data["output"],
            score=float(data["score"]),
            latency_s=float(data["latency_s"]),
            meta=dict(data.get("meta", {})),
            version=int(data.get("version", SCHEMA_VERSION)),
            sample_cache=str(data["sample_cache"]) if data.get("sample_cache") is not None else None,
            error=str(data.get("error") or "unknown") if data.get("failed") else None,
        )
