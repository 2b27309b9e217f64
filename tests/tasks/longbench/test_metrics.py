"""LongBench's metrics on hand-made outputs (values worked out from metrics.py / eval.py)."""

import pytest

from harness.tasks.longbench.task import classification_score, count_score, score_example

CLASSES = ["Location", "Number", "Description", "Human"]


def test_count_is_the_share_of_numbers_equal_to_the_answer() -> None:
    assert count_score("3 and 3 and 4", "3", []) == pytest.approx(2 / 3)
    assert count_score("none", "3", []) == 0.0


def test_retrieval_reads_the_paragraph_number() -> None:
    assert score_example("passage_retrieval_en", "Paragraph 3", ("Paragraph 3",), []) == 1.0
    assert score_example("passage_retrieval_en", "Paragraph 3 or Paragraph 12", ("Paragraph 3",), []) == 0.5
    assert score_example("passage_retrieval_zh", "段落3", ("段落3",), []) == 1.0


def test_classification_divides_by_the_classes_named() -> None:
    assert classification_score("Human and Number", "Human", CLASSES) == 0.5
    assert classification_score("Location", "Human", CLASSES) == 0.0
    # the reference removes from the list it iterates: "Human" is removed, "being" is skipped and stays
    assert classification_score("Human being", "Human being", ["Human being", "Human", "being"]) == 0.5


def test_first_line_only_for_the_few_shot_datasets() -> None:
    assert score_example("trec", "\nHuman\nNumber", ("Human",), CLASSES) == 1.0
    assert score_example("triviaqa", "Paris\nand more words", ("Paris",), []) == 1.0
    # all lines count for qasper: 4 tokens, 1 shared: P = 1/4, R = 1, F1 = 0.5 / 1.25
    assert score_example("qasper", "Paris\nand more words", ("Paris",), []) == pytest.approx(0.4)


def test_best_over_answers_and_code_similarity() -> None:
    assert score_example("hotpotqa", "the copper lantern", ("river", "copper lantern"), []) == 1.0
    assert score_example("lcc", "```\n    return a + b", ("    return a + b",), []) == 1.0
