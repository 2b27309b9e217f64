"""Pieces every RULER generator shares: templates, per-sample rngs, layouts over haystacks."""

from __future__ import annotations

import random
from typing import Any, Callable, Sequence

import numpy as np

from harness.resources import toml_beside
from harness.types import Sample
from tasks.base import Counter
from tasks.sizing import Layout, fit_layout, to_sample

# RULER's 40 evenly spaced needle depths: np.round(np.linspace(0, 100, 40)).astype(int)
DEPTHS = [int(d) for d in np.round(np.linspace(0, 100, num=40, endpoint=True))]


def templates() -> dict[str, Any]:
    """RULER's templates, read from `templates.toml` beside this file."""
    return toml_beside(__file__, "templates.toml")


def sample_rng(task: str, length: int, index: int, seed: int) -> random.Random:
    """The sample's own random stream: any sample can be rebuilt alone, byte-identical."""
    return random.Random(f"{task}|{length}|{index}|{seed}")


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
