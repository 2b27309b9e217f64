"""Fit a real document's prompt to a token budget: `middle` (first half + last half of the tokens,
as LongBench and InfiniteBench), `left` (keep the last tokens) or `skip` (leave the sample out).

The budget counts what the model sees (chat template included); only the prompt text is cut, so
the template and a system message survive. Lengths follow the project's convention: at length L a
sample's prompt plus its generation fit in L tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness.core.errors import HarnessError
from harness.core.types import Prompt
from harness.tasks.base import Counter
from harness.tasks.base import generation_budget as base_generation_budget

MODES = ("middle", "left", "skip")


@dataclass(frozen=True)
class Fitted:
    """The prompt text after fitting, the token count before (0: it fit untouched), and a skip reason."""

    text: str
    tokens_before: int = 0
    skipped: str = ""


def check_mode(mode: str) -> str:
    """Validate a `--truncate` value."""
    if mode not in MODES:
        raise HarnessError(f"bad --truncate {mode!r}: expected one of {', '.join(MODES)}")
    return mode


def generation_budget(max_new_tokens: int, length: int) -> int:
    """Tokens reserved for a real document's answer at `length`: the task's max, at most half the length
    (`harness.tasks.base.generation_budget` with `halved`, the rule `Task.prompt_budget` uses)."""
    return base_generation_budget(max_new_tokens, length, halved=True)


def cut(ids: list[int], keep: int, mode: str) -> tuple[list[int], list[int]]:
    """The kept head and tail of `ids` for `keep` tokens (the head is empty for `left`)."""
    if keep <= 0:
        return [], []
    if mode == "middle":
        half = keep // 2
        return ids[:half], (ids[-half:] if half else [])
    return [], ids[-keep:]


def fit(counter: Counter, text: str, build: Callable[[str], Prompt], budget: int, mode: str) -> Fitted:
    """Fit `build(text)` (the full prompt) into `budget` tokens by cutting `text`."""
    total = counter.count(build(text))
    if total <= budget:
        return Fitted(text)
    if mode == "skip":
        return Fitted(text, total, f"prompt has {total} tokens, the budget is {budget}")
    bare = counter.count(build(""))
    if bare > budget:
        return Fitted(text, total, f"the prompt without its document has {bare} tokens, the budget is {budget}")
    tokenizer = counter.tokenizer
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    keep = len(ids) - (total - budget)
    for _ in range(8):  # decoding and re-encoding at the cut can merge or split a token or two
        head, tail = cut(ids, keep, mode)
        fitted = tokenizer.decode(head, skip_special_tokens=True) + tokenizer.decode(tail, skip_special_tokens=True)
        count = counter.count(build(fitted))
        if count <= budget:
            return Fitted(fitted, total)
        keep -= count - budget
    raise HarnessError(f"could not fit a prompt of {total} tokens into {budget} by {mode} truncation")
