"""HELMET's metrics for Recall, RAG and Re-rank, as its `utils.py` and `data.py` compute them
(princeton-nlp/HELMET @4526dfb; `scripts/collect_results.py` names the metric per dataset):

- `substring_exact_match` (json_kv, nq, triviaqa, hotpotqa, popqa): an answer, SQuAD-normalised, is a substring of
  the normalised output; the best over the answers; the post-process takes the better of the raw output and the
  output parsed after its prefix (`parse_output`: "Answer:" for RAG, "corresponding value:" for JSON KV).
- `NDCG@10` (msmarco_rerank_psg): the output parsed into ranked ids (`parse_rankings`), scored against the row's
  qrels by trec_eval's `ndcg_cut_10` through `pytrec_eval` (the pytrec_eval-terrier wheel, the same module HELMET
  imports), per query.

Scores here are 0-1; tasks report them x 100, as HELMET's averaged metrics.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from harness.tasks.textmetrics import normalize_answer

QID = "q"  # the one query each NDCG call scores


def normalize(text: str) -> str:
    """HELMET's `normalize_answer` (lower case, no punctuation, no articles, single spaces): SQuAD's."""
    return normalize_answer(text)


def substring_exact_match(prediction: str, answers: Sequence[str]) -> float:
    """1.0 when some normalised answer is a substring of the normalised prediction, else 0.0."""
    pred = normalize(prediction)
    return float(any(normalize(answer) in pred for answer in answers))


def parse_output(output: str, prefix: str = "Answer:") -> str | None:
    """The text after `prefix` on its line (case-insensitive), else the first line, with the prefix stripped again
    where the model repeated it (HELMET's `parse_output`; the prefix is a regex there, as here)."""
    patterns = (re.compile(f"(?:{prefix})(.*)(?:\n|$)", flags=re.IGNORECASE), re.compile(r"(?:^)(.*)(?:\n|$)"))
    for pattern in patterns:
        match = pattern.search(output)
        if match is not None:
            return re.sub(f"^{re.escape(prefix)}", "", match[1].strip(), flags=re.IGNORECASE).strip()
    return None


def best_substring_match(output: str, answers: Sequence[str], prefix: str) -> float:
    """HELMET's post-process for substring EM: the better of the raw output and the output parsed after `prefix`."""
    score = substring_exact_match(output, answers)
    parsed = parse_output(output, prefix)
    return max(score, substring_exact_match(parsed, answers)) if parsed is not None else score


def parse_rankings(output: str) -> dict[str, int]:
    """HELMET's `parse_rankings`: brackets, colons and "id" removed, the longest `N > N > ...` run taken; each id
    scored len - rank (first mention kept). Without any number, the whole cleaned output is the one "id"."""
    cleaned = re.sub(r"[\[\]:]", "", output).lower().replace("id", "")
    longest = ""
    for match in re.finditer(r"(\d+)(?:\s*>\s*(\d+))*", cleaned):
        if len(match.group(0)) > len(longest):
            longest = match.group(0)
    ranked = [n.strip() for n in longest.split(">") if n.strip().isdigit()] if longest else [cleaned]
    scores: dict[str, int] = {}
    for i, doc in enumerate(ranked):
        scores.setdefault(doc, len(ranked) - i)
    return scores


def ndcg_at_10(ranking: Mapping[str, float], qrels: Mapping[str, int]) -> float:
    """trec_eval's ndcg_cut_10 of one query (pytrec_eval): `ranking` maps doc id -> score (higher first), `qrels`
    doc id -> graded relevance. A query whose qrels hold no relevant document scores 0."""
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator({QID: dict(qrels)}, {"ndcg_cut.10"})
    scores = evaluator.evaluate({QID: {doc: float(score) for doc, score in ranking.items()}})
    return float(scores.get(QID, {}).get("ndcg_cut_10", 0.0))


def rerank_ndcg(output: str, qrels: Mapping[str, int]) -> float:
    """HELMET's re-ranking post-process: parse the output's ranked ids, NDCG@10 against the qrels."""
    return ndcg_at_10(parse_rankings(output), qrels)
