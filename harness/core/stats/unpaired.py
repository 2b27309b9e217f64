"""One number per replicate, two variants with nothing paired: a dataset statistic (the diversity of a
synthesis) per synthesis seed. The mean's t interval over the replicates, and Welch's t-test of the
difference (`scipy.stats.ttest_ind(equal_var=False)`), its SE and Welch-Satterthwaite df kept for the MDE
(`stats.power.mde`, which reads `se` and `df` for this test as for the crossed one)."""

from __future__ import annotations

import math
import statistics
from typing import Sequence

from harness.core.stats.intervals import LEVEL, Interval
from harness.core.stats.replicated import Replicated

WELCH = "Welch t (one value per replicate)"


def mean_interval_t(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The t interval of the mean of `values` (one per replicate); none below two values."""
    if len(values) < 2:
        return Interval(None, None, "none", "one replicate: no spread to build an interval from")
    from scipy import stats

    centre, se = statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))
    half = float(stats.t.ppf(1 - (1 - level) / 2, len(values) - 1)) * se
    return Interval(centre - half, centre + half, "t over replicates")


def welch(a: Sequence[float], b: Sequence[float]) -> Replicated | None:
    """B against A (one value per replicate each); None when either has fewer than two replicates or
    neither varies (no test is possible)."""
    if len(a) < 2 or len(b) < 2:
        return None
    var_a, var_b = statistics.variance(a), statistics.variance(b)
    se2 = var_a / len(a) + var_b / len(b)
    if se2 == 0:
        return None
    from scipy import stats

    test = stats.ttest_ind(b, a, equal_var=False)  # its df is Welch-Satterthwaite's
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    return Replicated(n=len(a) + len(b), replicates_a=len(a), replicates_b=len(b), mean_a=mean_a, mean_b=mean_b,
                      difference=mean_b - mean_a, p_value=float(test.pvalue), test=WELCH, sample_sd=0.0, train_var=se2,
                      se=math.sqrt(se2), df=float(test.df), train_sd_a=math.sqrt(var_a), train_sd_b=math.sqrt(var_b))
