"""RULER's reported aggregates over lengths (README and paper): Avg, wAvg, effective length."""

from __future__ import annotations

from typing import Any

# Llama-2-7B's RULER score at 4k, the paper's bar for "effective" context length.
EFFECTIVE_THRESHOLD = 85.6


def weighted_average(scores: dict[int, float], increasing: bool) -> float:
    """Weights proportional to the length's rank (1..K ascending for `inc`, K..1 for `dec`)."""
    lengths = sorted(scores)
    ranks = range(1, len(lengths) + 1) if increasing else range(len(lengths), 0, -1)
    weights = list(ranks)
    return sum(w * scores[length] for w, length in zip(weights, lengths)) / sum(weights)


def effective_length(scores: dict[int, float], threshold: float = EFFECTIVE_THRESHOLD) -> int | None:
    """The longest length up to which every length scores above `threshold` (None if the first fails)."""
    effective = None
    for length in sorted(scores):
        if scores[length] <= threshold:
            break
        effective = length
    return effective


def ruler_summary(scores: dict[int, float], threshold: float = EFFECTIVE_THRESHOLD) -> dict[str, Any]:
    """Avg, wAvg (inc), wAvg (dec) and effective length from per-length means of the 13 tasks."""
    if not scores:
        return {}
    return {
        "avg": round(sum(scores.values()) / len(scores), 4),
        "wavg_inc": round(weighted_average(scores, increasing=True), 4),
        "wavg_dec": round(weighted_average(scores, increasing=False), 4),
        "effective_length": effective_length(scores, threshold),
        "effective_threshold": threshold,
    }
