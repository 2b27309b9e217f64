"""An LLM judge: any backend, greedy, every call cached by (judge model, prompt, max tokens).

The cache is a SQLite file (`<cache>/judge.db` by default), so rerunning a judged evaluation
costs no judge call. The judge's identity goes into the run's results. A call that fails after the
judge backend's own retries comes back as a `RequestFailure`, is counted (`failed`) and not cached,
so a rerun asks it again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Sequence

from harness.core.backends.base import Backend, GenerationRequest
from harness.core.backends.failures import RequestFailure, settle
from harness.core.paths import cache_dir
from harness.core.prompt import PromptFormat, as_text
from harness.core.types import Message


class Judge:
    """Asks `backend` to grade; remembers every answer."""

    def __init__(self, backend: Backend, name: str, cache_path: Path | None = None) -> None:
        self.backend = backend
        self.name = name
        self.cache_path = cache_path or cache_dir() / "judge.db"
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.calls = 0
        self.failed = 0  # calls that got no usable reply after the backend's retries
        self.abort: str | None = None  # the judge backend's reason to stop the run (its server is gone)
        tokenizer = backend.tokenizer
        self.format = PromptFormat.create(tokenizer, "auto") if tokenizer is not None else None
        with closing(sqlite3.connect(self.cache_path)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, judge TEXT, prompt TEXT, reply TEXT)")

    def _key(self, prompt: Sequence[Message], max_tokens: int, attempt: int = 0) -> str:
        spec: dict[str, Any] = {"judge": self.name, "prompt": list(prompt), "max_tokens": max_tokens}
        if attempt:
            spec["attempt"] = attempt  # a re-ask after an unreadable verdict is its own cached call
        blob = json.dumps(spec, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _request(self, prompt: Sequence[Message], max_tokens: int) -> GenerationRequest:
        if self.format is not None:
            return self.format.request(list(prompt), "", max_tokens)
        return GenerationRequest(text=as_text(list(prompt)), max_tokens=max_tokens, messages=tuple(prompt))

    def replies(self, prompts: Sequence[Sequence[Message]], max_tokens: int, attempt: int = 0) -> list[str | RequestFailure]:
        """The judge's reply to each prompt, from the cache when it has them (`attempt` > 0: a re-ask), or
        the failure of its call (not cached)."""
        keys = [self._key(p, max_tokens, attempt) for p in prompts]
        with closing(sqlite3.connect(self.cache_path)) as db:
            rows = db.execute(
                f"SELECT key, reply FROM judgments WHERE key IN ({','.join('?' * len(keys))})", keys
            ).fetchall() if keys else []
        known: dict[str, str | RequestFailure] = dict(rows)
        first_of: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in known:
                first_of.setdefault(key, i)
        todo = list(first_of.values())  # each distinct prompt asked once
        self.hits += len(keys) - len(todo)
        if todo:
            generations, abort = settle(self.backend.generate, [self._request(prompts[i], max_tokens) for i in todo])
            self.abort = self.abort or abort
            self.calls += len(todo)
            with closing(sqlite3.connect(self.cache_path)) as db, db:
                for i, generation in zip(todo, generations):
                    if isinstance(generation, RequestFailure):
                        known[keys[i]] = generation
                        self.failed += 1
                        continue
                    known[keys[i]] = generation.text
                    db.execute("INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?)",
                               (keys[i], self.name, json.dumps(list(prompts[i])), generation.text))
        return [known[key] for key in keys]

    def describe(self) -> dict[str, Any]:
        return {"judge": self.name, **{f"judge_{k}": v for k, v in self.backend.describe().items()}}
