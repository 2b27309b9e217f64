"""Comparisons over replicates: one replicate each is the paired test, the batch core equals the single
comparison, the crossed design's variance components match statsmodels' MixedLM, and the df rules."""

import numpy as np
import pytest

from harness.core.stats.paired import paired_test
from harness.core.stats.replicated import CROSSED, SIGN, _mean_squares, compare_replicated, crossed_arrays, replicate_sd


def _scores(values: np.ndarray) -> dict[str, float]:
    return {f"s{i:03d}": float(v) for i, v in enumerate(values)}


@pytest.mark.parametrize("binary", [True, False])
def test_one_replicate_each_is_paired_test(binary: bool) -> None:
    rng = np.random.default_rng(4)
    if binary:
        a, b = (rng.choice([0.0, 100.0], 40) for _ in range(2))
    else:
        a, b = rng.normal(50, 10, 40), rng.normal(53, 10, 40)
    single, paired = compare_replicated([_scores(a)], [_scores(b)]), paired_test(_scores(a), _scores(b))
    assert (single.p_value, single.difference, single.test, single.n) == (paired.p_value, paired.difference, paired.test, paired.n)
    assert single.discordant == paired.discordant and not single.train_measured
    assert single.replicates_a == single.replicates_b == 1


def test_batched_core_equals_compare_replicated() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(50, 10, (4, 3, 25)) + rng.normal(0, 3, (4, 3, 1))
    y = rng.normal(51, 10, (4, 2, 25)) + rng.normal(0, 3, (4, 2, 1))
    batch = crossed_arrays(x, y)
    for k in range(4):
        one = compare_replicated([_scores(row) for row in x[k]], [_scores(row) for row in y[k]])
        assert one.test == CROSSED
        assert one.p_value == pytest.approx(float(batch.p_value[k]))
        assert one.se == pytest.approx(float(np.sqrt(batch.variance[k])))
        assert one.difference == pytest.approx(float(y[k].mean() - x[k].mean()))
        assert one.df == 3.0  # containment: (3 - 1) + (2 - 1)


def test_variance_components_match_mixedlm() -> None:
    """A balanced crossed design with positive components: the ANOVA (method-of-moments) estimates equal
    REML's, here statsmodels' MixedLM with one all-covering group and a variance component per factor."""
    import pandas as pd
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(7)
    replicates, n = 5, 40
    y = 50 + rng.normal(0, 4, (replicates, 1)) + rng.normal(0, 10, (1, n)) + rng.normal(0, 3, (replicates, n))
    frame = pd.DataFrame({"y": y.ravel(), "rep": np.repeat(np.arange(replicates), n), "sample": np.tile(np.arange(n), replicates),
                          "group": 1})
    model = smf.mixedlm("y ~ 1", frame, groups="group", vc_formula={"rep": "0 + C(rep)", "sample": "0 + C(sample)"})
    fit = model.fit(reml=True)
    components = dict(zip(model.exog_vc.names, fit.vcomp))
    arm = [_scores(row) for row in y]
    result = compare_replicated(arm, arm)  # A against itself: its train_sd is that arm's training-seed SD
    assert result.train_sd_a is not None
    ms_rep, ms_err = _mean_squares(y)
    assert result.train_sd_a**2 == pytest.approx(components["rep"], rel=0.02)
    assert float(ms_err) == pytest.approx(fit.scale, rel=0.02)
    assert result.train_sd_a > 0  # a positive component (where REML and the ANOVA agree)


def test_check_borrows_the_baselines_estimate_once() -> None:
    rng = np.random.default_rng(8)
    base = rng.normal(50, 10, (3, 30)) + rng.normal(0, 5, (3, 1))
    run = rng.normal(50, 10, (1, 30))
    result = compare_replicated([_scores(r) for r in base], [_scores(run[0])], b_like_a=True)
    ms_rep, ms_err = _mean_squares(base)
    excess = max(0.0, float(ms_rep - ms_err))
    assert result.df == 2.0  # the baseline's replicates only: 3 - 1
    assert result.train_var == pytest.approx(excess * (1 / 3 + 1) / 30)
    assert result.train_sd_a == result.train_sd_b == pytest.approx(np.sqrt(excess / 30))
    unmeasured = compare_replicated([_scores(r) for r in base], [_scores(run[0])])
    assert unmeasured.train_var == pytest.approx(excess / 3 / 30) and unmeasured.train_sd_b is None


def test_untrained_control_against_replicates_and_no_spread() -> None:
    rng = np.random.default_rng(9)
    control = np.round(rng.normal(50, 10, 30))  # whole numbers: control + 2 differs by exactly 2
    variant = control + rng.normal(0, 5, (3, 30)) + rng.normal(0, 4, (3, 1))
    result = compare_replicated([_scores(control)], [_scores(r) for r in variant])
    assert result.df == 2.0 and result.train_sd_a is None and result.train_sd_b is not None
    same = compare_replicated([_scores(control)] * 2, [_scores(control + 2.0)] * 2)
    assert same.test == SIGN and same.p_value < 1e-8  # every sample +2: no variance, the sign test
    assert compare_replicated([_scores(control)] * 2, [_scores(control)] * 2).p_value == 1.0
    assert replicate_sd([_scores(control)]) is None
    assert replicate_sd([_scores(control), _scores(control + 2.0)]) == pytest.approx(np.sqrt(2.0))
    with pytest.raises(ValueError):
        compare_replicated([], [_scores(control)])
