"""Which questions a record asks, decided before any is generated (so a seed fixes them all).

Per document: `hierarchical` questions walking down the hierarchy (the whole document first, then a
medium chunk, then a small chunk inside it, then another medium chunk, ...); then `diverse` questions
of kinds drawn by weight (local detail, multi-hop across two small chunks of different medium
chunks, medium section); then, for each earlier document of the record, with probability
`revisit_probability`, `revisit` questions that go back to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import partial
from typing import Callable

from harness.synth.hierarchical.chunks import Tree

KINDS = ("global", "medium", "local", "multi_hop")


@dataclass(frozen=True)
class Question:
    """One planned question: its kind, the record's document it is about, and the chunks it reads."""

    kind: str
    document: int
    medium: int | None = None
    small: tuple[int, ...] = ()
    revisit: bool = False


def _local(tree: Tree, medium: int, rng: random.Random) -> tuple[int, ...]:
    return (rng.choice(tree.medium[medium]),)


def _local_question(tree: Tree, document: int, medium: int, rng: random.Random) -> Question:
    return Question("local", document, medium, _local(tree, medium, rng))


def _fresh(draw: Callable[[], Question], used: set[Question], tries: int = 8) -> Question:
    """A question not planned yet for its document, where a few draws find one (else a repeat)."""
    question = draw()
    for _ in range(tries):
        if question not in used:
            break
        question = draw()
    used.add(question)
    return question


def hierarchical(tree: Tree, document: int, count: int, rng: random.Random, revisit: bool = False,
                 used: set[Question] | None = None) -> list[Question]:
    """global, medium, local (inside that medium), medium, local, ... (`count` in all; a revisit
    starts at the medium level); sections and chunks already in `used` are avoided where possible."""
    used = set() if used is None else used
    plan: list[Question] = []
    level = "medium" if revisit else "global"
    medium = 0
    while len(plan) < count:
        if level == "global":
            question = _fresh(lambda: Question("global", document), used)
            level = "medium"
        elif level == "medium":
            question = _fresh(lambda: Question("medium", document, rng.randrange(len(tree.medium))), used)
            medium = question.medium or 0
            level = "local"
        else:
            question = _fresh(partial(_local_question, tree, document, medium, rng), used)
            level = "medium"
        plan.append(replace(question, revisit=revisit))
    return plan


def diverse(tree: Tree, document: int, count: int, rng: random.Random, weights: dict[str, float],
            used: set[Question] | None = None) -> list[Question]:
    """`count` questions of kinds drawn by `weights` (multi-hop needs two small chunks)."""
    used = set() if used is None else used
    kinds = sorted(k for k, w in weights.items() if w > 0)

    def draw(kind: str) -> Question:
        if kind == "global":
            return Question("global", document)
        if kind == "medium":
            return Question("medium", document, rng.randrange(len(tree.medium)))
        if kind == "local":
            medium = rng.randrange(len(tree.medium))
            return Question("local", document, medium, _local(tree, medium, rng))
        if len(tree.medium) >= 2:  # across the document: two different medium chunks
            first, second = sorted(rng.sample(range(len(tree.medium)), 2))
            return Question("multi_hop", document, None, (rng.choice(tree.medium[first]), rng.choice(tree.medium[second])))
        return Question("multi_hop", document, None, tuple(sorted(rng.sample(range(len(tree.small)), 2))))

    plan = []
    for _ in range(count):
        kind = rng.choices(kinds, weights=[weights[k] for k in kinds])[0]
        if kind == "multi_hop" and len(tree.small) < 2:
            kind = "local"
        plan.append(_fresh(partial(draw, kind), used))
    return plan


def record_plan(trees: list[Tree], rng: random.Random, hierarchical_count: int, diverse_count: int, weights: dict[str, float],
                revisit_count: int, revisit_probability: float) -> list[Question]:
    """The questions of a record over its documents, in conversation order."""
    plan: list[Question] = []
    used: list[set[Question]] = [set() for _ in trees]  # per document: what was asked already
    for index, tree in enumerate(trees):
        plan += hierarchical(tree, index, hierarchical_count, rng, used=used[index])
        plan += diverse(tree, index, diverse_count, rng, weights, used[index])
        for earlier in range(index):
            if rng.random() < revisit_probability:
                plan += hierarchical(trees[earlier], earlier, revisit_count, rng, revisit=True, used=used[earlier])
    return plan
