"""The core records that flow through the runner: `Message`, `Sample`, `ScoredSample`.

`Task` lives in `tasks/`, `Backend` in `harness/backends/`; these are the plain data between them.
Everything that persists carries a schema `version`.
"""

from __future__ import annotations

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
class Sample:
    """One prompt at one context length.

    `prompt` is the user content (text or chat messages); `answer_prefix` is placed at the
    start of the model's answer (inside the assistant turn when a chat template is used).
    `prompt_tokens` is the exact rendered prompt length when the generator measured it (0: unknown).
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        data["targets"] = list(self.targets)
        data["choices"] = list(self.choices)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Sample":
        """Rebuild a sample written by `to_dict`."""
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
            meta=dict(data.get("meta", {})),
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
