"""RULER's frequent words extraction (fwe): coded words drawn from a Zipf (zeta) distribution.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/freq_words_extraction.py: a vocabulary of
random 6-letter words (size = budget // 50), word k repeated floor(N * k^-alpha / zeta(alpha))
times, the most frequent replaced by '...' as noise; the answer is the next three.

RULER ranks the sorted vocabulary and orders the N words with `random.Random(random_seed).shuffle`,
a fresh generator each time: every sample with N words has the same layout (which positions hold
rank 1, 2, 3, ...), only the words differ. We do the same with the eval's seed (42, RULER's default,
unless --seed); `--task-args placement=per_sample` draws both orders per sample instead.
"""

from __future__ import annotations

import math
import string
from dataclasses import asdict, astuple, dataclass
from typing import Callable

import numpy as np

from harness.core.types import Sample
from harness.tasks.base import Counter, prompt_budget
from harness.tasks.data import TaskOptions
from harness.tasks.ruler.common import (
    build_sample,
    counts_checked,
    fixed_ends,
    fixed_permutation,
    fixed_shuffle,
    placement,
    ruler_memo,
    sample_rng,
    step_down_fit,
    templates,
)
from harness.tasks.sizing import Layout, costs_of, count_layout, to_sample


@dataclass(frozen=True)
class FreqWordsConfig:
    """RULER's `fwe` row."""

    alpha: float = 2.0
    coded_wordlen: int = 6
    vocab_size: int = -1  # -1: (length - tokens_to_generate) // 50, as RULER


def make_fwe_sample(config: FreqWordsConfig, options: TaskOptions, task: str, counter: Counter, length: int,
                    index: int, seed: int) -> Sample:
    """One fwe sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["freq_words_extraction"]
    budget = prompt_budget(int(spec["tokens_to_generate"]), length)
    build, vocab = _words(config, options, task, counter, length, index, seed)
    weights = _weights(config, len(vocab))
    min_units = int(np.ceil(1 / weights[min(3, len(weights) - 1)])) + 1
    meta = {"config": asdict(config), "vocab_size": len(vocab)}

    def render(context: str) -> str:
        return str(spec["template"].format(context=context))

    if placement(options) == "per_sample":
        return build_sample(
            task, counter, length, index, seed, "freq_words_extraction", render, spec["answer_prefix"], build, " ",
            targets=vocab[1:4], min_units=min_units, first_guess=max(8, budget // 3), meta=meta,
        )
    # RULER's word count: searched on its first sample, less `step` for a sample too long
    step = max(1, budget // 32)  # RULER's incremental: input_max_len // 32
    start = ruler_memo(counter, (task, length, seed, astuple(config)), lambda: _ruler_search(
        counter, render, spec["answer_prefix"], _words(config, options, task, counter, length, 0, seed)[0], budget,
        config.coded_wordlen, step, task))
    fitted = step_down_fit(counter, render, spec["answer_prefix"], build, " ", budget, start, step, min_units,
                           f"{task} at length {length}", task)
    return to_sample(task, length, index, seed, render, spec["answer_prefix"], fitted, vocab[1:4], meta)


def _weights(config: FreqWordsConfig, size: int) -> np.ndarray:
    """Zipf frequencies of ranks 1..size: k^-alpha / zeta(alpha)."""
    return np.asarray(np.arange(1, size + 1, dtype=np.float64) ** -config.alpha / _zeta(config.alpha))


def _zeta(alpha: float) -> float:
    """Riemann zeta as RULER takes it (scipy.special.zeta); zeta(2) = pi^2 / 6 without importing
    scipy (~0.6 s), the same float (tests check it)."""
    if alpha == 2.0:
        return math.pi**2 / 6
    from scipy.special import zeta

    return float(zeta(alpha))


def _words(config: FreqWordsConfig, options: TaskOptions, task: str, counter: Counter, length: int, index: int,
           seed: int) -> tuple[Callable[[int], Layout], list[str]]:
    """Sample `index`'s ranked vocabulary ('...' first) and `build(n)`, its text of n words."""
    spec = templates()["freq_words_extraction"]
    costs = costs_of(counter)
    rng = sample_rng(task, length, index, seed)
    budget = prompt_budget(int(spec["tokens_to_generate"]), length)
    size = budget // 50 if config.vocab_size == -1 else config.vocab_size
    vocab = ["".join(rng.choices(string.ascii_lowercase, k=config.coded_wordlen)) for _ in range(size)]
    while len(set(vocab)) < size:
        vocab.append("".join(rng.choices(string.ascii_lowercase, k=config.coded_wordlen)))
    vocab = sorted(set(vocab))
    per_sample = placement(options) == "per_sample"
    if per_sample:
        rng.shuffle(vocab)
    else:
        vocab = fixed_shuffle(vocab, seed)
    vocab[0] = "..."  # the top-ranked word is noise
    weights = _weights(config, len(vocab))
    word_costs = np.array(costs.of([" " + w for w in vocab]), dtype=np.int64)
    vocab_array = np.array(vocab, dtype=object)
    shuffle_seed = rng.getrandbits(64) if per_sample else seed

    def build(num_words: int) -> Layout:
        counts = (num_words * weights).astype(np.int64)
        ranks = np.repeat(np.arange(len(vocab)), counts)
        if per_sample:  # numpy's PCG64 permutation is the same on every machine for the same seed
            order = np.random.default_rng(shuffle_seed).permutation(ranks)
            head, tail = int(order[0]), int(order[-1])
            text = lambda: " ".join(vocab_array[order])  # noqa: E731
        else:  # RULER's: the ranks in order, then one fixed permutation for this many words (cached)
            a, b = fixed_ends(seed, len(ranks))
            head, tail = int(ranks[a]), int(ranks[b])
            text = lambda: " ".join(vocab_array[ranks[fixed_permutation(seed, len(ranks))]])  # noqa: E731
        total = int((counts * word_costs).sum())
        middle = total - int(word_costs[head] + word_costs[tail])
        return Layout(vocab[head], vocab[tail], middle, text, {})

    return build, vocab


def _ruler_search(counter: Counter, render: Callable[[str], str], answer_prefix: str, build: Callable[[int], Layout],
                  budget: int, coded_wordlen: int, step: int, check_key: str) -> int:
    """RULER's `generate_input_output` search: from budget // coded_wordlen words, add `step` while
    the prompt is under the budget, then take one step back."""
    words = budget // coded_wordlen
    while True:
        layout = build(words)
        tokens = count_layout(counter, render, answer_prefix, layout, " ")
        if tokens >= budget:
            break
        words += step
    if not counts_checked(counter, render, answer_prefix, layout, tokens, check_key):
        return _ruler_search(counter, render, answer_prefix, build, budget, coded_wordlen, step, check_key)
    return words - step
