"""Corrections for many tests: statsmodels' Holm and BH against values computed by hand."""

import math

import pytest

from harness.core.errors import HarnessError
from harness.core.stats.multiple import adjust, check_correction, family_alpha

P = [0.01, 0.04, 0.03, None, 0.005]


def test_holm_by_hand() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert adjust(P, "holm") == [pytest.approx(0.03), pytest.approx(0.06), pytest.approx(0.06), None, pytest.approx(0.02)]


def test_bh_by_hand() -> None:
    # sorted p * 4 / rank = 0.02, 0.02, 0.04, 0.04 -> running min from the top: 0.02, 0.02, 0.04, 0.04
    assert adjust(P, "bh") == [pytest.approx(0.02), pytest.approx(0.04), pytest.approx(0.04), None, pytest.approx(0.02)]


def test_none_passes_through_and_missing_tests_stay_none() -> None:
    assert adjust(P, "none") == P
    assert adjust([None, math.nan], "holm") == [None, None]
    assert adjust([0.5, math.nan, 0.01], "holm") == [pytest.approx(0.5), None, pytest.approx(0.02)]  # NaN not counted
    assert adjust([], "bh") == []
    assert adjust([0.6, 0.7], "holm") == [pytest.approx(1.0), pytest.approx(1.0)]  # capped at 1


def test_bad_correction_names_the_value() -> None:
    with pytest.raises(HarnessError, match="'bonferroni'"):
        adjust([0.1], "bonferroni")
    with pytest.raises(HarnessError, match="board.yaml: correction"):
        check_correction("x", "board.yaml: correction")


def test_family_alpha() -> None:
    assert family_alpha(0.05, 18, "holm") == pytest.approx(0.05 / 18)
    assert family_alpha(0.05, 18, "bh") == pytest.approx(0.05 / 18)
    assert family_alpha(0.05, 18, "none") == 0.05 and family_alpha(0.05, 1, "holm") == 0.05
