"""The generator behind every plugin: any lc-harness backend, with a content-addressed cache of raw
responses in front of it.

The cache key is (generator name, chat messages, sampling parameters, attempt): the raw text is
stored, parsing happens after, so changing a parser never re-queries, and a rerun after a crash
finds every finished call in the cache. `ask_parsed` validates a reply with a parser and re-asks
(a new attempt, cached separately) while it fails; items still failing are dropped by the caller
with the parser's reason.

Retries of transient server faults are the backend's (one retry layer: the openai backend's). A
call that still fails is a `CallFailed` (a `ParseError`, so every plugin drops its item with the
reason), counted by reason in `failed` (stats.json's `llm_failed`), and never cached, so a rerun
asks it again. When the backend says its server is gone, the batch's answers are cached and the
run stops with one line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from harness.core.backends.base import Backend, GenerationRequest
from harness.core.backends.failures import RequestFailure, settle
from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat, as_text
from harness.core.types import Message

T = TypeVar("T")


class ParseError(ValueError):
    """A reply that does not have the expected structure; the message is the reason, `reply` the
    raw text (set by `ask_parsed`)."""

    reply: str = ""


class CallFailed(ParseError):
    """A call that got no reply after the backend's retries (not cached: a rerun asks it again)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no reply ({reason})")
        self.reason = reason


@dataclass(frozen=True)
class Params:
    """Sampling parameters of one call (part of the cache key)."""

    max_tokens: int = 1024
    temperature: float = 0.0


class Generator:
    """Asks `backend` in batches of its `batch_hint` (the backend's own concurrency bounds parallel calls),
    caches every reply as its batch completes."""

    def __init__(self, backend: Backend, name: str, cache_path: Path) -> None:
        self.backend = backend
        self.name = name
        self.cache_path = cache_path
        self.hits = 0
        self.calls = 0
        self.failed: Counter[str] = Counter()  # calls that got no reply after the backend's retries, by reason
        self.on_progress: Callable[[], None] | None = None  # called as calls finish or come from the cache (a progress bar)
        tokenizer = backend.tokenizer
        self.format = PromptFormat.create(tokenizer, "auto") if tokenizer is not None else None
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(cache_path)) as db, db:
                db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, generator TEXT, request TEXT, reply TEXT)")
                db.execute("SELECT key, reply FROM responses LIMIT 1").fetchall()
        except sqlite3.DatabaseError as error:
            raise HarnessError(f"LLM cache {cache_path}: not a readable SQLite cache ({error}); move it away to start "
                               "afresh (the calls it held will be asked again)") from None

    def key(self, messages: Sequence[Message], params: Params, attempt: int = 0) -> str:
        spec = {"generator": self.name, "messages": list(messages), "params": [params.max_tokens, params.temperature], "attempt": attempt}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _request(self, messages: Sequence[Message], params: Params, key: str) -> GenerationRequest:
        """The backend request; sampled calls are seeded from their cache key (a re-ask is another sample)."""
        if self.format is not None:
            request = self.format.request(list(messages), "", params.max_tokens)
        else:
            request = GenerationRequest(text=as_text(list(messages)), max_tokens=params.max_tokens, messages=tuple(messages))
        return dataclasses.replace(request, temperature=params.temperature, seed=int(key[:8], 16))

    def _generate(self, requests: list[GenerationRequest]) -> tuple[list[str | RequestFailure], str | None]:
        """The backend's replies (it retries transient faults itself), or their failures; and the
        backend's reason to stop the run, if any."""
        generations, abort = settle(self.backend.generate, requests)
        return [g if isinstance(g, RequestFailure) else g.text for g in generations], abort

    def ask(self, prompts: Sequence[Sequence[Message]], params: Params = Params(), attempt: int = 0) -> list[str | RequestFailure]:
        """Raw replies to chat prompts, from the cache when it has them (each distinct prompt asked once),
        or the failure of a call (not cached)."""
        keys = [self.key(p, params, attempt) for p in prompts]
        with closing(sqlite3.connect(self.cache_path)) as db:
            query = f"SELECT key, reply FROM responses WHERE key IN ({','.join('?' * len(keys))})"
            known: dict[str, str | RequestFailure] = dict(db.execute(query, keys).fetchall()) if keys else {}
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in known:
                first.setdefault(key, i)
        todo = list(first.values())
        self.hits += len(keys) - len(todo)
        self._progress()
        step = max(1, self.backend.batch_hint)
        for start in range(0, len(todo), step):  # stored batch by batch: a kill loses at most one batch
            chunk = todo[start : start + step]
            replies, abort = self._generate([self._request(prompts[i], params, keys[i]) for i in chunk])
            self.calls += len(chunk)
            with closing(sqlite3.connect(self.cache_path)) as db, db:
                for i, reply in zip(chunk, replies):
                    known[keys[i]] = reply
                    if isinstance(reply, RequestFailure):
                        self.failed[reply.reason] += 1
                        continue
                    db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                               (keys[i], self.name, json.dumps({"messages": list(prompts[i]), "params": vars(params)}), reply))
            self._progress()
            if abort:
                raise HarnessError(f"{abort}; the finished calls are cached in {self.cache_path}: rerun to continue")
        return [known[k] for k in keys]

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress()

    def ask_parsed(self, prompts: Sequence[Sequence[Message]], parse: Callable[[str], T], params: Params = Params(),
                   tries: int = 3) -> list[T | ParseError]:
        """Parsed replies; a reply the parser rejects is asked again (up to `tries` attempts); the
        last `ParseError` stands for an item that never parsed."""
        out: list[T | ParseError] = [ParseError("not asked")] * len(prompts)
        pending = list(range(len(prompts)))
        for attempt in range(tries):
            if not pending:
                break
            replies = self.ask([prompts[i] for i in pending], params, attempt)
            still = []
            for i, reply in zip(pending, replies):
                if isinstance(reply, RequestFailure):  # retried by the backend already: not asked again
                    out[i] = CallFailed(reply.reason)
                    continue
                try:
                    out[i] = parse(reply)
                except ParseError as error:
                    error.reply = reply
                    out[i] = error
                    still.append(i)
            pending = still
        return out

    def describe(self) -> dict[str, Any]:
        return {"generator": self.name, **{f"generator_{k}": v for k, v in self.backend.describe().items()}}
