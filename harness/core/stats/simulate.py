"""Boards with known truth, for calibrating this package (tests/harness/core/stats/test_calibration.py,
bench/calibration.py): a baseline and variants scored on a few cells of samples, the truth chosen.

A board: `cells` cells of `n` samples each (the last `shared` cells score the first ones' samples again:
the same samples and the same per-sample behaviour of each model, fresh noise -- like two metrics of one
task), every arm (the baseline, then the variants) trained `replicates` times. A score is

    continuous: 50 + difficulty[i] + arm_sample[arm, i] + train[arm, r, cell] + noise[arm, r, i]  (points)
    binary:     100 * Bernoulli(expit(difficulty[i] + arm_sample[arm, i] + train[arm, r, cell]))

`difficulty` varies across samples; `arm_sample` is each model's own per-sample deviation (drawn alike
for every arm, so a null board has all arms from one distribution); `train` is the training seed's
effect, half shared by a replicate's cells, half per cell. `effect` is planted in variant 1, cell 0.
Pure numpy, seeded; the tests are this package's own (`crossed_arrays` for replicates, `paired_test`
through a cache for McNemar), except the paired permutation test, which `sign_flip_p` re-does in batch
(the same test as `paired_test`'s: scipy's sign flips and p-value convention, another draw of flips).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from harness.core.stats.intervals import SCALE
from harness.core.stats.multiple import adjust, family_alpha
from harness.core.stats.power import POWER, mde, mde_mcnemar
from harness.core.stats.replicated import CROSSED, Replicated, compare_replicated, crossed_arrays

ALPHA = 0.05


@dataclass(frozen=True)
class Design:
    """One kind of simulated board. Scales: points for continuous scores, logits for binary ones."""

    binary: bool
    replicates: int = 1  # per variant
    baseline_replicates: int = 1
    variants: int = 3
    cells: int = 6
    shared: int = 2
    n: int = 40
    train_sd: float = 0.0  # SD of the training seed's effect on a cell
    difficulty_sd: float = 15.0
    arm_sample_sd: float = 5.0
    noise_sd: float = 10.0  # continuous only: the seed x sample noise
    effect: float = 0.0  # planted in variant 1, cell 0 (points; continuous only)
    b_like_a: bool = False  # `harness check`: each variant is one more run of the baseline's recipe

    @property
    def tests(self) -> int:
        return self.variants * self.cells

    def true_variance(self) -> float:
        """The variance of one cell's difference of means (continuous scores): what `compare_replicated`'s
        V estimates."""
        inverse = 1 / self.baseline_replicates + 1 / self.replicates
        return self.train_sd**2 * inverse + (2 * self.arm_sample_sd**2 + self.noise_sd**2 * inverse) / self.n


def binary_design(**changes: object) -> Design:
    """A right/wrong board: difficulty and the arms' per-sample deviations on the logit scale."""
    return replace(Design(binary=True, difficulty_sd=1.5, arm_sample_sd=0.5), **changes)  # type: ignore[arg-type]


