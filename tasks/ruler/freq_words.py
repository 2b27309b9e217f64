"""RULER's frequent words extraction (fwe): coded words drawn from a Zipf (zeta) distribution.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/freq_words_extraction.py: a vocabulary of
random 6-letter words (size = budget // 50), word k repeated floor(N * k^-alpha / zeta(alpha))
times, the most frequent replaced by '...' as noise; the answer is the next three.
"""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import zeta

from harness.types import Sample
from tasks.base import Counter
from tasks.ruler.common import build_sample, sample_rng, templates
from tasks.sizing import Layout, costs_of


@dataclass(frozen=True)
class FreqWordsConfig:
    """RULER's `fwe` row."""

    alpha: float = 2.0
    coded_wordlen: int = 6
    vocab_size: int = -1  # -1: (length - tokens_to_generate) // 50, as RULER


def make_fwe_sample(config: FreqWordsConfig, task: str, counter: Counter, length: int, index: int,
                    seed: int) -> Sample:
    """One fwe sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["freq_words_extraction"]
    costs = costs_of(counter)
    rng = sample_rng(task, length, index, seed)
    budget = length - int(spec["tokens_to_generate"])
    size = budget // 50 if config.vocab_size == -1 else config.vocab_size
    vocab = ["".join(rng.choices(string.ascii_lowercase, k=config.coded_wordlen)) for _ in range(size)]
    while len(set(vocab)) < size:
        vocab.append("".join(rng.choices(string.ascii_lowercase, k=config.coded_wordlen)))
    vocab = sorted(set(vocab))
    rng.shuffle(vocab)
    vocab[0] = "..."  # the top-ranked word is noise
    weights = np.arange(1, len(vocab) + 1, dtype=np.float64) ** -config.alpha / zeta(config.alpha)
    word_costs = np.array(costs.of([" " + w for w in vocab]), dtype=np.int64)
    vocab_array = np.array(vocab, dtype=object)
    shuffle_seed = rng.getrandbits(64)

    def build(num_words: int) -> Layout:
        counts = (num_words * weights).astype(np.int64)
        # numpy's PCG64 permutation is the same on every machine for the same seed
        order = np.random.default_rng(shuffle_seed).permutation(np.repeat(np.arange(len(vocab)), counts))
        first, last = vocab[order[0]], vocab[order[-1]]
        total = int((counts * word_costs).sum())
        middle = total - int(word_costs[order[0]] + word_costs[order[-1]])
        return Layout(first, last, middle, lambda: " ".join(vocab_array[order]), {})

    def render(context: str) -> str:
        return spec["template"].format(context=context)

    return build_sample(
        task, counter, length, index, seed, "freq_words_extraction", render, spec["answer_prefix"], build, " ",
        targets=vocab[1:4], min_units=int(np.ceil(1 / weights[min(3, len(weights) - 1)])) + 1,
        first_guess=max(8, budget // 3),
        meta={"config": asdict(config), "vocab_size": size},
    )
