"""BABILong samples built here at any length, as the reference's generator builds them
(`babilong/babilong_utils.py`: `NoiseInjectionDataset` over a `SentenceSampler`).

The facts, question and target of sample `index` are the published `0k` row `index` (the bAbI facts with no
haystack). The haystack is background sentences read in order from a folder of `.txt` files (the reference:
PG-19 books; default here: `D/pg_essays`, the essays RULER and NIAH use; `--task-args haystack_dir=DIR` for any
other, e.g. PG-19 books exported as text), split by untrained Punkt as RULER's essays. Each fact goes before a
background sentence drawn uniformly at random (with replacement, then sorted, so the facts keep their order),
as the reference's `fact_positions`. The number of background sentences is the largest whose prompt fits the
length's budget (the one budget rule; exact token counts through the shared sizing), so any length from the
facts' own size upwards can be built; past the folder's size the sentences repeat (RULER's essay rule).

Deviations from the reference: sentences are whole (the reference cuts the last one to the token), the
haystack starts at the folder's first sentence for every sample (the reference's sampler moves on through the
books), and the fact positions come from `random.Random("babilong|task|length|index|seed")`, not numpy's
generator, so samples are reproducible one by one.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.core.types import NeedleDepths, Prompt, Sample, sample_id
from harness.tasks.base import Counter, prompt_budget
from harness.tasks.ruler.haystacks import Essay
from harness.tasks.sizing import Layout, costs_of, fit_layout, insert_layout, unit_sequence


@lru_cache(maxsize=4)
def sentences_of(essay: Essay) -> tuple[str, ...]:
    """The haystack's sentences (Punkt's sentence starts over the whitespace-normalised words)."""
    bounds = [*essay.sentence_starts, len(essay.words)]
    if not essay.sentence_starts or essay.sentence_starts[0] != 0:
        bounds = [0, *bounds]
    return tuple(" ".join(essay.words[a:b]) for a, b in zip(bounds, bounds[1:]) if b > a)


def split_facts(text: str) -> list[str]:
    """The bAbI facts of a `0k` row's input: one sentence each."""
    return [f.strip() for f in re.split(r"(?<=[.!?])\s+", text.strip()) if f.strip()]


def make_generated(task: str, label: str, row: dict[str, Any], essay: Essay, render: Callable[[str], Prompt],
                   max_new_tokens: int, counter: Counter, length: int, index: int, seed: int) -> Sample:
    """Sample `index` at `length`: the row's facts at random sentence boundaries of as much haystack as fits."""
    facts = split_facts(str(row["input"]))
    if not facts:
        raise HarnessError(f"{label}: row {index} of the 0k config has no facts in `input`")
    costs = costs_of(counter)
    units = unit_sequence(costs, f"babilong-sentences:{essay.digest}", lambda: sentences_of(essay), " ")
    rng = random.Random(f"babilong|{task}|{length}|{index}|{seed}")
    fractions = sorted(rng.random() for _ in facts)

    def build(n: int) -> Layout:
        positions = [min(int(f * (n + 1)), n) for f in fractions]
        depths = NeedleDepths(tuple(round(100 * p / max(n, 1), 2) for p in positions))
        return insert_layout(units, n, list(zip(positions, facts)), costs, depths=depths)

    budget = prompt_budget(max_new_tokens, length)
    try:
        fitted = fit_layout(counter, render, "", build, " ", budget, min_units=0, first_guess=max(length // 30, 1),
                            what=f"{label} at length {length}", check_key=f"babilong-generated:{task}")
    except HarnessError as error:  # the facts and the prompt alone exceed the budget: the sample cannot be built
        return Sample(id=sample_id(f"babilong_{task}", length, index, seed), task=f"babilong_{task}", length=length,
                      index=index, prompt="", targets=(str(row["target"]),),
                      meta={"question": row["question"], "config": "generated"}, skipped=str(error))
    return Sample(
        id=sample_id(f"babilong_{task}", length, index, seed),
        task=f"babilong_{task}",
        length=length,
        index=index,
        prompt=render(fitted.value.materialize()),
        targets=(str(row["target"]),),
        prompt_tokens=fitted.tokens,
        meta={"question": row["question"], "config": "generated", "haystack": essay.digest,
              "facts": len(facts), "sentences": fitted.units},
        needle_depths=fitted.value.needle_depths,
    )
