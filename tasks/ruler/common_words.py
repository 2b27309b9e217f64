"""RULER's common words extraction (cwe): find the 10 words repeated most in a numbered list.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/common_words_extraction.py: 10 common words
repeated 30 times among uncommon words repeated 3 times (below 4k: 6 and 1), shuffled and
numbered `1. word 2. word ...`, after one solved example (40 words at 10/3; below 4k 20 at 3/1).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import numpy as np

from harness.core.prompt import TokenCosts
from harness.core.types import Sample
from harness.tasks.base import Counter
from harness.tasks.ruler.common import build_sample, fixed_ends, fixed_permutation, sample_rng, templates
from harness.tasks.ruler.words import common_word_pool, large_word_pool
from harness.tasks.sizing import Layout, costs_of


@dataclass(frozen=True)
class CommonWordsConfig:
    """RULER's `cwe` row."""

    freq_cw: int = 30
    freq_ucw: int = 3
    num_cw: int = 10
    num_fewshot: int = 1


def _choose(rng: random.Random, seed: int, num_words: int) -> list[str]:
    """RULER's `random.sample` of distinct words: wonderwords' pool, the large list past its size."""
    pool = common_word_pool(seed)
    source = pool if num_words <= len(pool) else large_word_pool()
    return rng.sample(source, num_words)


def _word_list(rng: random.Random, seed: int, num_words: int, common_repeats: int, uncommon_repeats: int,
               num_common: int) -> tuple[list[str], list[str]]:
    chosen = _choose(rng, seed, num_words)
    common, uncommon = chosen[:num_common], chosen[num_common:]
    words = common * common_repeats + uncommon * uncommon_repeats
    random.Random(seed).shuffle(words)  # RULER shuffles with a fresh Random(seed)
    return words, common


def _numbered(words: list[str]) -> str:
    return " ".join(f"{i + 1}. {w}" for i, w in enumerate(words))


def make_cwe_sample(config: CommonWordsConfig, task: str, counter: Counter, length: int, index: int,
                    seed: int) -> Sample:
    """One cwe sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["common_words_extraction"]
    costs = costs_of(counter)
    rng = sample_rng(task, length, index, seed)
    short = length < 4096
    shots = []
    for _ in range(config.num_fewshot):
        words, answer = _word_list(rng, seed, 20 if short else 40, 3 if short else 10, 1 if short else 3, config.num_cw)
        shots.append(spec["template"].format(context=_numbered(words)) + spec["answer_prefix"] + " " + _numbered(answer))
    head = "\n".join(shots)
    answer_prefix = spec["answer_prefix"]
    repeats = (6, 1) if short else (config.freq_cw, config.freq_ucw)
    list_seed = rng.getrandbits(64)
    outcome: dict[int, list[str]] = {}

    def render(context: str) -> str:
        return head + "\n" + spec["template"].format(context=context) if head else spec["template"].format(context=context)

    def build(num_words: int) -> Layout:
        # The text `_word_list` would give, sized without writing it: the words' costs are summed
        # by repeat count, the labels' from prefix sums, and RULER's fixed shuffle only decides
        # which words come first and last (the whole list is written once, for the chosen size).
        chosen = _choose(random.Random(list_seed), seed, num_words)
        common, uncommon = chosen[: config.num_cw], chosen[config.num_cw :]
        cr, ucr = repeats
        size = len(common) * cr + len(uncommon) * ucr
        outcome[num_words] = common
        word_costs = np.array(costs.of([" " + w for w in chosen]), dtype=np.int64)
        labels = _label_prefix(costs, size)
        # count(" {i}. {word}") = count(" {i}.") + count(" {word}"): the join is at a space
        total = int(labels[size]) + cr * int(word_costs[: len(common)].sum()) + ucr * int(word_costs[len(common) :].sum())

        def word_at(i: int) -> str:  # item i of `common * cr + uncommon * ucr`, before the shuffle
            head_size = len(common) * cr
            return common[i % len(common)] if i < head_size else uncommon[(i - head_size) % len(uncommon)]

        a, b = fixed_ends(seed, size)
        first_word, last_word = word_at(a), word_at(b)
        ends = int(labels[1] + labels[size] - labels[size - 1]) + sum(costs.of([" " + first_word, " " + last_word]))

        def materialize() -> str:
            return _numbered([word_at(int(i)) for i in fixed_permutation(seed, size)])

        return Layout(f"1. {first_word}", f"{size}. {last_word}", total - ends, materialize, {})

    sample = build_sample(
        task, counter, length, index, seed, "common_words_extraction", render, answer_prefix, build, " ",
        targets=[], min_units=config.num_cw + 1, first_guess=max(config.num_cw + 1, length // (5 * repeats[1])),
        meta={"config": asdict(config)},
    )
    from dataclasses import replace

    return replace(sample, targets=tuple(outcome[sample.meta["units"]]))


def _label_prefix(costs: TokenCosts, size: int) -> np.ndarray:
    """Prefix sums of count(" {i}.") over i = 1.. (entry k: the first k labels), at least `size`
    long; extended (an eighth past the size asked) and kept per tokenizer."""
    key = ("cwe_labels",)
    prefix: np.ndarray = costs.memo.get(key, np.zeros(1, dtype=np.int64))
    if len(prefix) <= size:
        done, count = len(prefix) - 1, max(size + size // 8, 1024)
        labels = costs.of([f" {i}." for i in range(done + 1, count + 1)])
        prefix = np.concatenate([prefix, prefix[-1] + np.cumsum(labels, dtype=np.int64)])
        costs.memo[key] = prefix
    return prefix
