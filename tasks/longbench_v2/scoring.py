"""LongBench v2's answer extraction and its result table (THUDM/LongBench @2e00731, `pred.py`, `result.py`).

`extract_answer` is `pred.py`'s: asterisks removed, then the first "The correct answer is (X)", else the
first "The correct answer is X", X one of A-D (case-sensitive); None when neither is there. A sample
scores 100 when the letter equals the row's answer. `report` is `result.py`'s table per evaluated
length: overall, easy/hard, short/medium/long accuracies (rounded to one decimal), with their counts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.core.types import ScoredSample

BRACKETED = re.compile(r"The correct answer is \(([A-D])\)")
BARE = re.compile(r"The correct answer is ([A-D])")
BUCKETS = ("easy", "hard", "short", "medium", "long")


def extract_answer(response: str) -> str | None:
    """The chosen letter, as `pred.py` reads it (None: no answer in the reference's format)."""
    response = response.replace("*", "")
    match = BRACKETED.search(response) or BARE.search(response)
    return match.group(1) if match else None


def score(answer: str, output: str) -> float:
    """100 when the extracted letter is the row's answer, else 0 (`pred.py`'s `judge`)."""
    return 100.0 if extract_answer(output.strip()) == answer else 0.0


def buckets_of(difficulty: str, length: str) -> tuple[str, str]:
    """`result.py`'s buckets: anything not "easy" counts as hard, anything not short or medium as long."""
    return ("easy" if difficulty == "easy" else "hard",
            length if length in ("short", "medium") else "long")


def table(rows: list[tuple[str, str, float]]) -> dict[str, Any]:
    """`result.py`'s accuracies of (difficulty, length label, correct 0/1) rows: each bucket's
    `round(100 * correct / n, 1)` (None for an empty bucket, where the reference divides by zero) and n."""
    correct = dict.fromkeys(("overall", *BUCKETS), 0.0)
    counts = dict.fromkeys(("overall", *BUCKETS), 0)
    for difficulty, length, acc in rows:
        for name in ("overall", *buckets_of(difficulty, length)):
            correct[name] += acc
            counts[name] += 1
    return {name: {"acc": round(100 * correct[name] / counts[name], 1) if counts[name] else None, "n": counts[name]}
            for name in correct}


def report(records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """Per evaluated length, `result.py`'s table (`overall`, `easy`, `hard`, `short`, `medium`, `long`: acc and n)
    and how many outputs had no readable answer (`no_answer`)."""
    by_length: dict[int, list[ScoredSample]] = {}
    for record in records:
        by_length.setdefault(record.length, []).append(record)
    out: dict[str, Any] = {}
    for length, group in sorted(by_length.items()):
        rows = [(str(r.meta.get("difficulty", "")), str(r.meta.get("length_bucket", "")), float(r.score >= 100.0))
                for r in group]
        out[str(length)] = {**table(rows), "no_answer": sum(extract_answer(r.output.strip()) is None for r in group)}
    return out
