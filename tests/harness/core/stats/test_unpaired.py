"""One value per replicate: the t interval of a mean and Welch's t-test, checked against scipy and by hand."""

import math
import statistics

import pytest
from scipy import stats

from harness.core.stats.power import mde
from harness.core.stats.unpaired import WELCH, mean_interval_t, welch


def test_interval_is_the_t_interval_of_the_mean() -> None:
    values = [40.0, 44.0, 51.0]
    interval = mean_interval_t(values)
    se = statistics.stdev(values) / math.sqrt(3)
    expected = stats.t.interval(0.95, 2, loc=statistics.fmean(values), scale=se)
    assert interval.low == pytest.approx(expected[0]) and interval.high == pytest.approx(expected[1])
    assert mean_interval_t([3.0]).low is None and "one replicate" in mean_interval_t([3.0]).note


def test_welch_matches_scipy_and_its_mde_comes_from_its_se_and_df() -> None:
    a, b = [40.0, 44.0, 51.0], [60.0, 58.0, 66.0, 61.0]
    result = welch(a, b)
    assert result is not None and result.test == WELCH
    assert result.difference == pytest.approx(statistics.fmean(b) - statistics.fmean(a))
    assert result.p_value == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert result.se == pytest.approx(math.sqrt(statistics.variance(a) / 3 + statistics.variance(b) / 4))
    assert 2 < result.df < 5  # Welch-Satterthwaite, between the smaller arm's df and the pooled df
    detectable = mde(result, 0.05)
    assert result.se * 2 < detectable < 100  # a finite bar, above the critical value alone (80% power)
    assert mde(result, 0.001) > detectable


def test_no_test_without_two_values_each_or_any_spread() -> None:
    assert welch([1.0], [2.0, 3.0]) is None
    assert welch([2.0, 2.0], [2.0, 2.0]) is None