def simulate_scores(design: Design, boards: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(baseline (boards, cells, R0, n), variants (boards, variants, cells, R, n)) of per-sample scores."""
    arms, distinct = 1 + design.variants, design.cells - design.shared
    replicates = max(design.replicates, design.baseline_replicates)
    source = [c if c < distinct else c - distinct for c in range(design.cells)]  # the cell whose samples it scores
    difficulty = rng.normal(0, design.difficulty_sd, (boards, 1, distinct, 1, design.n))[:, :, source]
    arm_sample = rng.normal(0, design.arm_sample_sd, (boards, arms, distinct, 1, design.n))[:, :, source]
    shared_seed = rng.normal(0, 1, (boards, arms, 1, replicates, 1))
    own = rng.normal(0, 1, (boards, arms, design.cells, replicates, 1))
    train = design.train_sd * math.sqrt(0.5) * (shared_seed + own)
    signal = difficulty + arm_sample + train
    if design.binary:
        scores = SCALE * (rng.random(signal.shape[:-1] + (design.n,)) < 1 / (1 + np.exp(-signal)))
    else:
        scores = 50 + signal + rng.normal(0, design.noise_sd, signal.shape[:-1] + (design.n,))
        scores[:, 1, 0] += design.effect
    return scores[:, 0, :, : design.baseline_replicates], scores[:, 1:, :, : design.replicates]


@lru_cache(maxsize=None)
def mcnemar_p(a_only: int, b_only: int) -> float:
    """`compare_replicated`'s p-value (McNemar exact) for these discordant counts, from a pair of runs
    that has them (plus one agreed sample): the p-value depends on nothing else."""
    size = a_only + b_only + 1
    a = {f"s{i}": (SCALE if i < a_only or i == size - 1 else 0.0) for i in range(size)}
    b = {f"s{i}": (0.0 if i < a_only else SCALE) for i in range(size)}
    return compare_replicated([a], [b]).p_value


def sign_flip_p(differences: np.ndarray, resamples: int = 2000, seed: int = 0, chunk: int = 2000) -> np.ndarray:
    """The paired permutation test of `paired_test` on batches of per-sample differences (..., n):
    random sign flips of the mean, two-sided as scipy's `permutation_test` (2 x the smaller one-sided
    p-value, each (hits + 1) / (resamples + 1))."""
    rng = np.random.default_rng(seed)
    n = differences.shape[-1]
    flips = rng.choice([-1.0, 1.0], (resamples, n))
    flat = differences.reshape(-1, n)
    out = np.empty(len(flat))
    for start in range(0, len(flat), chunk):
        part = flat[start : start + chunk]
        observed = part.mean(axis=1, keepdims=True)
        null = part @ flips.T / n
        tolerance = 1e-12 * np.maximum(1.0, np.abs(observed))
        greater = ((null >= observed - tolerance).sum(axis=1) + 1) / (resamples + 1)
        less = ((null <= observed + tolerance).sum(axis=1) + 1) / (resamples + 1)
        out[start : start + chunk] = np.minimum(1.0, 2 * np.minimum(greater, less))
    return out.reshape(differences.shape[:-1])


def p_values(design: Design, base: np.ndarray, variants: np.ndarray) -> np.ndarray:
    """Every test of every board: (boards, variants, cells) p-values of variant against baseline."""
    x = base[:, None]  # (boards, 1, cells, R0, n)
    if design.baseline_replicates == 1 and design.replicates == 1 and not design.b_like_a:
        if design.binary:
            a_only = ((x == SCALE) & (variants == 0)).sum(axis=(-2, -1))
            b_only = ((x == 0) & (variants == SCALE)).sum(axis=(-2, -1))
            return np.vectorize(mcnemar_p, otypes=[float])(a_only, b_only)  # type: ignore[no-any-return]
        return sign_flip_p((variants - x)[..., 0, :])
    result = crossed_arrays(x, variants, b_like_a=design.b_like_a)
    p = result.p_value
    for index in zip(*np.nonzero(np.isnan(p))):  # no spread at all (rare): the sign test of compare_replicated
        board, variant, cell = (int(i) for i in index)
        a = [dict(enumerate(row)) for row in base[board, cell]]
        b = [dict(enumerate(row)) for row in variants[board, variant, cell]]
        p[index] = compare_replicated(a, b, b_like_a=design.b_like_a).p_value  # type: ignore[arg-type]
    return p


def any_rejected(p: np.ndarray, correction: str, alpha: float = ALPHA) -> np.ndarray:
    """Per board (the first axis), whether any of its tests is rejected after `correction`. Holm rejects
    something exactly when its first step does (the smallest p below alpha / m: the adjusted p-values
    only grow from there), which is what is computed here for "holm" and "none" (statsmodels' Holm runs
    `gc.collect()` on every call: 80 ms a board); "bh" goes through `adjust`. The tests check the
    shortcut against `adjust`."""
    flat = p.reshape(len(p), -1)
    if correction in ("holm", "none"):
        return np.asarray(flat.min(axis=1) < family_alpha(alpha, flat.shape[1], correction))
    return np.array([any(q is not None and q < alpha for q in adjust(list(row), correction)) for row in flat])


@dataclass(frozen=True)
class NullResult:
    boards: int
    fwer: float  # with Holm
    fwer_low: float  # its Clopper-Pearson 95% interval
    fwer_high: float
    uncorrected: float
    per_test: float  # the share of single tests below alpha, uncorrected


def null_calibration(design: Design, boards: int, seed: int = 0, correction: str = "holm") -> NullResult:
    """The family-wise false-positive rate of `boards` null boards (design.effect must be 0)."""
    from scipy import stats

    base, variants = simulate_scores(replace(design, effect=0.0), boards, np.random.default_rng(seed))
    p = p_values(design, base, variants)
    hits = int(any_rejected(p, correction).sum())
    low, high = stats.binomtest(hits, boards).proportion_ci(0.95, method="exact")
    return NullResult(boards, hits / boards, float(low), float(high), float(any_rejected(p, "none").mean()),
                      float(np.mean(p < ALPHA)))


def design_comparison(design: Design) -> Replicated:
    """The comparison a board of this design reports when its estimates hit the truth (continuous,
    replicates): the input of `power.mde` for the design's MDE."""
    df = (design.baseline_replicates - 1) + (design.replicates - 1)
    train_var = design.train_sd**2 * (1 / design.baseline_replicates + 1 / design.replicates)
    return Replicated(design.n, design.baseline_replicates, design.replicates, 50.0, 50.0, 0.0, 1.0, CROSSED,
                      math.sqrt((design.true_variance() - train_var) * design.n), train_var=train_var,
                      se=math.sqrt(design.true_variance()), df=float(df))


