"""Shared text metrics on hand-made predictions; each expected value is worked out in the comment."""

import pytest

from harness.tasks.textmetrics import (
    code_similarity,
    first_int,
    normalize_answer,
    qa_f1,
    qa_f1_zh_chars,
    qa_f1_zh_words,
    rouge_l,
    rouge_l_zh,
    rouge_lsum,
)


def test_squad_normalisation_drops_case_punctuation_and_articles() -> None:
    assert normalize_answer("The  Copper, lantern!") == "copper lantern"


def test_token_f1() -> None:
    assert qa_f1("The copper lantern!", "a copper lantern") == 1.0
    # 4 predicted tokens, 2 shared with a 2-token answer: P = 1/2, R = 1, F1 = 2 * 0.5 / 1.5
    assert qa_f1("copper lantern and river", "copper lantern") == pytest.approx(2 / 3)
    assert qa_f1("", "copper") == 0.0


def test_chinese_character_f1() -> None:
    assert qa_f1_zh_chars("一座庙。", "一座庙") == 1.0
    # 4 characters against 3, 3 shared: P = 3/4, R = 1, F1 = 1.5 / 1.75
    assert qa_f1_zh_chars("一座山庙", "一座庙") == pytest.approx(6 / 7)


def test_chinese_word_f1_uses_jieba_words() -> None:
    assert qa_f1_zh_words("预算和计划。", "预算和计划") == 1.0
    assert 0.0 < qa_f1_zh_words("预算", "预算和计划") < 1.0


def test_rouge_l_and_lsum() -> None:
    assert rouge_l("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0, abs=1e-6)
    assert rouge_l("", "the cat") == 0.0  # the rouge package refuses an empty hypothesis
    # longest common subsequence a b d (3 of 4 tokens each side): P = R = F = 0.75
    assert rouge_lsum("a b c d", ["a b x d"]) == pytest.approx(0.75)
    assert rouge_lsum("a b c d", ["zzz", "a b c d"]) == pytest.approx(1.0)  # best reference
    assert rouge_l_zh("会议讨论了预算", "会议讨论了预算") == pytest.approx(1.0, abs=1e-6)


def test_code_similarity_reads_the_first_code_line() -> None:
    assert code_similarity("```python\n    return a + b\n", "    return a + b") == 1.0
    assert code_similarity("# a comment\nreturn a", "return b") == pytest.approx(0.88)  # difflib ratio 2 x 7 / 16 = 87.5, rounded to 88


def test_first_int() -> None:
    assert first_int("The pass key is 71432.") == "71432"
    assert first_int("no digits") == ""
