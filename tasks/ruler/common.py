"""Pieces every RULER generator shares: templates, per-sample rngs, layouts over haystacks."""

from __future__ import annotations

import random
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from harness.prompt import TokenCosts
from harness.types import Sample, sample_id
from tasks.base import Counter
from tasks.budget import Fitted
from tasks.sizing import Layout, UnitSequence, fit_layout

# RULER's 40 evenly spaced needle depths: np.round(np.linspace(0, 100, 40)).astype(int)
DEPTHS = [int(d) for d in np.round(np.linspace(0, 100, num=40, endpoint=True))]


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    """RULER's templates, read from `templates.toml` beside this file."""
    with open(Path(__file__).with_name("templates.toml"), "rb") as f:
        return tomllib.load(f)


def sample_rng(task: str, length: int, index: int, seed: int) -> random.Random:
    """The sample's own random stream: any sample can be rebuilt alone, byte-identical."""
    return random.Random(f"{task}|{length}|{index}|{seed}")


def costs_of(counter: Counter) -> TokenCosts:
    """The counter's token-cost cache (every PromptFormat with a tokenizer has one)."""
    costs = counter.costs
    if costs is None:
        raise ValueError("sizing needs a tokenizer")
    return costs


def insert_layout(units: UnitSequence, n: int, inserts: Sequence[tuple[int, str]], costs: TokenCosts,
                  meta: dict[str, Any] | None = None) -> Layout:
    """`units[:n]` with `(position, text)` items inserted before the unit at each position
    (position n appends). Positions must be sorted ascending."""
    sep = units.sep
    total = units.cost(n) + sum(costs.of([sep + text for _, text in inserts]))
    first = inserts[0][1] if inserts and inserts[0][0] == 0 else units.unit(0) if n else inserts[0][1]
    last = inserts[-1][1] if inserts and inserts[-1][0] >= n else units.unit(n - 1) if n else inserts[-1][1]
    count = n + len(inserts)
    if count == 1:
        return Layout(first, None, 0, lambda: first, meta or {})
    middle = total - sum(costs.of([sep + first, sep + last]))

    def materialize() -> str:
        items = units.take(n)
        for position, text in reversed(inserts):
            items.insert(position, text)
        return sep.join(items)

    return Layout(first, last, middle, materialize, meta or {})


def build_sample(
    task: str,
    counter: Counter,
    length: int,
    index: int,
    seed: int,
    family: str,
    render: Callable[[str], str],
    answer_prefix: str,
    build: Callable[[int], Layout],
    sep: str,
    targets: Sequence[str],
    min_units: int,
    first_guess: int,
    meta: dict[str, Any],
) -> Sample:
    """Fit `build` to the length (prompt + RULER's tokens_to_generate) and wrap it as a Sample."""
    budget = length - int(templates()[family]["tokens_to_generate"])
    fitted = fit_layout(
        counter, render, answer_prefix, build, sep, budget, min_units, first_guess,
        what=f"{task} at length {length}", check_key=task,
    )
    return to_sample(task, length, index, seed, render, answer_prefix, fitted, targets, meta)


def to_sample(task: str, length: int, index: int, seed: int, render: Callable[[str], str], answer_prefix: str,
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
    )
