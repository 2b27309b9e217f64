"""HELMET's answer metrics for its ICL and long-document QA tasks, as `utils.py` and `data.py` compute them
(princeton-nlp/HELMET @4526dfb): exact match after SQuAD normalisation and ROUGE-L F1 (Google's `rouge-score`,
Porter stemming), each the best over the answers; `parse_output` and substring exact match are `metrics.py`'s
(shared with the Recall/RAG tasks). `default_post_process` takes the better of the raw and the parsed output; the
choice task's post-process also accepts the "X. option" answer as a substring of the output.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from harness.tasks.helmet.metrics import parse_output, substring_exact_match
from harness.tasks.textmetrics import normalize_answer

__all__ = ["choice_exact_match", "default_score", "exact_match", "icl_exact_match", "parse_output", "rouge_l_f1",
           "substring_exact_match"]


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised answer."""
    return float(any(normalize_answer(prediction) == normalize_answer(a) for a in answers))


@lru_cache(maxsize=1)
def _scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l_f1(prediction: str, answers: Sequence[str]) -> float:
    """ROUGE-L F1 with stemming, the best over the answers (HELMET's `rougeL_f1`)."""
    return max((float(_scorer().score(target=a, prediction=prediction)["rougeL"].fmeasure) for a in answers), default=0.0)


METRICS = {"exact_match": exact_match, "substring_exact_match": substring_exact_match, "rougeL_f1": rouge_l_f1}


def default_score(metric: str, prediction: str, answers: Sequence[str], prefix: str = "Answer:") -> float:
    """HELMET's `default_post_process` for one metric: the better of the raw and the parsed output (0-1)."""
    score = METRICS[metric](prediction, answers)
    parsed = parse_output(prediction, prefix)
    return max(score, METRICS[metric](parsed, answers)) if parsed is not None else score


def icl_exact_match(prediction: str, answer: str) -> float:
    """HELMET's ICL post-process: exact match of the output parsed after `label:` (0-1)."""
    parsed = parse_output(prediction, "label:")
    return exact_match(parsed, [answer]) if parsed is not None else 0.0


def choice_exact_match(prediction: str, answers: Sequence[str]) -> float:
    """HELMET's InfiniteBench choice post-process (`answers` = [letter, "letter. option"]): exact match of the
    raw or parsed output, or the "letter. option" text inside the output (case-insensitive)."""
    if len(answers) > 1 and answers[1].lower() in prediction.lower():
        return 1.0
    return default_score("exact_match", prediction, answers)
