"""How big a difference could a comparison see? The minimum detectable effect (MDE): the smallest
true difference that the test used would find at level `alpha` with probability `power` (80%).

- Right/wrong scores, one replicate each (McNemar's exact test): exact power by enumeration
  (`scipy.stats.binom`) under the model "each sample, independently, is lost with probability
  q + d and won with probability q", where q is the noise (the discordance in the other direction).
  McNemar's test is discrete: at n = 5 not even 5 of 5 lost pairs reach p < 0.05 (2 * 0.5^5 =
  0.0625), so no drop is detectable and the MDE is infinite. Hand-rolled: statsmodels has no
  McNemar power.
- Everything else (replicates; continuous scores): the t-test's exact MDE from the standard error of
  the difference and its degrees of freedom (`mde_normal`: the noncentral t, `scipy.stats.nct`, as
  `statsmodels.stats.power.TTestPower` solves it; the normal when df is unknown), written with the SE
  directly because the crossed design's SE is not `sd / sqrt(n)`.

Within a family of m tests the MDE is computed at alpha / m (Holm's and BH's first step).
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import Callable

import numpy as np

from harness.core.stats.intervals import SCALE
from harness.core.stats.replicated import CROSSED, Replicated
from harness.core.stats.unpaired import WELCH

POWER = 0.8
MAX_LIMIT = 100_000  # the largest --limit `required_n` searches


def shown_mde(value: float) -> float:
    """An MDE as boards and `harness check` show it: one beyond the whole 0-SCALE range (few replicates give a
    t-test few degrees of freedom) means no difference could be seen, the same as inf."""
    return math.inf if value > SCALE else value


def mde_normal(se: float, alpha: float, power: float = POWER, df: float | None = None) -> float:
    """The effect a two-sided test at `alpha` finds with `power` when its estimate has standard error
    `se`: `(z(1 - alpha/2) + z(power)) * se` when df is unknown; with df, the exact answer for a t-test
    (the noncentrality at which the noncentral t, `scipy.stats.nct`, crosses the critical value with
    `power`), as `statsmodels.stats.power.TTestPower` solves it. The textbook shortcut
    `(t(1 - alpha/2, df) + t(power, df)) * se` promises 80% but gives 67-75% at df 2-4 and alpha / 18
    (the calibration found this)."""
    from scipy import stats

    if df is None or not df > 0:
        return float((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) * se)
    critical = float(stats.t.isf(alpha / 2, df))
    shortcut = critical + float(stats.t.ppf(power, df))

    def shortfall(ncp: float) -> float:
        upper, lower = stats.nct.sf(critical, df, ncp), stats.nct.cdf(-critical, df, ncp)  # nct's far tail can be NaN
        return float(np.nan_to_num(upper) + np.nan_to_num(lower)) - power

    high = shortcut
    while shortfall(high) < 0 and high < 1e4 * shortcut:
        high *= 1.5
    if shortfall(high) < 0:  # nct's numerics gave out: the shortcut, a lower bound
        return float(shortcut * se)
    from scipy.optimize import brentq

    return float(brentq(shortfall, 0.0, high, xtol=1e-6) * se)


@functools.lru_cache(maxsize=256)  # the bisections ask again and again for the same n
def _rejection_k(n: int, alpha: float) -> np.ndarray:
    """For d = 0..n discordant pairs, the smallest count k (of one direction) whose exact two-sided
    McNemar p-value is below alpha (n + 1 when none is)."""
    from scipy import stats

    d = np.arange(n + 1)
    start = np.maximum(np.nan_to_num(stats.binom.isf(alpha / 2, d, 0.5)), (d + 1) // 2).astype(int)
    bounds = np.full(n + 1, n + 1)
    for step in (3, 2, 1, 0, -1):  # the first k near isf's answer whose p-value is below alpha (p falls as k grows)
        k = start + step
        ok = (k <= d) & (k >= (d + 1) // 2) & (np.minimum(1.0, 2 * stats.binom.sf(k - 1, d, 0.5)) < alpha)
        bounds = np.where(ok, k, bounds)
    return bounds


def mcnemar_power(n: int, drop: float, alpha: float, noise: float = 0.0) -> float:
    """The chance that McNemar's exact test at `alpha` finds a difference of `drop` (a proportion, 0-1)
    on n samples when each sample is lost with probability noise + drop and won with probability noise."""
    from scipy import stats

    lose, win = noise + drop, noise
    if n <= 0 or lose + win <= 0 or lose + win > 1:
        return 0.0
    bounds = _rejection_k(n, alpha)
    d = np.arange(n + 1)
    p_d = stats.binom.pmf(d, n, lose + win)
    share = lose / (lose + win)
    upper = stats.binom.sf(bounds - 1, d, share)  # the losses alone reach the bound
    lower = np.where(bounds <= d, stats.binom.cdf(d - bounds, d, share), 0.0)  # the wins do
    return float(np.sum(p_d * np.clip(upper + lower, 0, 1)))


def mde_mcnemar(n: int, alpha: float, power: float = POWER, noise: float = 0.0) -> float:
    """The smallest drop (0-SCALE) McNemar's exact test finds with `power`; inf when none can be."""
    top = 1.0 - 2 * noise
    if top <= 0 or mcnemar_power(n, top, alpha, noise) < power:
        return math.inf
    low, high = 0.0, top
    for _ in range(24):  # bisection: power grows with the drop
        middle = (low + high) / 2
        if mcnemar_power(n, middle, alpha, noise) >= power:
            high = middle
        else:
            low = middle
    return high * SCALE


