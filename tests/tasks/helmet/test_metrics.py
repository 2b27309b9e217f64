"""HELMET's Recall/RAG/Re-rank metrics on hand-checked cases (bench/helmet_vs_reference.py compares them with
HELMET's own utils.py on generated outputs)."""

from __future__ import annotations

import math

import pytest

from harness.tasks.helmet.metrics import (
    best_substring_match,
    ndcg_at_10,
    normalize,
    parse_output,
    parse_rankings,
    rerank_ndcg,
    substring_exact_match,
)


def test_normalize_is_squads() -> None:
    assert normalize("The  Eiffel-Tower, in Paris!") == "eiffeltower in paris"
    assert normalize("An apple a day") == "apple day"


@pytest.mark.parametrize(("prediction", "answers", "expected"), [
    ("It is the Eiffel Tower.", ["eiffel tower"], 1.0),
    ("eiffel", ["Eiffel Tower"], 0.0),
    ("Paris, France", ["London", "paris"], 1.0),
    ("", ["x"], 0.0),
    ("anything", [""], 1.0),  # an empty answer is a substring of everything (as HELMET's)
])
def test_substring_exact_match(prediction: str, answers: list[str], expected: float) -> None:
    assert substring_exact_match(prediction, answers) == expected


def test_parse_output_takes_the_text_after_the_prefix() -> None:
    assert parse_output("Answer: Paris\nmore") == "Paris"
    assert parse_output("I think\nanswer: answer: Rome") == "Rome"  # case-insensitive, a repeated prefix dropped
    assert parse_output("no prefix here\nsecond") == "no prefix here"
    assert parse_output(" 1234-abcd", "corresponding value:") == "1234-abcd"


def test_best_substring_match_uses_the_parsed_output_too() -> None:
    assert best_substring_match("Answer: the Beatles", ["The Beatles"], "Answer:") == 1.0
    assert best_substring_match("Answer: Stones", ["The Beatles"], "Answer:") == 0.0


def test_parse_rankings() -> None:
    assert parse_rankings("[ID: 3] > [ID: 1] > 2") == {"3": 3, "1": 2, "2": 1}
    assert parse_rankings("ID7 > ID7 > ID2") == {"7": 3, "2": 1}  # the first mention counts
    assert parse_rankings("1 > 2\nthen 5 > 6 > 7") == {"5": 3, "6": 2, "7": 1}  # the longest run
    assert parse_rankings("no numbers") == {"no numbers": 1}


def test_ndcg_at_10_is_trec_evals() -> None:
    qrels = {"a": 3, "b": 0, "c": 1}
    ideal = 3 + 1 / math.log2(3)
    assert ndcg_at_10({"c": 3, "x": 2, "a": 1}, qrels) == pytest.approx((1 + 3 / math.log2(4)) / ideal)
    assert ndcg_at_10({"a": 2, "c": 1}, qrels) == pytest.approx(1.0)
    assert ndcg_at_10({"b": 1}, qrels) == 0.0
    assert ndcg_at_10({"a": 1}, {"a": 0, "b": 0}) == 0.0  # no relevant document
    # only the first ten count
    ranked = {str(i): 100 - i for i in range(10)} | {"a": 1}
    assert ndcg_at_10(ranked, qrels) == 0.0


def test_rerank_ndcg_parses_then_scores() -> None:
    assert rerank_ndcg(" [ID: 1] > [ID: 3] > [ID: 2]", {"1": 2, "2": 0, "3": 1}) == pytest.approx(1.0)
    assert rerank_ndcg("garbage", {"1": 2}) == 0.0
