"""qa and fwe follow RULER's placement: its per-length count and its fixed-seed shuffle, re-derived here.

RULER @c3f5e3b (scripts/data/synthetic/qa.py, freq_words_extraction.py) shuffles with
`random.Random(args.random_seed).shuffle(x)`: a fresh generator per call, so the permutation depends
only on len(x). Its count of documents / words per length comes from its first sample; a sample too
long for it drops RULER's `incremental` (10 documents; input_max_len // 32 words) until it fits.
"""

import random
import re

import numpy as np
import pytest
from scipy.special import zeta

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.ruler.common import fixed_shuffle
from harness.tasks.ruler.qa import _ruler_docs
from harness.tasks.ruler.tasks import ROWS, ruler_task

SEEDS = (42, 3)
LENGTHS = (1024, 4096)


def ruler_order(n: int, seed: int) -> list[int]:
    """The input index at each output position after RULER's shuffle, written out: CPython's
    Fisher-Yates (i from n-1 down to 1, swap x[i] with x[randbelow(i + 1)]) on a fresh Random(seed)."""
    rng = random.Random(seed)
    order = list(range(n))
    for i in reversed(range(1, n)):
        j = rng.randrange(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def test_the_written_out_rule_is_pythons_shuffle() -> None:
    """Guards the re-derivation itself, and pins a few slots of seed 42 (gold = input 0)."""
    for n in range(1, 80):
        for seed in SEEDS:
            assert fixed_shuffle(list(range(n)), seed) == ruler_order(n, seed)
    assert [ruler_order(n, 42).index(0) for n in (10, 20, 47)] == [8, 18, 28]


def _documents(prompt: str) -> list[str]:
    return re.split(r"Document \d+:\n", prompt.split("The following are given documents.\n\n", 1)[1])[1:]


def _gold_slot(name: str, docs: list[str], target: str) -> tuple[int, int]:
    """(output slot, RULER input index) of the document holding the answer: SQuAD's one gold
    document is input 0; the HotpotQA fixture's answer sits in context paragraph 3."""
    slots = [i for i, d in enumerate(docs) if re.search(rf"\b{re.escape(target)}\b", d)]
    assert len(slots) == 1, slots
    return slots[0], (0 if name == "qa_1" else 3)


@pytest.fixture(scope="module")
def fmt(chat_tokenizer):  # type: ignore[no-untyped-def]
    return PromptFormat.create(chat_tokenizer, "off")


@pytest.mark.parametrize("name", ["qa_1", "qa_2"])
@pytest.mark.parametrize("seed", SEEDS)
def test_qa_gold_lands_in_rulers_slot_and_count(name, seed, fmt, ruler_data) -> None:
    task = get_task(name, TaskOptions(data_dir=ruler_data))
    corpus = {"qa_1": 72, "qa_2": 400}[name]  # documents in the fixture files
    for length in LENGTHS:
        samples = task.samples(fmt, length, 8, seed=seed)
        first = samples[0].meta["units"]
        for sample in samples:
            docs = _documents(sample.prompt)
            n = len(docs)
            assert n == sample.meta["units"] < corpus
            # RULER's count: the first sample's, less 10 at a time (never fewer than the gold documents)
            assert n <= first and ((first - n) % 10 == 0 or n == {"qa_1": 1, "qa_2": 10}[name])
            slot, source = _gold_slot(name, docs, sample.targets[0])
            assert slot == ruler_order(n, seed).index(source), (length, sample.index, n)
            assert sample.prompt_tokens + task.max_new_tokens <= length


@pytest.mark.parametrize("name", ["qa_1", "qa_2"])
def test_qa_count_is_the_first_samples_most_and_steps_only_when_too_long(name, fmt, ruler_data) -> None:
    """Sample 0 holds the most documents that fit; a sample with fewer would not fit 10 more."""
    from harness.tasks.ruler.qa import SEP, _draw
    from harness.tasks.sizing import count_layout

    options = TaskOptions(data_dir=ruler_data)
    task = get_task(name, options)
    config, budget, stepped = ROWS[name][1], 4096 - task.max_new_tokens, 0
    samples = task.samples(fmt, 4096, 24, seed=42)
    first = samples[0].meta["units"]

    def tokens(index: int, n: int) -> int:
        draw = _draw(config, options, name, fmt, 4096, index, 42)
        return count_layout(fmt, draw.render, samples[0].answer_prefix, draw.build(n), SEP)

    assert tokens(0, first) <= budget < tokens(0, first + 1)
    for sample in samples:
        n = sample.meta["units"]
        assert tokens(sample.index, n) == sample.prompt_tokens <= budget
        if n < first:
            stepped += 1
            assert tokens(sample.index, n + 10) > budget
    assert stepped, "no sample needed fewer documents: the test data no longer exercises the step"


def test_per_sample_placement_is_kept_as_an_option(fmt, ruler_data) -> None:
    task = get_task("qa_1", TaskOptions(data_dir=ruler_data, args={"placement": "per_sample"}))
    off_rule, slots = 0, set()
    for sample in task.samples(fmt, 4096, 12, seed=42):
        docs = _documents(sample.prompt)
        slot, _ = _gold_slot("qa_1", docs, sample.targets[0])
        slots.add(slot)
        off_rule += slot != ruler_order(len(docs), 42).index(0)
        assert sample.prompt_tokens + task.max_new_tokens >= 0.97 * 4096  # fitted per sample, best-fit filled
    assert len(slots) >= 4 and off_rule >= 6


@pytest.mark.parametrize("more", [0, 1, 5, 9])
def test_ruler_docs_follows_rulers_branches(more) -> None:
    """qa.py's all_docs: gold + random.sample(more) when they suffice; else gold + more + random
    others; from k = len(DOCS) on, DOCS repeated in id order."""
    corpus = 30
    gold, more_ids = [7, 3], list(range(10, 10 + more))
    others = [i for i in range(corpus) if i not in gold + more_ids]
    random.Random(1).shuffle(others)
    sampled = random.Random(2).sample(more_ids, len(more_ids))
    for k in range(len(gold), corpus + 12):
        docs = _ruler_docs(gold, more_ids, sampled, lambda m: others[:m], corpus, k)
        assert len(docs) == k
        if k >= corpus:
            assert docs == [i % corpus for i in range(k)]
        elif k - len(gold) <= more:
            assert docs[:2] == gold and docs[2:] == sampled[: k - 2]
        else:
            assert docs[:2 + more] == gold + more_ids and docs[2 + more:] == others[: k - 2 - more]
            assert len(set(docs)) == k


def _rank_pattern(text: str, targets: tuple[str, ...]) -> list[int]:
    """Each word's rank: 0 for the '...' noise, 1-3 for the answers, 4 for any other."""
    ranks = {"...": 0, **{t: i + 1 for i, t in enumerate(targets)}}
    return [ranks.get(w, 4) for w in text.split()]


def ruler_fwe_pattern(num_words: int, vocab_size: int, seed: int) -> list[int]:
    """freq_words_extraction.py's gen_text: word k repeated int(N * k^-2 / zeta(2)) times in rank
    order, then random.Random(seed).shuffle (written out above), ranks above 3 shown as 4."""
    counts = (num_words * (np.arange(1, vocab_size + 1) ** -2.0) / zeta(2.0)).astype(int)
    ranks = [min(rank, 4) for rank, count in enumerate(counts) for _ in range(count)]
    return [ranks[i] for i in ruler_order(len(ranks), seed)]


@pytest.mark.parametrize("seed", SEEDS)
def test_fwe_layout_and_count_are_rulers(seed, fmt) -> None:
    task = get_task("fwe")
    for length in (2048, 4096):
        samples = task.samples(fmt, length, 6, seed=seed)
        first, step = samples[0].meta["units"], (length - 50) // 32
        patterns = set()
        for sample in samples:
            text = sample.prompt.split("coded words. ", 1)[1].split("\nQuestion:")[0]
            pattern = _rank_pattern(text, sample.targets)
            n = sample.meta["units"]
            assert pattern == ruler_fwe_pattern(n, sample.meta["vocab_size"], seed), (length, sample.index)
            assert n <= first and (first - n) % step == 0
            patterns.add((n, tuple(pattern)))
        assert len(patterns) == len({n for n, _ in patterns})  # one layout per word count
    per_sample = get_task("fwe", TaskOptions(args={"placement": "per_sample"})).samples(fmt, 4096, 2, seed=seed)
    for sample in per_sample:
        text = sample.prompt.split("coded words. ", 1)[1].split("\nQuestion:")[0]
        pattern = _rank_pattern(text, sample.targets)
        assert pattern != ruler_fwe_pattern(len(pattern), sample.meta["vocab_size"], seed)


def test_placement_values_are_checked() -> None:
    with pytest.raises(HarnessError, match="placement='shuffled'.*ruler, per_sample"):
        get_task("qa_1", TaskOptions(args={"placement": "shuffled"}))


def test_only_the_changed_rows_change_their_cache_params() -> None:
    """qa_1 and qa_2 key on version 3, fwe on 2, each with its placement; every other row's params are as before."""
    from dataclasses import asdict

    for name, (family, config) in ROWS.items():
        params = ruler_task(name).params
        if name in ("qa_1", "qa_2", "fwe"):
            assert params["generator_version"] == (3 if name.startswith("qa") else 2)
            assert params["placement"] == "ruler"
            assert ruler_task(name, TaskOptions(args={"placement": "per_sample"})).params["placement"] == "per_sample"
        else:
            assert params == {"benchmark": "ruler", "family": family, "generator_version": 1, **asdict(config)}
