"""InfiniteBench's metrics on hand-made outputs (values worked out from compute_scores.py's rules)."""

import pytest

from harness.tasks.infinitebench import metrics
from harness.tasks.infinitebench.task import targets_of


def test_passkey_and_number_string_take_the_first_integer() -> None:
    assert metrics.passkey("The pass key is 71432.", ("71432",)) == 1.0
    assert metrics.passkey("7143 2", ("71432",)) == 0.0


def test_kv_retrieval_looks_for_the_value_among_words() -> None:
    assert metrics.kv_retrieval('The value is: "c14cb8ba-002b".', ("c14cb8ba-002b",)) == 1.0
    assert metrics.kv_retrieval("c14cb8ba-002bx", ("c14cb8ba-002b",)) == 0.0


def test_longdialogue_upper_cases_the_output_words() -> None:
    assert metrics.longdialogue_qa_eng("Ace Rothstein", ("ACE", "ACE ROTHSTEIN")) == 1.0
    assert metrics.longdialogue_qa_eng("Nicky", ("ACE",)) == 0.0


def test_code_run_takes_the_last_word() -> None:
    assert metrics.code_run("The value is 4.", ("4",)) == 1.0
    assert metrics.code_run("4 is the value", ("4",)) == 0.0
    assert metrics.code_run("", ("4",)) == 0.0


def test_math_find_compares_as_the_label_is_typed() -> None:
    assert metrics.math_find("88", ("88",)) == 1.0
    assert metrics.math_find("It is 3.5 or so", ("3.5",)) == 1.0
    assert metrics.math_find("3.5", ("3",)) == 0.0
    assert metrics.math_find("none", ("3",)) == 0.0


def test_math_calc_counts_correct_values_before_the_first_error() -> None:
    assert metrics.math_calc("[3, 6, 5]", ("3", "6", "5")) == 1.0
    assert metrics.math_calc("[3, 6, 4, 5]", ("3", "6", "5")) == pytest.approx(2 / 3)
    assert metrics.math_calc("[-1, 3]", ("-1", "3")) == 0.0  # the benchmark reads unsigned integers only
    assert metrics.math_calc("[1, 3, 6, 5]", ("3", "6", "5"), skip_first=True) == 1.0


def test_choice_matches_letter_text_prefix_or_first_letter_word() -> None:
    label = ("Walking Georgie", "A")
    assert metrics.longbook_choice_eng("A. Walking Georgie", label) == 1.0
    assert metrics.longbook_choice_eng("Walking Georgie", label) == 1.0
    assert metrics.longbook_choice_eng("The answer is: A", label) == 1.0
    assert metrics.longbook_choice_eng("I think B", label) == 0.0
    assert metrics.longbook_choice_eng("so maybe A then", label) == 1.0
    assert metrics.longbook_choice_eng("", label) == 0.0


def test_code_debug_matches_letter_or_function_after_a_prefix() -> None:
    label = ("repack_carchive", "B")
    assert metrics.code_debug("B. repack", label) == 1.0
    assert metrics.code_debug("The answer is: repack_carchive", label) == 1.0
    assert metrics.code_debug("C. cmd_gen", label) == 0.0


def test_qa_and_summary_metrics() -> None:
    assert metrics.longbook_qa_eng("fighting in World War 1", ("nothing", "fighting in world war 1")) == 1.0
    assert metrics.longbook_qa_chn("一座庙", ("一座庙",)) == 1.0
    assert metrics.longbook_sum_eng("a b c d", ("a b x d",)) == pytest.approx(0.75)


def test_targets_follow_get_answer() -> None:
    options = ["w", "x", "y", "z"]
    assert targets_of("longbook_choice_eng", {"answer": ["y"], "options": options}) == ("y", "C")
    assert targets_of("code_debug", {"answer": "x", "options": options}) == ("x", "B")
    assert targets_of("math_calc", {"answer": [[3, 6, 5]]}) == ("3", "6", "5")
    assert targets_of("code_run", {"answer": [4]}) == ("4",)
    assert targets_of("kv_retrieval", {"answer": "abc"}) == ("abc",)
