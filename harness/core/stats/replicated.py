"""B against A when either was trained more than once (replicates: training seeds), all replicates
scored on the same samples.

The design is crossed: every replicate scored every sample. A score is
`y[r, i] = mu + train[r] + sample[i] + noise[r, i]`, and the difference of two arms' means has the variance

    V = s_train_a^2 / R_a + s_train_b^2 / R_b + s_delta^2 / n

where `s_delta` is the SD of the per-sample differences (each sample's mean over B's replicates minus
its mean over A's: paired, so the samples' difficulty cancels) and `s_train^2 = max(0, (MS_rep - MS_err) / n)`
is the training-seed variance of one replicate's mean, from the two-way ANOVA mean squares of that arm's
replicates x samples table (the method-of-moments estimator of a balanced crossed design; `MS_err` takes
out the sample noise that also shows between replicate means). The test is `t = D / sqrt(V)`, two-sided
(`scipy.stats.t`), on the containment ("between-within") degrees of freedom: the arm is a between-replicate
factor, so its test has the replicates' df, `sum(R - 1)` over the arms with replicates (SAS's BETWITHIN rule);
`n - 1` when no arm has any. An arm with one replicate adds no training term: the untrained control has
none, and a trained arm with one replicate has it unmeasured (`train_measured` says which) -- unless
`b_like_a`, where a single checkpoint B borrows A's estimate (`harness check` of one run against a baseline
trained several times: the same recipe, the same spread).

Why not Satterthwaite's df (the first version): calibrated by simulation (tests/harness/core/stats/
test_calibration.py, bench/calibration.py), it was anti-conservative at the small per-test levels a
corrected board works at (alpha / 18): when an arm's MS_rep came out small by chance, the training term was
truncated at 0 and the df jumped to n - 1, exactly when V was underestimated (2x the nominal rate at
alpha / 18 for 3 + 3 replicates; 5-7x for one run against 3 baseline replicates, where A's estimate also
entered twice as if it were two independent ones). The containment df keeps every scenario at or below
alpha; the price is power when the training-seed variance is truly ~0 (the MDE then is up to ~2x what a
known-zero training variance would allow): three seeds cannot tell that variance from zero.

With one replicate on each side this is `paired_test` (McNemar exact or the paired permutation test).

Hand-rolled: statsmodels' MixedLM fits crossed random effects only through one all-covering group and
variance-component formulas, iteratively, and often fails to converge on 0/1 scores with three
replicates; a board needs this for every cell and the calibration for thousands of simulated boards.
The closed form above is exact for the balanced design (and `tests/harness/core/stats` checks its
variance components against MixedLM's on continuous data and its false-positive rate by simulation).
`crossed_arrays` computes it on batches (the simulation's thousands of boards); `compare_replicated`
calls it for one comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from harness.core.stats.intervals import Scores, score_matrix
from harness.core.stats.paired import paired_test

CROSSED = "crossed t (replicates x samples)"
SIGN = "sign test (no spread between replicates)"


@dataclass(frozen=True)
class Replicated:
    """B against A over their replicates: means, difference (B - A), p-value, the test, and what the
    variance is made of (for the MDE: `se`, `df`, `sample_sd`, the training-seed terms)."""

    n: int
    replicates_a: int
    replicates_b: int
    mean_a: float
    mean_b: float
    difference: float
    p_value: float
    test: str
    sample_sd: float  # SD of the per-sample differences
    train_var: float = 0.0  # the training-seed part of the difference's variance (s_a^2/R_a + s_b^2/R_b)
    se: float | None = None  # standard error of the difference (None: an exact test, see `test`)
    df: float | None = None
    train_sd_a: float | None = None  # SD of one replicate's mean from training seed alone; None: not measured
    train_sd_b: float | None = None
    discordant: tuple[int, int] | None = None  # McNemar's counts (one replicate each)

    @property
    def train_measured(self) -> bool:
        return self.train_sd_a is not None or self.train_sd_b is not None


@dataclass(frozen=True)
class CrossedArrays:
    """`crossed_arrays`' results, one entry per comparison of the batch (the leading axes of x and y)."""

    difference: np.ndarray
    sample_sd: np.ndarray
    train_var: np.ndarray
    variance: np.ndarray
    df: np.ndarray
    p_value: np.ndarray  # NaN where the variance is 0 (`compare_replicated` then uses the sign test)
    train_sd_a: np.ndarray | None  # None: that arm has one replicate (and borrows none)
    train_sd_b: np.ndarray | None


