"""The NLI models behind HELMET's citation scores: a backend asked through the cached LLM client (scripted here), the
disk cache in front of a seq2seq model, the verdict parser, and the errors of a model that cannot be loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from harness.core.errors import HarnessError
from harness.tasks.helmet.nli import REFERENCE_NLI, BackendNLI, CachedNLI, Seq2SeqNLI, load_nli, nli_identity, parse_verdict, seq2seq_input
from tests.fakes import ScriptedBackend


def test_parse_verdict() -> None:
    assert parse_verdict("1") and parse_verdict(" 1.") and parse_verdict("Yes, it is.") and parse_verdict("Answer: 1")
    assert not parse_verdict("0") and not parse_verdict("No.") and not parse_verdict("") and not parse_verdict("maybe")
    assert not parse_verdict("not entailed")


def test_reference_input() -> None:
    assert seq2seq_input("Title: t\nx", "claim") == "premise: Title: t\nx hypothesis: claim"


def test_backend_nli_asks_once_and_caches(tmp_path: Path) -> None:
    def answer(request) -> str:
        premise = request.text.split("Premise: ")[1].split("\n\nHypothesis: ")[0]
        hypothesis = request.text.split("Hypothesis: ")[1].split("\n\n")[0]
        return "1" if hypothesis in premise else "0"

    backend = ScriptedBackend(None, answer=answer, batch=4)
    nli = BackendNLI(backend, "llm:scripted", tmp_path / "nli.db")
    pairs = [("the sky is blue", "sky is blue"), ("the sky is blue", "grass is red"), ("a b", "a b")]
    assert nli.entails(pairs) == [True, False, True]
    assert len(backend.requests) == 3 and all(r.max_tokens == 8 for r in backend.requests)
    again = BackendNLI(ScriptedBackend(None, answer=lambda r: "garbage"), "llm:scripted", tmp_path / "nli.db")
    assert again.entails(pairs) == [True, False, True]  # every verdict from the cache
    assert again.client.calls == 0 and again.client.hits == 3
    other = BackendNLI(ScriptedBackend(None, answer=lambda r: "0"), "llm:other", tmp_path / "nli.db")
    assert other.entails(pairs[:1]) == [False]  # another model's verdicts are its own


class Counting:
    name = "counting"

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def entails(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        self.asked += pairs
        return [h in p for p, h in pairs]


def test_cached_nli_asks_each_pair_once(tmp_path: Path) -> None:
    inner = Counting()
    nli = CachedNLI(inner, tmp_path / "nli.db")
    pairs = [("x y", "x"), ("x y", "z"), ("x y", "x")]
    assert nli.entails(pairs) == [True, False, True] and len(inner.asked) == 2
    fresh = Counting()
    assert CachedNLI(fresh, tmp_path / "nli.db").entails(pairs) == [True, False, True] and fresh.asked == []


def test_unloadable_seq2seq_model_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nli = Seq2SeqNLI(str(tmp_path / "no-such-model"))
    with pytest.raises(HarnessError, match="could not be loaded.*nli=llm:MODEL"):
        nli.entails([("p", "h")])
    assert nli.entails([]) == []  # nothing to ask: nothing loaded


def test_load_nli_specs(tmp_path: Path) -> None:
    assert nli_identity(REFERENCE_NLI) == f"seq2seq:{REFERENCE_NLI}"
    assert nli_identity("llm:openai:gpt-4o-mini", "http://h:8000/v1") == "llm:openai:gpt-4o-mini@http://h:8000/v1"
    nli = load_nli("seq2seq:/some/path", None, tmp_path / "a.db")
    assert isinstance(nli, CachedNLI) and nli.name == "/some/path"  # lazily: nothing loaded yet
    with pytest.raises(HarnessError, match="model is missing"):
        load_nli("llm:", None, tmp_path / "b.db")
    with pytest.raises(HarnessError, match="NLI model 'llm:nosuchbackend:x'"):
        load_nli("llm:nosuchbackend:x", None, tmp_path / "c.db")
