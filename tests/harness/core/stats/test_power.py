"""The MDE: McNemar's exact power against a brute-force simulation, the t-test's exact MDE, and
required_n monotone and consistent with mde."""

import math

import numpy as np
import pytest
from scipy import stats

from harness.core.stats.power import at_n, mcnemar_power, mde, mde_mcnemar, mde_normal, required_n
from harness.core.stats.replicated import CROSSED, Replicated
from harness.core.stats.simulate import mcnemar_p


@pytest.mark.parametrize(("n", "drop", "noise", "alpha"), [(30, 0.3, 0.1, 0.05), (60, 0.15, 0.05, 0.01), (12, 0.5, 0.0, 0.05)])
def test_mcnemar_power_matches_brute_force(n: int, drop: float, noise: float, alpha: float) -> None:
    counts = np.random.default_rng(0).multinomial(n, [noise + drop, noise, 1 - 2 * noise - drop], size=20_000)
    simulated = np.mean([mcnemar_p(int(lost), int(won)) < alpha for lost, won in counts[:, :2]])
    assert mcnemar_power(n, drop, alpha, noise) == pytest.approx(simulated, abs=0.015)


def test_no_drop_is_detectable_at_n_5() -> None:
    assert mde_mcnemar(5, 0.05) == math.inf  # 5 of 5 lost: p = 2 * 0.5**5 = 0.0625
    assert math.isfinite(mde_mcnemar(6, 0.05))  # 6 of 6: p = 0.03125
    assert mde(Replicated(5, 1, 1, 100.0, 0.0, -100.0, 0.0625, "mcnemar-exact", 0.0, discordant=(5, 0)), 0.05) == math.inf


def test_mde_normal_is_the_exact_t_test_mde() -> None:
    for df, alpha in [(2.0, 0.05), (4.0, 0.05 / 18), (30.0, 0.01)]:
        effect = mde_normal(1.5, alpha, 0.8, df)
        critical = stats.t.isf(alpha / 2, df)
        assert stats.nct.sf(critical, df, effect / 1.5) == pytest.approx(0.8, abs=1e-4)
    assert mde_normal(2.0, 0.05) == pytest.approx((stats.norm.isf(0.025) + stats.norm.ppf(0.8)) * 2.0)
    assert mde_normal(1.0, 0.05, df=10_000) == pytest.approx(mde_normal(1.0, 0.05), rel=1e-3)


def _crossed(n: int = 40, se: float = 2.0, train_var: float = 1.0) -> Replicated:
    return Replicated(n, 3, 3, 50.0, 50.0, 0.0, 1.0, CROSSED, math.sqrt((se**2 - train_var) * n), train_var=train_var, se=se, df=4.0)


@pytest.mark.parametrize("comparison", [
    Replicated(100, 1, 1, 80.0, 78.0, -2.0, 0.5, "mcnemar-exact", 30.0, discordant=(6, 4)),
    Replicated(50, 1, 1, 60.0, 59.0, -1.0, 0.5, "paired-permutation", 12.0),
    _crossed(),
])
def test_required_n_is_monotone_and_consistent_with_mde(comparison: Replicated) -> None:
    alpha = 0.05 / 6
    targets = [40.0, 25.0, 15.0, 10.0]
    found = [required_n(comparison, target, alpha) for target in targets]
    design_mde = _design_mde(comparison, alpha)
    sizes = [n for n in found if n is not None]
    assert sizes == sorted(sizes) and sizes  # a smaller drop needs at least as many samples
    for target, n in zip(targets, found):
        if n is None:
            continue
        assert design_mde(n) <= target
        assert n == 1 or design_mde(n - 1) > target


def _design_mde(comparison: Replicated, alpha: float):  # type: ignore[no-untyped-def]
    """The MDE at n samples as `required_n` sees the design: McNemar keeps the exact noise rate (at_n would
    round the discordant counts to whole pairs), the rest goes through `at_n`."""
    if comparison.discordant is not None:
        noise = min(comparison.discordant) / comparison.n
        return lambda n: mde_mcnemar(n, alpha, noise=noise)
    return lambda n: mde(at_n(comparison, n), alpha)


def test_training_noise_floor_cannot_be_beaten_by_samples() -> None:
    noisy = _crossed(se=3.0, train_var=8.0)  # the training-seed part alone: sqrt(8) ~ 2.8 points of SE
    assert required_n(noisy, 5.0, 0.05) is None
    assert at_n(noisy, 10_000).se == pytest.approx(math.sqrt(8.0), rel=1e-3) and at_n(noisy, 10_000).df == 4.0