@dataclass(frozen=True)
class PowerResult:
    boards: int
    alpha: float  # the per-test level (the family's first Holm step)
    mde: float
    power: float  # simulated, at an effect of `mde`


def crossed_power(design: Design, boards: int, seed: int = 0, power: float = POWER) -> PowerResult:
    """Plant the design's MDE (at the board's per-test level alpha / tests) in one cell and count how
    often the crossed t-test finds it."""
    alpha = family_alpha(ALPHA, design.tests, "holm")
    effect = mde(design_comparison(design), alpha, power)
    planted = replace(design, effect=effect, variants=1, cells=1, shared=0)
    base, variants = simulate_scores(planted, boards, np.random.default_rng(seed))
    p = p_values(planted, base, variants)[:, 0, 0]
    return PowerResult(boards, alpha, effect, float(np.mean(p < alpha)))


def mcnemar_power_sim(n: int, noise: float, tests: int, boards: int, seed: int = 0, power: float = POWER) -> PowerResult:
    """Plant McNemar's MDE (at alpha / tests) under "each sample lost with probability noise + d, won
    with probability noise" and count how often `compare_replicated` (McNemar exact) finds it."""
    alpha = family_alpha(ALPHA, tests, "holm")
    effect = mde_mcnemar(n, alpha, power, noise)
    drop = effect / SCALE
    counts = np.random.default_rng(seed).multinomial(n, [noise + drop, noise, 1 - 2 * noise - drop], size=boards)
    p = np.vectorize(mcnemar_p, otypes=[float])(counts[:, 0], counts[:, 1])
    return PowerResult(boards, alpha, effect, float(np.mean(p < alpha)))


# The calibration's scenarios: a board's 3 variants x 6 cells, and `harness check`'s one run x 6 cells
NULLS: dict[str, Design] = {
    "binary, R=1 (McNemar)": binary_design(),
    "continuous, R=1 (permutation)": Design(binary=False),
    "binary, R=3, training effect": binary_design(replicates=3, baseline_replicates=3, train_sd=0.3),
    "continuous, R=3, training effect": Design(binary=False, replicates=3, baseline_replicates=3, train_sd=3.0),
    "check: binary, 1 run vs R=3": binary_design(replicates=1, baseline_replicates=3, train_sd=0.3, variants=1,
                                                 b_like_a=True),
    "check: continuous, 1 run vs R=3": Design(binary=False, replicates=1, baseline_replicates=3, train_sd=3.0,
                                              variants=1, b_like_a=True),
}
MCNEMAR_POWER = {"n": 40, "noise": 0.1, "tests": 18}
CROSSED_POWER: dict[str, Design] = {
    "continuous, R=3, training effect": NULLS["continuous, R=3, training effect"],
    "continuous, R=3, no training effect": Design(binary=False, replicates=3, baseline_replicates=3, train_sd=0.0),
}
