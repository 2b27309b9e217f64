"""Exact, fast token counts for prompts whose context is a long join of units.

A RULER or NIAH context is `sep.join(items)`: haystack units (essay words, noise lines,
documents) with a few inserted items (needles). For tokenizers that pre-tokenize at whitespace
(BPE, WordPiece, Unigram as transformers ships them), tokens never cross those joins, so

    count(render(sep.join(items))) = count(render(items[0] + sep + items[-1]))
                                     + sum(count(sep + item) for item in items[1:-1])

The first term is one short tokenisation; the sum comes from cached per-unit costs and prefix
sums. A probe of the budget search then costs microseconds instead of a 128k-token
tokenisation. The identity is checked against a full tokenisation for the first sample of each
task; a tokenizer that breaks it is counted in full from then on (slow but exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from harness.core.prompt import TokenCosts
from harness.core.types import NeedleDepths, Prompt, Sample, sample_id
from harness.tasks.base import Counter
from harness.tasks.budget import Fitted, fit_to_budget


class UnitSequence:
    """A haystack of units repeated as often as needed, with prefix sums of `count(sep + unit)`.

    Units and their sums are made on demand: a search at a short length tokenises only the units it
    reaches, not a whole essay; `generated` units (distractor needles) are not even written past them."""

    MIN_CHUNK = 256

    def __init__(self, units: Sequence[str], sep: str, costs: TokenCosts) -> None:
        if not units:
            raise ValueError("empty haystack")
        self._units = list(units)
        self.size = len(self._units)
        self._more: Callable[[int], list[str]] | None = None
        self.sep = sep
        self.costs = costs
        self._prefix = np.zeros(1, dtype=np.int64)  # sums over the first len - 1 units

    @classmethod
    def generated(cls, size: int, more: Callable[[int], list[str]], sep: str, costs: TokenCosts) -> UnitSequence:
        """`size` units that `more(k)` writes in order, k at a time (the same units however they are asked for)."""
        if size < 1:
            raise ValueError("empty haystack")
        sequence = cls(["placeholder"], sep, costs)
        sequence._units, sequence.size, sequence._more = [], size, more
        return sequence

    def _units_to(self, n: int) -> list[str]:
        """The units, written out at least as far as the first `n` (at most all of them)."""
        missing = min(n, self.size) - len(self._units)
        if missing > 0 and self._more is not None:
            made = self._more(missing)
            if len(made) != missing:
                raise ValueError(f"a generated haystack gave {len(made)} units for {missing}")
            self._units += made
        return self._units

    @property
    def units(self) -> list[str]:
        """Every unit, once."""
        return self._units_to(self.size)

    def _prefix_to(self, n: int) -> np.ndarray:
        """The prefix sums, covering at least the first `n` units (at most all of them)."""
        done = len(self._prefix) - 1
        if n > done:
            upto = min(self.size, max(n + n // 8, self.MIN_CHUNK))
            units = self._units_to(upto)
            per_unit = self.costs.of([self.sep + u for u in units[done:upto]])
            self._prefix = np.concatenate([self._prefix, self._prefix[-1] + np.cumsum(per_unit, dtype=np.int64)])
        return self._prefix

    @property
    def prefix(self) -> np.ndarray:
        """Prefix sums over every unit (entry k: the first k units)."""
        return self._prefix_to(self.size)

    def cost(self, n: int) -> int:
        """Sum of `count(sep + unit)` over the first `n` units (cycling)."""
        rounds, rest = divmod(n, self.size)
        if rounds:
            return int(rounds * self.prefix[-1] + self.prefix[rest])
        return int(self._prefix_to(rest)[rest])

    def unit(self, i: int) -> str:
        i %= self.size
        return self._units_to(i + 1)[i]

    def take(self, n: int) -> list[str]:
        rounds, rest = divmod(n, self.size)
        units = self._units_to(n)
        return units * rounds + units[:rest]


def unit_sequence(costs: TokenCosts, key: str, units: Callable[[], Sequence[str]], sep: str) -> UnitSequence:
    """The `UnitSequence` for haystack `key`, built once per tokenizer."""
    memo_key = ("units", key, sep)
    if memo_key not in costs.memo:
        costs.memo[memo_key] = UnitSequence(units(), sep, costs)
    sequence: UnitSequence = costs.memo[memo_key]
    return sequence


@dataclass(frozen=True)
class Layout:
    """A candidate context: its first and last items, the cost of everything between, and how to
    write it out. `middle_cost` is `sum(count(sep + item))` over the items strictly between."""

    first: str
    last: str | None
    middle_cost: int
    materialize: Callable[[], str]
    meta: dict[str, Any]
    needle_depths: NeedleDepths | None = None  # where the inserted needles sit (the sample's typed field)
    tokens: int | None = None  # the whole prompt's count, when the builder sums it itself (additive counting only)

    @classmethod
    def counted(cls, tokens: int, materialize: Callable[[], str], meta: dict[str, Any]) -> Layout:
        """A layout whose builder summed the whole prompt's count itself: it has no edges to count
        (`count_layout` takes `tokens`, or writes the text out when counting is not additive)."""
        return cls("", None, 0, materialize, meta, tokens=tokens)


def count_layout(counter: Counter, prompt_with: Callable[[str], Prompt], answer_prefix: str, layout: Layout,
                 sep: str) -> int:
    """Tokens of the rendered prompt (template and answer prefix included) for `layout`."""
    costs = counter.costs
    if costs is not None and not costs.additive:
        return counter.count(prompt_with(layout.materialize()), answer_prefix)
    if layout.tokens is not None:
        return layout.tokens
    if layout.last is None:
        return counter.count(prompt_with(layout.first), answer_prefix)
    return counter.count(prompt_with(layout.first + sep + layout.last), answer_prefix) + layout.middle_cost


def fit_layout(
    counter: Counter,
    prompt_with: Callable[[str], Prompt],
    answer_prefix: str,
    build: Callable[[int], Layout],
    sep: str,
    budget: int,
    min_units: int,
    first_guess: int,
    what: str,
    check_key: str,
) -> Fitted[Layout]:
    """The layout with the most units whose prompt fits `budget`; exact, see the module docstring."""

    def fit() -> Fitted[Layout]:
        return fit_to_budget(
            build, lambda lay: count_layout(counter, prompt_with, answer_prefix, lay, sep), budget,
            min_units=min_units, first_guess=first_guess, what=what,
        )

    fitted = fit()
    costs = counter.costs
    if costs is not None and costs.additive and check_key not in costs.verified:
        exact = counter.count(prompt_with(fitted.value.materialize()), answer_prefix)
        costs.verified.add(check_key)
        if exact != fitted.tokens:
            costs.additive = False  # this tokenizer merges across joins: count everything in full
            fitted = fit()
    return fitted


def costs_of(counter: Counter) -> TokenCosts:
    """The counter's token-cost cache (every PromptFormat with a tokenizer has one)."""
    costs = counter.costs
    if costs is None:
        raise ValueError("sizing needs a tokenizer")
    return costs


