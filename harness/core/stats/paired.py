"""Paired comparisons between two runs on the same samples (sample ids are deterministic, so two
models scored with the same seed saw the same inputs), one replicate each.

- `paired_test`: binary scores (every score 0 or the maximum) use McNemar's exact test (a binomial
  test on the discordant pairs, `scipy.stats.binomtest`); other scores a paired permutation test of
  the mean difference (`scipy.stats.permutation_test`, sign flips). Both two-sided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class Comparison:
    """B against A on the samples both scored: mean difference (B - A), p-value, and the test used."""

    n: int
    mean_a: float
    mean_b: float
    difference: float
    p_value: float
    test: str
    discordant: tuple[int, int] | None = None  # McNemar: (A right, B wrong), (A wrong, B right)


def _binary(values: np.ndarray, top: float) -> bool:
    return bool(np.all((values == 0) | (values == top)))


def paired_test(a: Mapping[str, float], b: Mapping[str, float], resamples: int = RESAMPLES, seed: int = SEED) -> Comparison:
    """Compare two runs' per-sample scores on their shared sample ids."""
    shared = sorted(set(a) & set(b))
    x = np.array([a[k] for k in shared], dtype=float)
    y = np.array([b[k] for k in shared], dtype=float)
    if not shared:
        return Comparison(0, float("nan"), float("nan"), float("nan"), 1.0, "none")
    mean_a, mean_b = float(x.mean()), float(y.mean())
    top = float(max(x.max(), y.max(), 1.0))
    from scipy import stats

    if _binary(x, top) and _binary(y, top):
        a_only = int(np.sum((x == top) & (y == 0)))
        b_only = int(np.sum((x == 0) & (y == top)))
        p = 1.0 if a_only + b_only == 0 else float(stats.binomtest(b_only, a_only + b_only, 0.5).pvalue)
        return Comparison(len(shared), mean_a, mean_b, mean_b - mean_a, p, "mcnemar-exact", (a_only, b_only))
    diff = y - x
    if np.all(diff == 0):
        return Comparison(len(shared), mean_a, mean_b, 0.0, 1.0, "paired-permutation")
    result = stats.permutation_test((diff,), np.mean, permutation_type="samples", n_resamples=resamples,
                                    alternative="two-sided", random_state=np.random.default_rng(seed))
    return Comparison(len(shared), mean_a, mean_b, mean_b - mean_a, float(result.pvalue), "paired-permutation")
