"""A cell's confidence interval, honest at every n.

- Right/wrong scores (every sample 0 or `SCALE`): the Wilson score interval of the proportion
  (`statsmodels.stats.proportion.proportion_confint`), never a single point: 5 right out of 5 is
  [56.6, 100.0], not [100.0, 100.0] as a bootstrap of five equal values says.
- Other scores: the percentile bootstrap of the mean (`scipy.stats.bootstrap`), only from
  `MIN_BOOTSTRAP` samples up; below that the interval is left out and the note says why.
- Replicates (training seeds) of one cell, all scored on the same samples: a two-level bootstrap
  that resamples replicates, then samples, so the interval holds both the training-seed and the
  sample-draw noise. Hand-rolled: scipy's bootstrap resamples one level only. Where it collapses to
  a point (every score equal) a right/wrong cell falls back to Wilson on its n samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

SCALE = 100.0  # per-sample scores are percentages: right/wrong is 0 or 100
LEVEL = 0.95
MIN_BOOTSTRAP = 10  # fewer samples than this: a bootstrap's interval is too ragged to show
RESAMPLES = 2000
SEED = 0

Scores = Mapping[str, float]  # sample id -> score


@dataclass(frozen=True)
class Interval:
    """`low`/`high` (None when no honest interval exists: `note` says why) and the `method` used."""

    low: float | None
    high: float | None
    method: str  # wilson | bootstrap | two-level bootstrap | none
    note: str = ""


def is_binary(values: Sequence[float] | np.ndarray) -> bool:
    """Every score right (SCALE) or wrong (0)."""
    array = np.asarray(values, dtype=float)
    return bool(len(array)) and bool(np.all((array == 0) | (array == SCALE)))


def wilson(successes: int, n: int, level: float = LEVEL) -> Interval:
    """The Wilson score interval of `successes` out of `n`, on the 0-100 scale."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=1 - level, method="wilson")
    # rounded: statsmodels' float error puts 0 of n at 5.6e-17, above the mean it should contain
    return Interval(round(float(low), 12) * SCALE, round(float(high), 12) * SCALE, "wilson")


def bootstrap_interval(values: Sequence[float], level: float = LEVEL, resamples: int = RESAMPLES,
                       seed: int = SEED) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean; all values equal give that point."""
    array = np.asarray(values, dtype=float)
    if len(array) == 0:
        return (float("nan"), float("nan"))
    if len(array) == 1 or np.all(array == array[0]):
        return (float(array[0]), float(array[0]))
    from scipy import stats

    result = stats.bootstrap((array,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                             random_state=np.random.default_rng(seed))
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def mean_interval(values: Sequence[float], level: float = LEVEL) -> Interval:
    """The interval of one replicate's mean score: Wilson for right/wrong scores, else a bootstrap
    from MIN_BOOTSTRAP samples up."""
    n = len(values)
    if n == 0:
        return Interval(None, None, "none", "no samples")
    if is_binary(values):
        return wilson(int(sum(1 for v in values if v == SCALE)), n, level)
    if n < MIN_BOOTSTRAP:
        return Interval(None, None, "none", f"n={n}: too few samples for a bootstrap interval (needs {MIN_BOOTSTRAP})")
    low, high = bootstrap_interval(values, level)
    note = "every score equal: the bootstrap sees no spread" if low == high else ""
    return Interval(low, high, "bootstrap", note)


def score_matrix(replicates: Sequence[Scores]) -> tuple[list[str], np.ndarray]:
    """The ids every replicate scored, and the replicates x samples matrix of their scores."""
    if not replicates:
        return [], np.zeros((0, 0))
    shared = sorted(set.intersection(*(set(r) for r in replicates)))
    return shared, np.array([[r[i] for i in shared] for r in replicates], dtype=float).reshape(len(replicates), len(shared))


def two_level_means(matrix: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """Bootstrap means of a replicates x samples matrix: replicates drawn with replacement, then
    samples (the same draw for every replicate: they are crossed, each replicate scored every sample)."""
    rng = np.random.default_rng(seed)
    replicates, n = matrix.shape
    rows = rng.multinomial(replicates, np.full(replicates, 1 / replicates), size=resamples)  # how often each is drawn
    columns = rng.multinomial(n, np.full(n, 1 / n), size=resamples)
    means: np.ndarray = np.einsum("br,ri,bi->b", rows, matrix, columns) / (replicates * n)
    return means


def replicate_interval(replicates: Sequence[Scores], level: float = LEVEL, resamples: int = RESAMPLES,
                       seed: int = SEED) -> Interval:
    """The interval of a cell's mean over replicates (one replicate: `mean_interval`)."""
    if len(replicates) <= 1:
        return mean_interval(list(replicates[0].values()) if replicates else [], level)
    _, matrix = score_matrix(replicates)
    n = matrix.shape[1]
    if n == 0:
        return Interval(None, None, "none", "the replicates share no sample")
    if n < MIN_BOOTSTRAP and not is_binary(matrix.ravel()):
        return Interval(None, None, "none", f"n={n}: too few samples for a bootstrap interval (needs {MIN_BOOTSTRAP})")
    means = two_level_means(matrix, resamples, seed)
    tail = (1 - level) / 2
    low, high = (float(v) for v in np.quantile(means, [tail, 1 - tail]))
    if low == high and is_binary(matrix.ravel()):
        # every replicate gave every sample the same right/wrong score: Wilson on the n samples
        return wilson(int(round(float(matrix.mean()) / SCALE * n)), n, level)
    return Interval(low, high, "two-level bootstrap")