def insert_layout(units: UnitSequence, n: int, inserts: Sequence[tuple[int, str]], costs: TokenCosts,
                  meta: dict[str, Any] | None = None, depths: NeedleDepths | None = None) -> Layout:
    """`units[:n]` with `(position, text)` items inserted before the unit at each position
    (position n appends). Positions must be sorted ascending; `depths` says where the needles sit."""
    sep = units.sep
    total = units.cost(n) + sum(costs.of([sep + text for _, text in inserts]))
    first = inserts[0][1] if inserts and inserts[0][0] == 0 else units.unit(0) if n else inserts[0][1]
    last = inserts[-1][1] if inserts and inserts[-1][0] >= n else units.unit(n - 1) if n else inserts[-1][1]
    count = n + len(inserts)
    if count == 1:
        return Layout(first, None, 0, lambda: first, meta or {}, depths)
    middle = total - sum(costs.of([sep + first, sep + last]))

    def materialize() -> str:
        items = units.take(n)
        for position, text in reversed(inserts):
            items.insert(position, text)
        return sep.join(items)

    return Layout(first, last, middle, materialize, meta or {}, depths)


def to_sample(task: str, length: int, index: int, seed: int, render: Callable[[str], Prompt], answer_prefix: str,
              fitted: Fitted[Layout], targets: Sequence[str], meta: dict[str, Any]) -> Sample:
    """Wrap a fitted layout as a Sample (its exact prompt token count included)."""
    return Sample(
        id=sample_id(task, length, index, seed),
        task=task,
        length=length,
        index=index,
        prompt=render(fitted.value.materialize()),
        targets=tuple(targets),
        answer_prefix=answer_prefix,
        prompt_tokens=fitted.tokens,
        meta={**meta, **fitted.value.meta, "units": fitted.units},
        needle_depths=fitted.value.needle_depths,
    )
