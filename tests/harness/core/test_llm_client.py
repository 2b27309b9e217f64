"""The one cached LLM client: caches written by the code before it are still hit, the re-ask loop, failures
and a lost server, the cache's version."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Sequence

import pytest

from harness.core.backends.base import Generation, GenerationRequest
from harness.core.backends.failures import RequestFailure, RequestsFailed
from harness.core.errors import HarnessError
from harness.core.llm_client import CallFailed, LLMClient, Params, ParseError
from harness.core.records.database import LLM_CACHE
from harness.judge import Judge
from harness.synth.llm import Generator
from tests.fakes import ScriptedBackend

ASK = [{"role": "user", "content": "Rate this: café"}]


class Unreachable(ScriptedBackend):
    """A backend that must not be asked (every answer is in the cache)."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        raise AssertionError(f"asked {len(requests)} request(s) that should have come from the cache")


class Failing(ScriptedBackend):
    """Fails every request whose text holds `bad`, handing out `abort` with the failure."""

    def __init__(self, bad: str, abort: str | None = None, batch: int = 1) -> None:
        super().__init__(None, answer=lambda r: "[[5]]", batch=batch)
        self.bad, self.abort = bad, abort

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        answers = super().generate(requests)
        results = [RequestFailure("HTTP 500") if self.bad in r.text else a for r, a in zip(requests, answers)]
        if any(isinstance(r, RequestFailure) for r in results):
            raise RequestsFailed(results, "failing", self.abort)
        return answers


def _user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_a_synthesis_cache_written_before_the_client_is_hit(tmp_path: Path) -> None:
    # the synthesis generator's cache as its code wrote it: no version, its key scheme spelt out here
    path = tmp_path / "llm_cache.sqlite"
    spec = {"generator": "openai:m", "messages": ASK, "params": [64, 0.7], "attempt": 1}
    old_key = hashlib.sha256(json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, generator TEXT, request TEXT, reply TEXT)")
        db.execute("INSERT INTO responses VALUES (?, ?, ?, ?)", (old_key, "openai:m", "{}", "an old reply"))
    generator = Generator(Unreachable(None), "openai:m", path)
    assert generator.ask([ASK], Params(64, 0.7), attempt=1) == ["an old reply"] and generator.hits == 1
    assert _user_version(path) == LLM_CACHE.version == 2


def test_a_judge_cache_written_before_the_client_is_hit_and_adopted(tmp_path: Path) -> None:
    # the judge's cache as its code wrote it: table `judgments`, the attempt in the key only on a re-ask
    path = tmp_path / "judge.db"

    def old_key(attempt: int) -> str:
        spec: dict[str, object] = {"judge": "gpt-4", "prompt": ASK, "max_tokens": 1024}
        if attempt:
            spec["attempt"] = attempt
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, judge TEXT, prompt TEXT, reply TEXT)")
        db.executemany("INSERT INTO judgments VALUES (?, ?, ?, ?)",
                       [(old_key(0), "gpt-4", json.dumps(ASK), "no rating here"), (old_key(1), "gpt-4", json.dumps(ASK), "[[8]]")])
    judge = Judge(Unreachable(None), "gpt-4", path)
    parse = [lambda reply: 8.0 if "[[8]]" in reply else None]
    assert judge.verdicts([ASK], 1024, parse, [5]) == [(8.0, "[[8]]")]
    assert judge.hits == 2 and judge.calls == 0 and _user_version(path) == 2
    with closing(sqlite3.connect(path)) as db:  # copied under the current key; the old rows stay
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0] == 2
    again = Judge(Unreachable(None), "gpt-4", path)
    assert again.verdicts([ASK], 1024, parse, [5]) == [(8.0, "[[8]]")]


def test_a_cache_of_a_newer_version_or_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    with closing(sqlite3.connect(newer)) as db:
        db.execute("PRAGMA user_version = 9")
    with pytest.raises(HarnessError, match=f"{newer}: schema version 9, newer than this lc-harness reads"):
        LLMClient(ScriptedBackend(None), "m", newer)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 200)
    with pytest.raises(HarnessError, match=f"LLM cache {garbage}: not a readable SQLite cache"):
        LLMClient(ScriptedBackend(None), "m", garbage)
    under_a_file = garbage / "judge.db"  # a cache dir (HARNESS_CACHE) that is a file
    with pytest.raises(HarnessError, match=f"LLM cache {under_a_file}: directory {garbage} is a file, not a directory"):
        LLMClient(ScriptedBackend(None), "m", under_a_file)


def test_replies_are_reasked_per_prompt_with_its_parser_and_tries(tmp_path: Path) -> None:
    seen: list[GenerationRequest] = []

    def answer(request: GenerationRequest) -> str:
        seen.append(request)
        return "ok" if sum(r.text == request.text for r in seen) >= 3 else "garbled"

    def strict(reply: str) -> str:
        if reply != "ok":
            raise ParseError("not ok")
        return reply

    client = LLMClient(ScriptedBackend(None, answer=answer, batch=8), "m", tmp_path / "c.sqlite")
    prompts = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}], [{"role": "user", "content": "a"}]]
    out = client.ask_parsed(prompts, [strict, strict, str.upper], Params(8, 0.5), [3, 2, 1])
    assert out[0] == "ok" and isinstance(out[1], ParseError) and out[1].reply == "garbled" and out[2] == "GARBLED"
    assert client.calls == 5  # "a" and "b", then both again, then "a" a third time; the repeated "a" comes from the cache
    assert len({r.seed for r in seen}) == 5  # a re-ask is a new sample


def test_failed_calls_are_counted_not_cached_and_a_lost_server_stops_the_generator(tmp_path: Path) -> None:
    prompts = [[{"role": "user", "content": c}] for c in ("good", "bad", "good too")]
    judge = Judge(Failing("bad"), "j", tmp_path / "judge.db")
    verdicts = judge.verdicts(prompts, 16, [lambda r: 5.0] * 3, [2] * 3)
    assert verdicts == [(5.0, "[[5]]"), RequestFailure("HTTP 500"), (5.0, "[[5]]")] and judge.failed == 1
    retry = Judge(ScriptedBackend(None, answer=lambda r: "[[7]]"), "j", tmp_path / "judge.db")
    assert retry.verdicts(prompts, 16, [lambda r: float(r[2])] * 3, [1] * 3)[1] == (7.0, "[[7]]") and retry.calls == 1
    generator = Generator(Failing("bad", abort="the server is gone", batch=1), "g", tmp_path / "g.sqlite")
    with pytest.raises(HarnessError, match="the server is gone; the finished calls are cached in"):
        generator.ask_parsed(prompts, str, Params(8))
    assert generator.calls == 2 and generator.failed == {"HTTP 500": 1}  # the third prompt was never asked
    assert isinstance(CallFailed("x"), ParseError)


def test_the_judge_hands_a_batch_to_its_backend_at_once_and_the_generator_by_its_batch_hint(tmp_path: Path) -> None:
    prompts = [[{"role": "user", "content": str(i)}] for i in range(5)]
    judge_backend = ScriptedBackend(None, answer=lambda r: "[[1]]", batch=2)
    Judge(judge_backend, "j", tmp_path / "judge.db").verdicts(prompts, 8, [lambda r: 1.0] * 5, [1] * 5)
    assert judge_backend.batches == 1
    generator_backend = ScriptedBackend(None, answer=lambda r: "x", batch=2)
    Generator(generator_backend, "g", tmp_path / "g.sqlite").ask(prompts)
    assert generator_backend.batches == 3
