"""RULER's common words extraction (cwe): find the 10 words repeated most in a numbered list.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/common_words_extraction.py: 10 common words
repeated 30 times among uncommon words repeated 3 times (below 4k: 6 and 1), shuffled and
numbered `1. word 2. word ...`, after one solved example (40 words at 10/3; below 4k 20 at 3/1).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace

import numpy as np

from harness.core.prompt import TokenCosts
from harness.core.types import Sample
from harness.tasks.base import Counter
from harness.tasks.ruler.common import build_sample, fixed_permutation, ruler_memo, sample_rng, templates
from harness.tasks.ruler.words import common_word_pool, large_word_pool
from harness.tasks.sizing import Layout, costs_of


@dataclass(frozen=True)
class CommonWordsConfig:
    """RULER's `cwe` row."""

    freq_cw: int = 30
    freq_ucw: int = 3
    num_cw: int = 10
    num_fewshot: int = 1


def _source(seed: int, num_words: int) -> tuple[str, ...]:
    """RULER's word source: wonderwords' pool, the large list past its size."""
    pool = common_word_pool(seed)
    return pool if num_words <= len(pool) else large_word_pool()


def _choose(rng: random.Random, seed: int, num_words: int) -> list[str]:
    """RULER's `random.sample` of distinct words."""
    return rng.sample(_source(seed, num_words), num_words)


def _pool_based(n: int, k: int) -> bool:
    """Which of its two algorithms CPython's `random.sample(population of n, k)` runs (Lib/random.py,
    3.11-3.13): a shrinking copy of the population when that list is smaller than a k-item set.
    Either way the draw is prefix-consistent: with the same generator state and algorithm, the
    sample of k is the first k of any larger sample."""
    setsize = 21 + (4 ** math.ceil(math.log(k * 3, 4)) if k > 5 else 0)
    return n <= setsize


class _Draws:
    """`_choose(random.Random(list_seed), seed, k)` for the many sizes k of one budget search: each
    algorithm's longest sample is drawn once and cut (tests/tasks/ruler/test_incremental_sizing.py
    checks the cuts against `random.sample` across both switch points)."""

    def __init__(self, list_seed: int, seed: int) -> None:
        self.list_seed, self.seed = list_seed, seed
        self._drawn: dict[tuple[int, bool], list[str]] = {}

    def words(self, num_words: int) -> list[str]:
        source = _source(self.seed, num_words)
        key = (len(source), _pool_based(len(source), num_words))
        drawn = self._drawn.get(key)
        if drawn is None or len(drawn) < num_words:
            # a little past the size asked (a search often steps up by one), within the algorithm
            size = min(len(source), num_words + num_words // 8 + 16)
            while size > num_words and _pool_based(len(source), size) != key[1]:
                size -= 1
            drawn = self._drawn[key] = random.Random(self.list_seed).sample(source, size)
        return drawn[:num_words]


def _word_list(rng: random.Random, seed: int, num_words: int, common_repeats: int, uncommon_repeats: int,
               num_common: int) -> tuple[list[str], list[str]]:
    chosen = _choose(rng, seed, num_words)
    common, uncommon = chosen[:num_common], chosen[num_common:]
    words = common * common_repeats + uncommon * uncommon_repeats
    # RULER shuffles with a fresh Random(seed): the same permutation for every list of this size
    return [words[i] for i in fixed_permutation(seed, len(words)).tolist()], common


def _numbered(words: list[str]) -> str:
    return " ".join(map("{}. {}".format, range(1, len(words) + 1), words))


def make_cwe_sample(config: CommonWordsConfig, task: str, counter: Counter, length: int, index: int,
                    seed: int) -> Sample:
    """One cwe sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["common_words_extraction"]
    costs = costs_of(counter)
    rng = sample_rng(task, length, index, seed)
    short = length < 4096
    shot_lists = [_word_list(rng, seed, 20 if short else 40, 3 if short else 10, 1 if short else 3, config.num_cw)
                  for _ in range(config.num_fewshot)]
    answer_prefix = spec["answer_prefix"]

    def solved(words: str, answer: str) -> str:
        return spec["template"].format(context=words) + answer_prefix + " " + answer

    head = "\n".join(solved(_numbered(words), _numbered(answer)) for words, answer in shot_lists)
    repeats = (6, 1) if short else (config.freq_cw, config.freq_ucw)
    draws = _Draws(rng.getrandbits(64), seed)
    outcome: dict[int, list[str]] = {}

    def render(context: str) -> str:
        return head + "\n" + spec["template"].format(context=context) if head else spec["template"].format(context=context)

    def build(num_words: int) -> Layout:
        # The text `_word_list` would give, sized without writing it: the words' costs are summed
        # by repeat count and the labels' from prefix sums; RULER's fixed shuffle changes no count
        # (every word joins at a space), so it runs once, when the chosen size is written out.
        chosen = draws.words(num_words)
        common, uncommon = chosen[: config.num_cw], chosen[config.num_cw :]
        cr, ucr = repeats
        size = len(common) * cr + len(uncommon) * ucr
        outcome[num_words] = common
        word_costs = np.array(costs.of([" " + w for w in chosen]), dtype=np.int64)
        labels = _label_prefix(costs, size)
        # count(" {i}. {word}") = count(" {i}.") + count(" {word}"): the join is at a space
        total = int(labels[size]) + cr * int(word_costs[: len(common)].sum()) + ucr * int(word_costs[len(common) :].sum())

        def materialize() -> str:
            unshuffled = common * cr + uncommon * ucr
            return _numbered([unshuffled[i] for i in fixed_permutation(seed, size).tolist()])

        # The whole prompt: its skeleton (every numbered list cut to "1.") counted once, then every
        # other label and word joins at a space, as in `total`.
        return Layout.counted(opening + total - int(labels[1]), materialize, {})

    skeleton_head = "\n".join(solved("1.", "1.") for _ in shot_lists)
    skeleton = (skeleton_head + "\n" if skeleton_head else "") + spec["template"].format(context="1.")
    opening = ruler_memo(counter, ("cwe_skeleton", skeleton), lambda: counter.count(skeleton, answer_prefix))
    opening += sum(_list_cost(costs, words) + _list_cost(costs, answer) for words, answer in shot_lists)

    sample = build_sample(
        task, counter, length, index, seed, "common_words_extraction", render, answer_prefix, build, " ",
        targets=[], min_units=config.num_cw + 1, first_guess=max(config.num_cw + 1, length // (5 * repeats[1])),
        meta={"config": asdict(config)},
    )
    return replace(sample, targets=tuple(outcome[sample.meta["units"]]))


def _list_cost(costs: TokenCosts, words: list[str]) -> int:
    """Tokens `_numbered(words)` adds to a prompt whose list reads just "1.": every other label and
    every word, each joined at a space."""
    return int(_label_prefix(costs, len(words))[len(words)] - _label_prefix(costs, 1)[1]) + sum(
        costs.of([" " + w for w in words]))


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
