"""Intervals: Wilson for right/wrong scores (never a point), the bootstrap only from MIN_BOOTSTRAP samples,
and the two-level bootstrap over replicates."""

import numpy as np
import pytest

from harness.core.stats.intervals import MIN_BOOTSTRAP, bootstrap_interval, mean_interval, replicate_interval, wilson


def test_wilson_values_on_the_percent_scale() -> None:
    assert (wilson(5, 5).low, wilson(5, 5).high) == (pytest.approx(56.55, abs=0.01), pytest.approx(100.0))
    assert (wilson(0, 5).low, wilson(0, 5).high) == (pytest.approx(0.0), pytest.approx(43.45, abs=0.01))
    all_right = mean_interval([100.0] * 5)
    assert all_right.method == "wilson" and all_right.low == pytest.approx(56.55, abs=0.01)


@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_wilson_is_never_degenerate(n: int) -> None:
    for right in range(n + 1):
        interval = mean_interval([100.0] * right + [0.0] * (n - right))
        assert interval.low is not None and interval.high is not None
        assert interval.low < interval.high and 0.0 <= interval.low <= right / n * 100 <= interval.high <= 100.0


def test_bootstrap_only_from_min_bootstrap_samples_for_other_scores() -> None:
    values = [float(v) for v in np.random.default_rng(0).uniform(0, 100, MIN_BOOTSTRAP)]
    short = mean_interval(values[:-1])
    assert short.method == "none" and short.low is None and f"n={MIN_BOOTSTRAP - 1}" in short.note
    enough = mean_interval(values)
    assert enough.method == "bootstrap" and enough.low is not None and enough.high is not None
    assert enough.low < float(np.mean(values)) < enough.high
    assert mean_interval([]).method == "none"
    replicated_short = replicate_interval([dict(enumerate(values[:5])), dict(enumerate(values[5:]))])  # type: ignore[arg-type]
    assert replicated_short.method == "none"


def test_two_level_bootstrap_is_wider_when_replicates_differ() -> None:
    rng = np.random.default_rng(3)
    sample = rng.normal(50, 10, 60)
    replicates = [{f"s{i}": float(v + shift + rng.normal(0, 2)) for i, v in enumerate(sample)} for shift in (-6.0, 0.0, 6.0)]
    two = replicate_interval(replicates)
    pooled = [float(np.mean([r[f"s{i}"] for r in replicates])) for i in range(60)]  # one level: samples only
    low, high = bootstrap_interval(pooled)
    assert two.method == "two-level bootstrap" and two.low is not None and two.high is not None
    assert two.high - two.low > 1.5 * (high - low)
    alike = [dict(replicates[1]) for _ in range(3)]  # identical replicates: no wider than one level
    same = replicate_interval(alike)
    assert same.low is not None and same.high is not None and same.high - same.low <= 1.05 * (high - low) + 1.0


def test_one_replicate_is_the_plain_interval_and_binary_replicates_never_collapse() -> None:
    one = {f"s{i}": float(v) for i, v in enumerate(np.random.default_rng(1).uniform(0, 100, 30))}
    assert replicate_interval([one]) == mean_interval(list(one.values()))
    perfect = [{f"s{i}": 100.0 for i in range(5)} for _ in range(3)]
    interval = replicate_interval(perfect)
    assert interval.method == "wilson" and interval.low == pytest.approx(56.55, abs=0.01)
