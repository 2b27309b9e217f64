"""The one cached LLM client: any `Backend`, a content-addressed SQLite cache of raw replies in front
of it, and one re-ask loop. The LLM judge (`harness.judge`) and the synthesis generator
(`harness.synth.llm`) are this client.

The cache key is (client name, chat messages, sampling parameters, attempt) -- the key the synthesis
cache always had, so its files are hit as they are. The raw text is stored and parsing happens
after, so changing a parser never re-queries, and a rerun after a crash finds every finished call in
the cache. `ask_parsed` reads each reply with a parser and re-asks (a new attempt, cached separately,
and for sampled calls a new seed) while the parser raises `ParseError`.

Retries of transient server faults are the backend's (one retry layer: the openai backend's). A
call that still fails comes back as a `RequestFailure` (`CallFailed` from `ask_parsed`), is counted by
reason in `failed` and never cached, so a rerun asks it again. When the backend says its server is
gone, the finished batch is cached, `abort` says why and no further batch is asked.

The file's layout and version are `harness.core.records.database.LLM_CACHE`.
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
from harness.core.outputs import ensure_dir
from harness.core.prompt import PromptFormat, as_text
from harness.core.records.database import LLM_CACHE, prepare_sqlite
from harness.core.types import Message

T = TypeVar("T")
Reply = str | RequestFailure


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


def cache_key(name: str, messages: Sequence[Message], params: Params, attempt: int = 0) -> str:
    """The content address of one call: SHA-256 of (name, messages, max_tokens, temperature, attempt)."""
    spec = {"generator": name, "messages": list(messages), "params": [params.max_tokens, params.temperature], "attempt": attempt}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def judge_key_v1(name: str, messages: Sequence[Message], max_tokens: int, attempt: int = 0) -> str:
    """The key a version-1 judge cache (`judgments`, greedy calls only) stored a reply under."""
    spec: dict[str, Any] = {"judge": name, "prompt": list(messages), "max_tokens": max_tokens}
    if attempt:
        spec["attempt"] = attempt
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _request_json(messages: Sequence[Message], params: Params) -> str:
    """What a cache row records of its request (for a reader; the key is what is looked up)."""
    return json.dumps({"messages": list(messages), "params": vars(params)})


class LLMCache:
    """The SQLite file of replies by cache key (`LLM_CACHE`: made, or brought up from an older version, on open).
    `legacy`: the file was a judge cache, whose `judgments` rows are read by their old key (`judge_key_v1`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.legacy = False
        ensure_dir(path.parent, f"LLM cache {path}: directory")  # in the cache dir unless given: HARNESS_CACHE moves it
        try:
            with closing(sqlite3.connect(path)) as db:
                prepare_sqlite(db, LLM_CACHE, f"LLM cache {path}")
                db.execute("SELECT key, reply FROM responses LIMIT 1").fetchall()
                self.legacy = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'judgments'").fetchone() is not None
        except sqlite3.DatabaseError as error:
            raise HarnessError(f"LLM cache {path}: not a readable SQLite cache ({error}); {LLM_CACHE.remedy}") from None

    def get(self, keys: Sequence[str], table: str = "responses") -> dict[str, str]:
        """The stored replies among `keys` (`table` "judgments": a judge cache's version-1 rows)."""
        if not keys:
            return {}
        with closing(sqlite3.connect(self.path)) as db:
            query = f"SELECT key, reply FROM {table} WHERE key IN ({','.join('?' * len(keys))})"
            return dict(db.execute(query, list(keys)).fetchall())

    def put(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Store (key, client name, request JSON, reply) rows in one transaction."""
        if rows:
            with closing(sqlite3.connect(self.path)) as db, db:
                db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", rows)


class LLMClient:
    """Asks `backend`, `batch` requests per backend call (None: its `batch_hint`; 0: all at once),
    caching every reply as its batch completes; `name` identifies the model in cache keys."""

    def __init__(self, backend: Backend, name: str, cache_path: Path, batch: int | None = None) -> None:
        self.backend = backend
        self.name = name
        self.cache_path = cache_path
        self.cache = LLMCache(cache_path)
        self.batch = batch
        self.hits = 0
        self.calls = 0
        self.failed: Counter[str] = Counter()  # calls that got no reply after the backend's retries, by reason
        self.abort: str | None = None  # the backend's reason to stop (its server is gone)
        self.on_progress: Callable[[], None] | None = None  # called as calls finish or come from the cache
        tokenizer = backend.tokenizer
        self.format = PromptFormat.create(tokenizer, "auto") if tokenizer is not None else None

    def key(self, messages: Sequence[Message], params: Params, attempt: int = 0) -> str:
        return cache_key(self.name, messages, params, attempt)

    def _request(self, messages: Sequence[Message], params: Params, key: str) -> GenerationRequest:
        """The backend request; sampled calls are seeded from their cache key (a re-ask is another sample;
        greedy calls ignore the seed)."""
        if self.format is not None:
            request = self.format.request(list(messages), "", params.max_tokens)
        else:
            request = GenerationRequest(text=as_text(list(messages)), max_tokens=params.max_tokens, messages=tuple(messages))
        return dataclasses.replace(request, temperature=params.temperature, seed=int(key[:8], 16))

    def ask(self, prompts: Sequence[Sequence[Message]], params: Params = Params(), attempt: int = 0) -> list[Reply]:
        """Raw replies to chat prompts, from the cache when it has them (each distinct prompt asked once),
        or the failure of a call (not cached)."""
        keys = [self.key(p, params, attempt) for p in prompts]
        known: dict[str, Reply] = dict(self.cache.get(keys))
        if self.cache.legacy and params.temperature == 0:
            known.update(self._adopt(prompts, keys, known, params, attempt))
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in known:
                first.setdefault(key, i)
        todo = list(first.values())
        self.hits += len(keys) - len(todo)
        self._progress()
        step = len(todo) if self.batch == 0 else self.batch or self.backend.batch_hint
        for start in range(0, len(todo), max(1, step)):  # stored batch by batch: a kill loses at most one batch
            if self.abort:
                known.update({keys[i]: RequestFailure(f"not asked: {self.abort}") for i in todo[start:]})
                break
            chunk = todo[start : start + max(1, step)]
            generations, abort = settle(self.backend.generate, [self._request(prompts[i], params, keys[i]) for i in chunk])
            self.abort = self.abort or abort
            self.calls += len(chunk)
            rows = []
            for i, generation in zip(chunk, generations):
                if isinstance(generation, RequestFailure):
                    known[keys[i]] = generation
                    self.failed[generation.reason] += 1
                    continue
                known[keys[i]] = generation.text
                rows.append((keys[i], self.name, _request_json(prompts[i], params), generation.text))
            self.cache.put(rows)
            self._progress()
        return [known[k] for k in keys]

    def _adopt(self, prompts: Sequence[Sequence[Message]], keys: list[str], known: dict[str, Reply], params: Params,
               attempt: int) -> dict[str, str]:
        """Replies a version-1 judge cache holds for the calls `known` lacks, copied under their current key."""
        old = {judge_key_v1(self.name, prompts[i], params.max_tokens, attempt): i
               for i, key in enumerate(keys) if key not in known}
        found = self.cache.get(list(old), "judgments")
        self.cache.put([(keys[old[k]], self.name, _request_json(prompts[old[k]], params), reply) for k, reply in found.items()])
        return {keys[old[k]]: reply for k, reply in found.items()}

    def ask_parsed(self, prompts: Sequence[Sequence[Message]], parse: Callable[[str], T] | Sequence[Callable[[str], T]],
                   params: Params = Params(), tries: int | Sequence[int] = 3) -> list[T | ParseError]:
        """Parsed replies; a reply its parser rejects (`ParseError`) is asked again, up to `tries` attempts
        (one parser and one number of tries for all prompts, or one each). The last `ParseError` stands for
        an item that never parsed (its `reply` the last raw text), `CallFailed` for a call that failed."""
        parsers = [parse] * len(prompts) if callable(parse) else list(parse)
        limits = [tries] * len(prompts) if isinstance(tries, int) else list(tries)
        out: list[T | ParseError] = [ParseError("not asked")] * len(prompts)
        pending = [i for i in range(len(prompts)) if limits[i] > 0]
        attempt = 0
        while pending:
            replies = self.ask([prompts[i] for i in pending], params, attempt)
            still = []
            for i, reply in zip(pending, replies):
                if isinstance(reply, RequestFailure):  # retried by the backend already: not asked again
                    out[i] = CallFailed(reply.reason)
                    continue
                try:
                    out[i] = parsers[i](reply)
                except ParseError as error:
                    error.reply = reply
                    out[i] = error
                    still.append(i)
            attempt += 1
            pending = [] if self.abort else [i for i in still if attempt < limits[i]]  # no re-ask once the server is gone
        return out

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress()

    def describe(self, role: str = "llm") -> dict[str, Any]:
        """The client's identity in a run's config: `{role: name, role_<backend field>: ...}`."""
        return {role: self.name, **{f"{role}_{k}": v for k, v in self.backend.describe().items()}}