def _mean_squares(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two-way ANOVA mean squares (between replicates, residual) of (..., replicates, samples) tables."""
    replicates, n = matrix.shape[-2:]
    grand = matrix.mean(axis=(-2, -1), keepdims=True)
    row = matrix.mean(axis=-1, keepdims=True)
    column = matrix.mean(axis=-2, keepdims=True)
    ms_rep = n * ((row - grand) ** 2).sum(axis=(-2, -1)) / (replicates - 1)
    ms_err = ((matrix - row - column + grand) ** 2).sum(axis=(-2, -1)) / ((replicates - 1) * (n - 1))
    return ms_rep, ms_err


def crossed_arrays(x: np.ndarray, y: np.ndarray, *, b_like_a: bool = False) -> CrossedArrays:
    """The crossed t-test on batches: x (..., R_a, n) and y (..., R_b, n), the same samples in the same
    column order. What `compare_replicated` computes for one comparison, and the calibration for thousands."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    r_a, n = x.shape[-2:]
    r_b = y.shape[-2]
    delta = y.mean(axis=-2) - x.mean(axis=-2)
    difference = delta.mean(axis=-1)
    sample_sd = delta.std(axis=-1, ddof=1) if n > 1 else np.zeros_like(difference)
    # each arm with replicates: (MS_rep, MS_err, weight = the sum of 1/R over the arms it stands for, its df)
    arms: list[tuple[np.ndarray, np.ndarray, float, int]] = []
    if r_a > 1 and n > 1:
        arms.append((*_mean_squares(x), 1 / r_a, r_a - 1))
    if r_b > 1 and n > 1:
        arms.append((*_mean_squares(y), 1 / r_b, r_b - 1))
    elif b_like_a and arms:
        ms_rep, ms_err, weight, df_rep = arms[0]
        arms[0] = (ms_rep, ms_err, weight + 1 / r_b, df_rep)  # B is one more draw of A's recipe: one estimate, used twice
    excesses = [np.maximum(0.0, ms_rep - ms_err) for ms_rep, ms_err, _, _ in arms]
    train_var = sum((excess * weight / n for excess, (_, _, weight, _) in zip(excesses, arms)), np.zeros_like(difference))
    variance = sample_sd**2 / n + train_var
    df = float(sum(df_rep for *_, df_rep in arms)) if arms else float(n - 1)  # the containment df (docstring)
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = np.where(variance > 0, 2 * stats.t.sf(np.abs(difference) / np.sqrt(variance), max(df, 1.0)), np.nan)
    sd_a = np.sqrt(excesses[0] / n) if r_a > 1 and n > 1 else None
    sd_b = np.sqrt(excesses[-1] / n) if arms and (r_b > 1 or b_like_a) else None
    return CrossedArrays(difference, sample_sd, train_var, variance, np.full_like(difference, df), p_value, sd_a, sd_b)


def replicate_sd(replicates: Sequence[Scores]) -> float | None:
    """The SD (ddof 1) of the replicates' cell scores on their shared samples: the training-seed spread
    as seen (it also holds a little sample noise: `train_sd` of `compare_replicated` takes that out)."""
    if len(replicates) < 2:
        return None
    _, matrix = score_matrix(replicates)
    if matrix.shape[1] == 0:
        return None
    return float(np.std(matrix.mean(axis=1), ddof=1))


def compare_replicated(a: Sequence[Scores], b: Sequence[Scores], *, b_like_a: bool = False) -> Replicated:
    """Compare B's replicates with A's on the samples all of them scored."""
    if not a or not b:
        raise ValueError("compare_replicated needs at least one replicate on each side")
    if len(a) == 1 and len(b) == 1 and not b_like_a:
        return _single(a[0], b[0])
    ids, both = score_matrix([*a, *b])
    x, y = both[: len(a)], both[len(a):]
    n = len(ids)
    if n == 0:
        return Replicated(0, len(a), len(b), math.nan, math.nan, math.nan, 1.0, "none", math.nan)
    result = crossed_arrays(x, y, b_like_a=b_like_a)
    difference, variance = float(result.difference), float(result.variance)
    common = dict(n=n, replicates_a=len(a), replicates_b=len(b), mean_a=float(x.mean()), mean_b=float(y.mean()),
                  difference=difference, sample_sd=float(result.sample_sd), train_var=float(result.train_var),
                  train_sd_a=None if result.train_sd_a is None else float(result.train_sd_a),
                  train_sd_b=None if result.train_sd_b is None else float(result.train_sd_b))
    if variance <= 0:
        from scipy import stats

        delta = y.mean(axis=0) - x.mean(axis=0)
        nonzero = delta[delta != 0]
        if difference == 0 or len(nonzero) == 0:
            return Replicated(**common, p_value=1.0, test=SIGN)  # type: ignore[arg-type]
        p = float(stats.binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5).pvalue)
        return Replicated(**common, p_value=p, test=SIGN)  # type: ignore[arg-type]
    return Replicated(**common, p_value=float(result.p_value), test=CROSSED, se=math.sqrt(variance),  # type: ignore[arg-type]
                      df=float(result.df))


def _single(a: Scores, b: Scores) -> Replicated:
    """One replicate each: the paired test on the shared samples."""
    comparison = paired_test(a, b)
    shared = sorted(set(a) & set(b))
    diffs = np.array([b[k] - a[k] for k in shared], dtype=float)
    sample_sd = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0
    return Replicated(comparison.n, 1, 1, comparison.mean_a, comparison.mean_b, comparison.difference, comparison.p_value,
                      comparison.test, sample_sd, discordant=comparison.discordant)
