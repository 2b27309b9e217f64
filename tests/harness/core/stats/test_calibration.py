"""Calibration by simulation (harness.core.stats.simulate): null boards keep the family-wise error at or
below alpha with Holm, and planted effects at the reported MDE are found with ~80% power."""

from dataclasses import replace

import numpy as np
import pytest

from harness.core.stats.paired import paired_test
from harness.core.stats.simulate import (
    ALPHA,
    CROSSED_POWER,
    MCNEMAR_POWER,
    NULLS,
    Design,
    any_rejected,
    crossed_power,
    mcnemar_power_sim,
    null_calibration,
    p_values,
    sign_flip_p,
    simulate_scores,
)

BOARDS = 1000
POWER_BOARDS = 2000


@pytest.mark.parametrize("name", list(NULLS))
def test_null_boards_keep_the_family_wise_error(name: str) -> None:
    result = null_calibration(NULLS[name], BOARDS, seed=11)
    assert result.fwer_low <= ALPHA, result  # Clopper-Pearson: the observed rate is compatible with <= alpha
    assert result.uncorrected >= result.fwer
    if not NULLS[name].b_like_a:  # a board of 18 tests without correction flags far more than alpha
        assert result.uncorrected > 3 * ALPHA, result


def test_the_satterthwaite_df_would_fail_where_the_containment_df_holds() -> None:
    """The calibration can fail: one run against 3 baseline replicates, training-seed noise dominant, judged
    as the first version did (Satterthwaite's df, the truncated training term, A's estimate counted as two
    independent ones) flags far too often at the board's per-test level; the containment df does not."""
    from scipy import stats

    from harness.core.stats.replicated import _mean_squares

    n, boards, level = 80, 6000, ALPHA / 18
    design = Design(binary=False, replicates=1, baseline_replicates=3, train_sd=8.0, variants=1, b_like_a=True, n=n)
    base, variants = simulate_scores(design, boards, np.random.default_rng(2))
    x, y = base[:, None], variants
    delta = y.mean(axis=-2) - x.mean(axis=-2)
    sample_part = delta.var(axis=-1, ddof=1) / n
    ms_rep, ms_err = _mean_squares(x)
    on = ms_rep > ms_err
    variance = sample_part + on * (ms_rep - ms_err) * (1 / 3 + 1) / n
    terms = sum(((ms_rep / (n * r)) ** 2 / 2 + (ms_err / (n * r)) ** 2 / (2 * (n - 1)) for r in (3, 1)), np.zeros_like(ms_rep))
    satterthwaite = variance**2 / (sample_part**2 / (n - 1) + on * terms)
    p_old = 2 * stats.t.sf(np.abs(delta.mean(axis=-1)) / np.sqrt(variance), satterthwaite)
    assert np.mean(p_old < level) > 2 * level  # anti-conservative
    assert np.mean(p_values(design, base, variants) < level) <= level


def test_mcnemar_power_at_the_mde() -> None:
    result = mcnemar_power_sim(**MCNEMAR_POWER, boards=POWER_BOARDS, seed=12)  # type: ignore[arg-type]
    assert abs(result.power - 0.8) <= 0.06, result


@pytest.mark.parametrize("name", list(CROSSED_POWER))
def test_crossed_power_at_the_mde(name: str) -> None:
    result = crossed_power(CROSSED_POWER[name], POWER_BOARDS, seed=13)
    assert abs(result.power - 0.8) <= 0.06, result


def test_holm_shortcut_equals_adjust() -> None:
    design = Design(binary=False)
    p = p_values(design, *simulate_scores(design, 40, np.random.default_rng(3)))
    p[:5] = p[:5] / 30  # some boards with a rejection
    for correction in ("holm", "none"):
        shortcut = any_rejected(p, correction)
        from harness.core.stats.multiple import adjust

        by_adjust = [any(q is not None and q < ALPHA for q in adjust(list(row.ravel()), correction)) for row in p]
        assert list(shortcut) == by_adjust and shortcut.any() and not shortcut.all()


def test_batched_sign_flips_are_paired_tests_p_values() -> None:
    rng = np.random.default_rng(4)
    for shift in (0.0, 2.0, 4.0):
        a, b = rng.normal(50, 10, 30), rng.normal(50 + shift, 10, 30)
        ours = float(sign_flip_p((b - a)[None])[0])
        theirs = paired_test({str(i): float(v) for i, v in enumerate(a)}, {str(i): float(v) for i, v in enumerate(b)}).p_value
        assert ours == pytest.approx(theirs, abs=0.02)  # the same test; another draw of 2000 flips


def test_planted_effect_lands_where_asked() -> None:
    design = replace(Design(binary=False, replicates=3, baseline_replicates=3), effect=7.0)
    base, variants = simulate_scores(design, 400, np.random.default_rng(5))
    moved = variants[:, 0, 0].mean() - base[:, 0].mean()
    still = variants[:, 1:, :].mean() - base.mean()
    assert moved == pytest.approx(7.0, abs=0.5) and still == pytest.approx(0.0, abs=0.5)
