"""Reasoning models: a run's generation budgets and the think blocks stripped before scoring.

`Budget` is what `--max-new-tokens` and `--max-think-tokens` set: the answer budget that replaces each task's
(None: the task's own) and the thinking budget added to it (0: not a reasoning model). One rule sizes every
sample: the generation budget is thinking + answer, and a prompt at length L takes L minus that
(`harness.tasks.base.prompt_budget`).

`Thinking` reads a reasoning model's reply: the text up to and including the last closing marker is removed, and
the rest, stripped of leading whitespace, is the answer that is scored. A reply that opens a block and never closes
it (its thinking ran out of tokens) has an empty answer and is counted as `think_truncated`; a reply without
markers is the answer as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from harness.core.errors import HarnessError

DEFAULT_MARKERS = ("<think>", "</think>")


@dataclass(frozen=True)
class Budget:
    """A run's generation budgets: `answer` tokens (None: each task's own `max_new_tokens`) and `think` tokens."""

    answer: int | None = None
    think: int = 0

    @property
    def default(self) -> bool:
        """Whether the budget leaves every task's own (no override, no thinking)."""
        return self.answer is None and self.think == 0

    def key(self) -> dict[str, Any]:
        """What enters a sample-cache key and a run fingerprint (empty for the default, so that runs and caches
        made before these budgets existed stay valid)."""
        return {} if self.default else {"answer": self.answer, "think": self.think}


NO_BUDGET = Budget()  # every task's own budget


@dataclass(frozen=True)
class Thinking:
    """How outputs are read: with a thinking budget (`tokens` > 0) think blocks between `markers` are stripped."""

    tokens: int = 0
    markers: tuple[str, str] = DEFAULT_MARKERS

    @property
    def on(self) -> bool:
        return self.tokens > 0

    def answer(self, text: str) -> tuple[str, bool]:
        """The answer in `text` and whether a think block was left open (always `text`, False when off)."""
        return strip_thinking(text, self.markers) if self.on else (text, False)


def strip_thinking(text: str, markers: tuple[str, str] = DEFAULT_MARKERS) -> tuple[str, bool]:
    """(answer, think_truncated): the text after the last closing marker (leading whitespace removed); an opening
    marker never closed gives ("", True); no marker at all gives (text, False)."""
    opening, closing = markers
    end = text.rfind(closing)
    if end != -1:
        return text[end + len(closing):].lstrip(), False
    if opening in text:
        return "", True
    return text, False


def parse_markers(value: str | Sequence[str]) -> tuple[str, str]:
    """`--think-markers '<think>,</think>'` (or a two-item list) as (opening, closing), both non-empty and different."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    if len(parts) != 2 or not all(isinstance(p, str) and p.strip() for p in parts) or parts[0].strip() == parts[1].strip():
        raise HarnessError(f"bad --think-markers {value!r}: expected an opening and a closing marker, e.g. '<think>,</think>'")
    return parts[0].strip(), parts[1].strip()


def parse_tokens(value: Any, flag: str, minimum: int = 0, allow_none: bool = False) -> int | None:
    """A token count of a flag: an integer of at least `minimum` (None stays None when allowed)."""
    if value is None and allow_none:
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = minimum - 1
    if isinstance(value, bool) or count < minimum or (isinstance(value, float) and value != count) or \
            (isinstance(value, str) and value.strip() != str(count)):
        raise HarnessError(f"bad {flag} {value!r}: expected an integer of at least {minimum} (tokens)")
    return count
