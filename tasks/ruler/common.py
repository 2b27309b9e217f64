"""Pieces every RULER generator shares: templates, per-sample rngs, layouts over haystacks."""

from __future__ import annotations

import gc
import random
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, ClassVar, Iterator, Required, Sequence, TypedDict, TypeVar

import numpy as np

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Prompt, Sample
from harness.tasks.base import Counter, prompt_budget
from harness.tasks.budget import Fitted
from harness.tasks.data import TaskOptions
from harness.tasks.options import Options, one_of
from harness.tasks.sizing import Layout, costs_of, count_layout, fit_layout, to_sample

T = TypeVar("T")

# RULER's 40 evenly spaced needle depths: np.round(np.linspace(0, 100, 40)).astype(int)
DEPTHS = [int(d) for d in np.round(np.linspace(0, 100, num=40, endpoint=True))]


class Template(TypedDict, total=False):
    """One family's table in `templates.toml` (`needle` only for niah, `document` only for qa)."""

    tokens_to_generate: Required[int]
    template: Required[str]
    answer_prefix: Required[str]
    needle: str
    document: str


def templates() -> dict[str, Template]:
    """RULER's templates, read from `templates.toml` beside this file."""
    return toml_beside(__file__, "templates.toml")


def sample_rng(task: str, length: int, index: int, seed: int) -> random.Random:
    """The sample's own random stream: any sample can be rebuilt alone, byte-identical."""
    return random.Random(f"{task}|{length}|{index}|{seed}")


# How qa and fwe order their documents / words: "ruler" (default) as RULER, with one fixed
# permutation per count; "per_sample" draws a permutation per sample (`--task-args placement=...`).
PLACEMENTS = ("ruler", "per_sample")


@dataclass(frozen=True)
class EssayOptions(Options):
    """A row on the essay haystack: its folder (`haystack_dir`, else `<data dir>/pg_essays`)."""

    shared: ClassVar[frozenset[str]] = frozenset({"haystack_dir"})

    haystack_dir: str | None = None


@dataclass(frozen=True)
class PlacementOptions(Options):
    """fwe: how words are ordered (`placement`: ruler | per_sample)."""

    placement: str = PLACEMENTS[0]

    def check(self) -> None:
        one_of("placement", self.placement, PLACEMENTS)


@dataclass(frozen=True)
class QAOptions(PlacementOptions):
    """qa: document order (`placement`) and the QA source file (`data`, else `<data dir>/<squad|hotpotqa>.json`)."""

    data: str | None = None


def placement(options: TaskOptions) -> str:
    """The `placement` task arg, checked (default "ruler")."""
    return PlacementOptions.parse(options.args).placement


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while loading a data file or word list: building many
    containers would trigger collections that walk the whole heap (a loaded tokenizer and
    transformers: 2-3x the load itself). Re-enabled after only if it was enabled before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def fixed_shuffle(items: list[T], seed: int) -> list[T]:
    """RULER's `random.Random(args.random_seed).shuffle(x)` (qa.py, freq_words_extraction.py): a
    fresh generator per call, so every list of the same length gets the same permutation."""
    out = list(items)
    random.Random(seed).shuffle(out)
    return out


@lru_cache(maxsize=32)
def fixed_permutation(seed: int, size: int) -> np.ndarray:
    """`fixed_shuffle` as indices: `fixed_shuffle(x, seed)[k] == x[perm[k]]` for any `x` of `size`
    items (the shuffle draws the same numbers whatever the items). Cached: a budget search probes
    the same sizes for every sample of a length; read-only."""
    perm = np.array(fixed_shuffle(list(range(size)), seed), dtype=np.int64)
    perm.flags.writeable = False
    return perm


@lru_cache(maxsize=4096)
def fixed_ends(seed: int, size: int) -> tuple[int, int]:
    """The first and last index of `fixed_permutation(seed, size)` (what a budget probe needs)."""
    perm = fixed_permutation(seed, size)
    return int(perm[0]), int(perm[-1])


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
    budget = prompt_budget(int(templates()[family]["tokens_to_generate"]), length)
    fitted = fit_layout(
        counter, render, answer_prefix, build, sep, budget, min_units, first_guess,
        what=f"{task} at length {length}", check_key=task,
    )
    return to_sample(task, length, index, seed, render, answer_prefix, fitted, targets, meta)


def ruler_memo(counter: Counter, key: tuple[Any, ...], compute: Callable[[], int]) -> int:
    """A per-length count RULER takes from its first sample, computed once per tokenizer and chat mode."""
    memo = costs_of(counter).memo
    full = ("ruler_count", getattr(counter, "chat", None), *key)
    if full not in memo:
        memo[full] = compute()
    return int(memo[full])


def step_down_fit(counter: Counter, render: Callable[[str], Prompt], answer_prefix: str, build: Callable[[int], Layout],
                  sep: str, budget: int, start: int, step: int, floor: int, what: str, check_key: str) -> Fitted[Layout]:
    """RULER's retry loop: `start` units, less `step` at a time (not below `floor`) until the prompt
    fits `budget`. Counts are exact (the additive shortcut is checked once, as in `fit_layout`)."""
    units = max(start, floor)
    while True:
        layout = build(units)
        tokens = count_layout(counter, render, answer_prefix, layout, sep)
        if tokens <= budget:
            break
        if units <= floor:
            raise HarnessError(f"{what}: a budget of {budget} tokens is too small; the prompt alone needs {tokens} tokens")
        units = max(units - step, floor)
    if not counts_checked(counter, render, answer_prefix, layout, tokens, check_key):
        return step_down_fit(counter, render, answer_prefix, build, sep, budget, start, step, floor, what, check_key)
    return Fitted(value=layout, units=units, tokens=tokens)


def counts_checked(counter: Counter, render: Callable[[str], Prompt], answer_prefix: str, layout: Layout, tokens: int,
                   check_key: str) -> bool:
    """False when this first check of `check_key` finds the additive shortcut wrong (counting is
    exact from then on: the caller counts again), else True (as `fit_layout` does)."""
    costs = counter.costs
    if costs is None or not costs.additive or check_key in costs.verified:
        return True
    costs.verified.add(check_key)
    if counter.count(render(layout.materialize()), answer_prefix) == tokens:
        return True
    costs.additive = False  # this tokenizer merges across joins: count everything in full
    return False
