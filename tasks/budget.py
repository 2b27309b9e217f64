"""Fit a prompt to a token budget: one helper shared by every generator.

`build(n)` makes the prompt with `n` filler units (haystack sentences, words, documents); its
token count grows with `n`. We look for the largest `n` whose prompt fits, probing by linear
interpolation between a fitting and an overflowing size (a few full tokenisations instead of a
whole binary search), and always terminate: a budget too small for even the smallest prompt
raises with the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

from harness.core.errors import HarnessError

P = TypeVar("P")


@dataclass(frozen=True)
class Fitted(Generic[P]):
    """The fitted prompt, its filler count and its token count."""

    value: P
    units: int
    tokens: int


def fit_to_budget(
    build: Callable[[int], P],
    count: Callable[[P], int],
    budget: int,
    min_units: int = 0,
    first_guess: int | None = None,
    what: str = "prompt",
) -> Fitted[P]:
    """The largest `n >= min_units` with `count(build(n)) <= budget`."""
    lo = min_units
    lo_value = build(lo)
    lo_tokens = count(lo_value)
    if lo_tokens > budget:
        raise HarnessError(
            f"{what}: a budget of {budget} tokens is too small; the prompt alone needs {lo_tokens} tokens"
        )
    guess = max(lo + 1, first_guess if first_guess is not None else lo + 16)
    hi: int | None = None
    hi_tokens = 0
    probe = guess
    probes = 0
    while hi is None or hi - lo > 1:
        value = build(probe)
        tokens = count(value)
        probes += 1
        if tokens <= budget:
            lo, lo_value, lo_tokens = probe, value, tokens
        else:
            hi, hi_tokens = probe, tokens
        probe = _next_probe(lo, lo_tokens, hi, hi_tokens, budget, bisect=probes >= MAX_INTERPOLATIONS)
    return Fitted(value=lo_value, units=lo, tokens=lo_tokens)


MAX_INTERPOLATIONS = 8


def _next_probe(lo: int, lo_tokens: int, hi: int | None, hi_tokens: int, budget: int, bisect: bool) -> int:
    """Interpolate toward the budget, strictly inside (lo, hi); grow geometrically without hi.

    Linear interpolation lands next to the boundary for near-linear growth; clipping to lo + 1
    then closes the bracket in one more probe. After MAX_INTERPOLATIONS probes (irregular
    growth), plain bisection guarantees termination.
    """
    if hi is None:
        per_unit = max(lo_tokens / max(lo, 1), 1e-9)
        estimate = lo + int((budget - lo_tokens) / per_unit) + 1
        return max(lo + 1, min(estimate, lo * 4 + 16))
    if bisect:
        return (lo + hi) // 2
    slope = (hi_tokens - lo_tokens) / (hi - lo)
    estimate = lo + int((budget - lo_tokens) / slope) if slope > 0 else (lo + hi) // 2
    return min(max(estimate, lo + 1), hi - 1)