def mde(comparison: Replicated, alpha: float, power: float = POWER) -> float:
    """The MDE of a comparison's design (its n, replicates, noise) at `alpha` (already divided by the
    family's size where a correction applies); inf when no difference could be detected."""
    n = comparison.n
    if n == 0:
        return math.inf
    if comparison.discordant is not None:  # McNemar, one replicate each
        noise = min(comparison.discordant) / n
        return mde_mcnemar(n, alpha, power, noise)
    if comparison.test in (CROSSED, WELCH) and comparison.se is not None:
        return mde_normal(comparison.se, alpha, power, comparison.df)
    # the paired permutation test, or a crossed design whose spread was zero: the SE of a mean of n differences
    se = math.sqrt(comparison.sample_sd**2 / n + comparison.train_var)
    if se == 0:
        return mde_mcnemar(n, alpha, power) if n else math.inf  # no spread seen: bound it by the exact test's discreteness
    return mde_normal(se, alpha, power, n - 1 if n > 1 else None)


def at_n(comparison: Replicated, n: int) -> Replicated:
    """The same comparison's design with n samples instead (the per-sample SD, noise rate and
    training-seed terms kept): what `required_n` asks `mde` about."""
    scale = n / comparison.n if comparison.n else 1.0
    discordant = None
    if comparison.discordant is not None:
        discordant = (round(comparison.discordant[0] * scale), round(comparison.discordant[1] * scale))
    se, df = comparison.se, comparison.df
    if comparison.test == CROSSED and se is not None:
        train = comparison.train_var
        sample_part = max(se**2 - train, 0.0) * comparison.n / n
        se = math.sqrt(sample_part + train)  # the df stays: the containment df counts replicates, not samples
    return replace(comparison, n=n, discordant=discordant, se=se, df=df)


def required_n(comparison: Replicated, target: float, alpha: float, power: float = POWER) -> int | None:
    """The smallest number of samples (a `--limit`) at which the MDE is at most `target` points,
    the rest of the design kept; None when no n up to MAX_LIMIT suffices (the training-seed
    spread alone is too large: more replicates are needed, not samples)."""
    if comparison.n == 0:
        return None
    if comparison.discordant is not None:  # McNemar: one exact power per n, not a whole MDE search
        noise = min(comparison.discordant) / comparison.n
        return _mcnemar_required_n(target / SCALE, alpha, power, noise, comparison.n)
    return _smallest(lambda n: mde(at_n(comparison, n), alpha, power) <= target, comparison.n)


@functools.lru_cache(maxsize=1024)  # a check's many cells often share n and noise
def _mcnemar_required_n(drop: float, alpha: float, power: float, noise: float, start: int) -> int | None:
    if drop <= 0 or noise + drop + noise > 1:
        return None
    return _smallest(lambda n: mcnemar_power(n, drop, alpha, noise) >= power, start)


def _smallest(enough: Callable[[int], bool], start: int) -> int | None:
    """The smallest n with `enough(n)`, by doubling from `start` and then bisection (enough grows with n);
    None when MAX_LIMIT is not enough."""
    high = max(start, 1)
    while not enough(high):
        if high >= MAX_LIMIT:
            return None
        high = min(2 * high, MAX_LIMIT)
    low = 1
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return low
