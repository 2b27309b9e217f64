"""Confidence intervals and paired tests: exact values on small cases, sane behaviour on noise."""

import numpy as np
import pytest

from harness.core.stats.intervals import bootstrap_interval
from harness.core.stats.paired import paired_test


def test_bootstrap_interval_brackets_the_mean_and_shrinks_with_n() -> None:
    rng = np.random.default_rng(1)
    small = list(rng.choice([0.0, 100.0], 20))
    large = list(rng.choice([0.0, 100.0], 400))
    low, high = bootstrap_interval(small)
    assert low <= np.mean(small) <= high
    assert (high - low) > 2 * np.subtract(*bootstrap_interval(large)[::-1])
    assert bootstrap_interval([50.0]) == (50.0, 50.0) and bootstrap_interval([7.0, 7.0]) == (7.0, 7.0)
    assert bootstrap_interval(small) == bootstrap_interval(small)  # seeded


def test_mcnemar_on_binary_scores_counts_discordant_pairs() -> None:
    a = {f"s{i}": 100.0 for i in range(20)}
    b = {f"s{i}": (0.0 if i < 10 else 100.0) for i in range(20)}  # B loses 10, wins none
    result = paired_test(a, b)
    assert result.test == "mcnemar-exact" and result.discordant == (10, 0) and result.n == 20
    assert result.difference == pytest.approx(-50.0)
    assert result.p_value == pytest.approx(2 * 0.5**10)  # exact two-sided binomial
    one_flip = paired_test(a, {**a, "s0": 0.0})
    assert one_flip.p_value == 1.0  # a single discordant pair is noise
    assert paired_test(a, {"other": 1.0}).n == 0  # no shared samples


def test_continuous_scores_use_a_paired_permutation_test() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 100, 200)
    a = {f"s{i}": float(v) for i, v in enumerate(base)}
    shifted = paired_test(a, {k: v - 5.0 for k, v in a.items()})
    assert shifted.test == "paired-permutation" and shifted.p_value < 0.01 and shifted.difference == pytest.approx(-5.0)
    noise = paired_test(a, {k: float(v + rng.normal(0, 1)) for k, v in a.items()})
    assert noise.p_value > 0.05
