"""Think blocks stripped before scoring, and the flags' values (`harness.core.thinking`)."""

from __future__ import annotations

import pytest

from harness.core.errors import HarnessError
from harness.core.thinking import Budget, Thinking, parse_markers, parse_tokens, strip_thinking


@pytest.mark.parametrize("text, answer, open_block", [
    ("<think>a b c</think>\n\n 42", "42", False),
    ("reasoning only closed</think>The answer", "The answer", False),  # the template opened the block
    ("<think>one</think>mid<think>two</think> last", "last", False),  # up to the last closing marker
    ("<think>ran out of tok", "", True),
    ("plain answer", "plain answer", False),
    ("", "", False),
])
def test_strip_thinking(text: str, answer: str, open_block: bool) -> None:
    assert strip_thinking(text) == (answer, open_block)


def test_other_markers_and_off_by_default() -> None:
    assert strip_thinking("[R]x[/R]y", ("[R]", "[/R]")) == ("y", False)
    assert Thinking().answer("<think>x</think>y") == ("<think>x</think>y", False)  # no thinking budget: as it is
    assert Thinking(8).answer("<think>x</think>y") == ("y", False)


def test_parse_markers() -> None:
    assert parse_markers("<think>,</think>") == ("<think>", "</think>")
    assert parse_markers(["<r>", "</r>"]) == ("<r>", "</r>")
    for bad in ("<think>", "a,b,c", ",</think>", "x,x"):
        with pytest.raises(HarnessError, match="--think-markers"):
            parse_markers(bad)


def test_parse_tokens() -> None:
    assert parse_tokens("64", "--max-think-tokens") == 64
    assert parse_tokens(None, "--max-new-tokens", minimum=1, allow_none=True) is None
    for bad in (-1, "-1", "x", 1.5, True):
        with pytest.raises(HarnessError, match="--max-think-tokens"):
            parse_tokens(bad, "--max-think-tokens")
    with pytest.raises(HarnessError, match="at least 1"):
        parse_tokens(0, "--max-new-tokens", minimum=1)


def test_budget_key_is_empty_by_default() -> None:
    assert Budget().key() == {} and Budget().default
    assert Budget(think=64).key() == {"answer": None, "think": 64}
