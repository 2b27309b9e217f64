"""Length control shared by HELMET's Recall, RAG and Re-rank tasks: keep as many units (key-value pairs, passages)
as fit the prompt budget, the gold units placed where they sit, proportionally, in the published row.

HELMET ships one file per length (`k50` ... `k1800` pairs, `k20` ... `k1000` passages), each sized to Llama-2's
tokenizer. We read the largest file's rows and cut each to the evaluated model's budget instead: the prompt (template,
demos, gold, distractors in the file's order) plus the generation budget fits the length exactly (`prompt_budget`),
counted with the model's own tokenizer. The count is a full tokenisation of each probed prompt: HELMET's units join
at punctuation (`",\n "`, `".\n\nDocument"`), which byte-level tokenizers merge across, so the additive sizing of
`harness.tasks.sizing` does not hold for them.

The sample rows follow HELMET's own choice of test examples (`helmet_subset`, `shuffled_subset`).
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from itertools import accumulate
from typing import Any, Callable, Sequence, TypeVar

from harness.core.types import Prompt
from harness.tasks.base import Counter
from harness.tasks.budget import Fitted, fit_to_budget

T = TypeVar("T")


def fit_units(counter: Counter, prompt_for: Callable[[int], Prompt], answer_prefix: str, unit_chars: Sequence[int],
              budget: int, what: str) -> tuple[Fitted[Prompt], str]:
    """The prompt with the most units `n` (0 <= n <= len(unit_chars)) whose tokens fit `budget`, and no skip reason;
    `unit_chars` are the units' lengths in characters (for the first guess). Where even `prompt_for(0)` (template, demos, gold) is
    over the budget: that prompt and the reason, for a skipped sample (as the other real-document tasks skip)."""
    available = len(unit_chars)
    counts: dict[int, int] = {}

    def count(n: int) -> int:
        if n > available:
            return budget + 1  # there are no more units: as good as over the budget
        if n not in counts:
            counts[n] = counter.count(prompt_for(n), answer_prefix)
        return counts[n]

    base_tokens = count(0)
    if base_tokens > budget:
        return Fitted(prompt_for(0), 0, base_tokens), (f"{what}: the prompt without distractors (template, demos, "
                                                       f"gold) takes {base_tokens} tokens, over the budget of {budget}")
    base_chars = max(len(_text(prompt_for(0))), 1)
    chars_per_token = base_chars / max(base_tokens, 1)
    room = (budget - base_tokens) * chars_per_token
    guess = bisect_right(list(accumulate(unit_chars)), room)
    fitted = fit_to_budget(lambda n: n, count, budget, min_units=0, first_guess=max(1, guess), what=what)
    return Fitted(prompt_for(fitted.units), fitted.units, fitted.tokens), ""


def _text(prompt: Prompt) -> str:
    return prompt if isinstance(prompt, str) else "".join(str(m.get("content", "")) for m in prompt)


def place(gold: Sequence[tuple[float, T]], others: Sequence[T]) -> tuple[list[T], list[int]]:
    """`others` in order with each gold unit inserted at its relative position (0 first, 1 last) among the result;
    the units and the gold units' indices. Golds keep their order and never share a slot."""
    total = len(others) + len(gold)
    slots: list[int] = []
    for rank, (where, _) in enumerate(sorted(gold, key=lambda g: g[0])):
        slot = round(where * (total - 1)) if total > 1 else 0
        slot = max(slot, slots[-1] + 1 if slots else 0)
        slots.append(min(slot, total - len(gold) + rank))  # room left for the golds after it
    golds = [unit for _, unit in sorted(gold, key=lambda g: g[0])]
    out: list[T] = []
    rest = iter(others)
    pending = dict(zip(slots, golds))
    for i in range(total):
        out.append(pending[i] if i in pending else next(rest))
    return out, slots


def relative(index: int, count: int) -> float:
    """Where unit `index` of `count` sits in its row (0 first, 1 last)."""
    return index / (count - 1) if count > 1 else 0.0


def helmet_subset(keys: Sequence[Any], limit: int, seed: int = 42) -> list[int]:
    """HELMET's choice of test rows where it samples by question (`load_qa`, `load_msmarco_rerank`):
    `random.seed(seed)` then `random.sample(sorted(set(keys)), limit)`, every row whose key was drawn, in file
    order. (eval.py seeds right before loading; nothing else draws in between.)"""
    distinct = sorted(set(keys))
    drawn = set(random.Random(seed).sample(distinct, min(limit, len(distinct))))
    return [i for i, key in enumerate(keys) if key in drawn]


def shuffled_subset(count: int, limit: int, seed: int = 42) -> list[int]:
    """HELMET's choice where it shuffles (`load_json_kv`): `datasets`' `shuffle(seed).select(range(limit))`."""
    return shuffled(count, seed)[:limit]


def shuffled(count: int, seed: int) -> list[int]:
    """`datasets`' `Dataset.shuffle(seed=seed)` order of `count` rows: numpy's `default_rng(seed).permutation(count)`
    (every HELMET shuffle: demo pools, ICL and InfiniteBench rows, `train_test_split`)."""
    import numpy as np

    return [int(i) for i in np.random.default_rng(seed).permutation(count)]


def demo_seed(key: Any) -> int:
    """HELMET's per-question demo seed (RAG, Re-rank): sha256 of the key's text, mod 2**31."""
    return int(hashlib.sha256(str(key).encode("utf-8")).hexdigest(), 16) % 2**31
