"""Text metrics shared by the real-document benchmarks (LongBench, InfiniteBench), as their
reference scripts compute them: SQuAD-normalised token F1, Chinese F1, ROUGE-L (the `rouge`
package, as LongBench), ROUGE-Lsum (Google's `rouge-score`, what InfiniteBench's `evaluate` call
wraps), code similarity (fuzzywuzzy's difflib ratio), jieba word segmentation.
"""

from __future__ import annotations

import logging
import re
import string
from collections import Counter
from functools import lru_cache
from typing import Any, Sequence

CN_PUNCTUATION = (
    "！？｡。＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣"
    "､、〃》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏."
)
_ALL_PUNCTUATION = set(string.punctuation + CN_PUNCTUATION)
_ASCII_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, drop punctuation, articles and extra whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def normalize_zh_answer(text: str) -> str:
    """Chinese normalisation: lower case, drop ASCII and Chinese punctuation and all whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _ALL_PUNCTUATION)
    return "".join(text.split())


def f1_tokens(prediction: Sequence[str], truth: Sequence[str]) -> float:
    """Bag-of-tokens F1 between two token lists (0 when nothing is shared)."""
    common = Counter(prediction) & Counter(truth)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction)
    recall = same / len(truth)
    return 2 * precision * recall / (precision + recall)


def qa_f1(prediction: str, truth: str) -> float:
    """Token F1 after SQuAD normalisation, words split on whitespace."""
    return f1_tokens(normalize_answer(prediction).split(), normalize_answer(truth).split())


def qa_f1_zh_chars(prediction: str, truth: str) -> float:
    """InfiniteBench's Chinese F1: one character, one token, after normalisation."""
    return f1_tokens(list(normalize_zh_answer(prediction)), list(normalize_zh_answer(truth)))


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces building its dictionary on stderr
    return jieba


def jieba_words(text: str) -> list[str]:
    """Chinese word segmentation (jieba, precise mode), as both benchmarks use it."""
    return list(_jieba().cut(text, cut_all=False))


def qa_f1_zh_words(prediction: str, truth: str) -> float:
    """LongBench's Chinese F1: jieba words, each normalised, empty ones dropped."""
    pred = [w for w in (normalize_zh_answer(t) for t in jieba_words(prediction)) if w]
    gold = [w for w in (normalize_zh_answer(t) for t in jieba_words(truth)) if w]
    return f1_tokens(pred, gold)


def rouge_l(prediction: str, truth: str) -> float:
    """ROUGE-L F of the `rouge` package (LongBench's metric); 0 where it cannot score (empty text)."""
    from rouge import Rouge

    try:
        scores = Rouge().get_scores([prediction], [truth], avg=True)
    except (ValueError, RecursionError):  # "Hypothesis is empty", very long inputs
        return 0.0
    return float(scores["rouge-l"]["f"])


def rouge_l_zh(prediction: str, truth: str) -> float:
    """ROUGE-L over jieba words joined by spaces (LongBench's Chinese ROUGE)."""
    return rouge_l(" ".join(jieba_words(prediction)), " ".join(jieba_words(truth)))


@lru_cache(maxsize=1)
def _lsum_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=False)


def rouge_lsum(prediction: str, truths: Sequence[str]) -> float:
    """ROUGE-Lsum F (`rouge-score`, no stemming), the best over several references, as
    `evaluate.load("rouge").compute(..., use_aggregator=False)` gives it."""
    scorer = _lsum_scorer()
    if len(truths) == 1:
        return float(scorer.score(truths[0], prediction)["rougeLsum"].fmeasure)
    return float(scorer.score_multi(list(truths), prediction)["rougeLsum"].fmeasure)


def code_similarity(prediction: str, truth: str) -> float:
    """LongBench's code_sim: the first line that is not a comment or fence, `fuzz.ratio / 100`.

    The reference's requirements install fuzzywuzzy without python-Levenshtein, so its ratio is
    difflib's SequenceMatcher ratio x 100, rounded: computed here with difflib itself."""
    from difflib import SequenceMatcher

    line = next((ln for ln in prediction.lstrip("\n").split("\n") if "`" not in ln and "#" not in ln and "//" not in ln), "")
    return round(100 * SequenceMatcher(None, line, truth).ratio()) / 100


def first_int(text: str) -> str:
    """The first run of digits in `text` ('' when none): InfiniteBench's first_int_match."""
    return next((piece for piece in re.split("[^0-9]", text) if piece), "")
