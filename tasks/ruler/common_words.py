"""RULER's common words extraction (cwe): find the 10 words repeated most in a numbered list.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/common_words_extraction.py: 10 common words
repeated 30 times among uncommon words repeated 3 times (below 4k: 6 and 1), shuffled and
numbered `1. word 2. word ...`, after one solved example (40 words at 10/3; below 4k 20 at 3/1).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from harness.core.types import Sample
from harness.tasks.base import Counter
from harness.tasks.ruler.common import build_sample, sample_rng, templates
from harness.tasks.ruler.words import common_word_pool, large_word_pool
from harness.tasks.sizing import Layout, costs_of


@dataclass(frozen=True)
class CommonWordsConfig:
    """RULER's `cwe` row."""

    freq_cw: int = 30
    freq_ucw: int = 3
    num_cw: int = 10
    num_fewshot: int = 1


def _word_list(rng: random.Random, seed: int, num_words: int, common_repeats: int, uncommon_repeats: int,
               num_common: int) -> tuple[list[str], list[str]]:
    pool = common_word_pool(seed)
    source = pool if num_words <= len(pool) else large_word_pool()
    chosen = rng.sample(source, num_words)
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
        words, common = _word_list(random.Random(list_seed), seed, num_words, *repeats, config.num_cw)
        outcome[num_words] = common
        # count(" {i}. {word}") = count(" {i}.") + count(" {word}"): the join is at a space
        numbers = costs.of([f" {i + 1}." for i in range(len(words))])
        total = sum(numbers) + sum(costs.of([" " + w for w in words]))
        first, last = f"1. {words[0]}", f"{len(words)}. {words[-1]}"
        middle = total - numbers[0] - numbers[-1] - sum(costs.of([" " + words[0], " " + words[-1]]))
        return Layout(first, last, middle, lambda: _numbered(words), {})

    sample = build_sample(
        task, counter, length, index, seed, "common_words_extraction", render, answer_prefix, build, " ",
        targets=[], min_units=config.num_cw + 1, first_guess=max(config.num_cw + 1, length // (5 * repeats[1])),
        meta={"config": asdict(config)},
    )
    from dataclasses import replace

    return replace(sample, targets=tuple(outcome[sample.meta["units"]]))
