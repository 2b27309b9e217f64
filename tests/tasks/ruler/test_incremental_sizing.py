"""The incremental sizing of cwe and fwe: the same text and counts as writing every probe out."""

import math
import random

import numpy as np
import pytest

from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.ruler import common_words, freq_words
from harness.tasks.ruler.common import fixed_ends, fixed_permutation, fixed_shuffle
from harness.tasks.ruler.common_words import CommonWordsConfig, _numbered, _word_list
from harness.tasks.sizing import count_layout


@pytest.fixture(scope="module")
def fmt(chat_tokenizer):  # type: ignore[no-untyped-def]
    return PromptFormat.create(chat_tokenizer, "on")


@pytest.mark.parametrize("seed", [0, 42, 7001])
@pytest.mark.parametrize("size", [1, 2, 3, 17, 1000])
def test_fixed_permutation_is_the_fixed_shuffle_as_indices(seed: int, size: int) -> None:
    items = [f"w{i % 7}" for i in range(size)]  # repeated items: the shuffle does not look at them
    perm = fixed_permutation(seed, size)
    assert [items[i] for i in perm] == fixed_shuffle(items, seed)
    assert fixed_ends(seed, size) == (perm[0], perm[-1])
    with pytest.raises(ValueError):
        perm[0] = 1  # cached and shared: read-only


def test_zeta_of_two_is_scipys_float() -> None:
    from scipy.special import zeta

    assert freq_words._zeta(2.0) == float(zeta(2.0))
    assert freq_words._zeta(3.0) == float(zeta(3.0))


def _cwe_builder(fmt, length: int, index: int = 0):  # type: ignore[no-untyped-def]
    """The `build` make_cwe_sample sizes with, captured from a real sample."""
    captured = {}
    real = common_words.build_sample

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        captured["render"], captured["prefix"], captured["build"] = args[6], args[7], args[8]
        return real(*args, **kwargs)

    common_words.build_sample = spy
    try:
        common_words.make_cwe_sample(CommonWordsConfig(), "cwe", fmt, length, index, 42)
    finally:
        common_words.build_sample = real
    return captured


@pytest.mark.parametrize("length", [2048, 8192])
def test_cwe_layouts_count_exactly_at_every_probe_size(fmt, length: int) -> None:
    captured = _cwe_builder(fmt, length)
    for n in (11, 12, 57, 300, 901):
        layout = captured["build"](n)
        text = layout.materialize()
        assert layout.tokens is not None  # the builder's own sum, no edges counted
        exact = fmt.count(captured["render"](text), captured["prefix"])
        assert count_layout(fmt, captured["render"], captured["prefix"], layout, " ") == exact, n


def test_cwe_text_is_rulers_word_list(fmt) -> None:
    """`build(n)` writes what `_word_list` (RULER's get_example) gives for the same draw."""
    rng = random.Random(3)
    state = rng.getstate()
    words, common = _word_list(rng, 42, 120, 30, 3, 10)
    rng.setstate(state)
    chosen = common_words._choose(rng, 42, 120)
    assert common == chosen[:10]
    pre = chosen[:10] * 30 + chosen[10:] * 3
    assert words == [pre[i] for i in fixed_permutation(42, len(pre))]
    assert _numbered(words).split(" ")[:2] == ["1.", words[0]]


def test_cwe_draws_cut_from_one_sample_equal_rulers_sample_of_each_size() -> None:
    """One search's sizes, growing and shrinking, across `random.sample`'s switch of algorithm
    (about 1366 of the 8166-word pool) and past the pool to the large list."""
    from harness.tasks.ruler.words import common_word_pool

    pool = len(common_word_pool(42))
    sizes = [11, 273, 52, 2184, *range(1340, 1372, 3), 1366, 1365, pool, pool + 1, pool + 700, 40, 9000]
    draws = common_words._Draws(123, 42)
    for k in sizes:
        assert draws.words(k) == common_words._choose(random.Random(123), 42, k), k


def test_fwe_ruler_layout_is_the_fixed_shuffle_of_the_ranks(fmt) -> None:
    from harness.tasks.data import TaskOptions

    build, vocab = freq_words._words(freq_words.FreqWordsConfig(), TaskOptions(), "fwe", fmt, 4096, 0, 42)
    weights = freq_words._weights(freq_words.FreqWordsConfig(), len(vocab))
    for n in (40, 333, 1500):
        ranks = np.repeat(np.arange(len(vocab)), (n * weights).astype(np.int64)).tolist()
        written = " ".join(vocab[r] for r in fixed_shuffle(ranks, 42))
        layout = build(n)
        assert layout.materialize() == written
        assert (layout.first, layout.last) == (written.split(" ")[0], written.split(" ")[-1])


def test_a_fwe_sample_does_not_import_scipy_for_rulers_alpha(tiny_path) -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom harness.core.backends.hf import load_tokenizer\n"
            "from harness.core.prompt import PromptFormat\nfrom harness.tasks import get_task\n"
            "get_task('fwe').samples(PromptFormat.create(load_tokenizer(sys.argv[1]), 'off'), 2048, 1, seed=1)\n"
            "print('scipy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(tiny_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_cwe_and_fwe_samples_are_exact_and_within_budget(fmt) -> None:
    for name in ("cwe", "fwe"):
        task = get_task(name)
        for length in (4096, 16384):
            for sample in task.samples(fmt, length, 2, seed=11):
                assert sample.prompt_tokens == fmt.count(sample.prompt, sample.answer_prefix)
                assert sample.prompt_tokens <= task.prompt_budget(length)
    assert math.isclose(freq_words._zeta(2.0), math.pi**2 / 6)
