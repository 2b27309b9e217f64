"""RULER's scoring (scripts/eval/synthetic/constants.py and evaluate.py), per sample, 0-100."""

from __future__ import annotations

import re
from typing import Sequence

from harness.tasks.base import Metric

_CONTROL = re.compile(r"[\x00-\x1f]")


def postprocess(prediction: str) -> str:
    """Strip, replace control characters with newlines, strip again (RULER's `postprocess_pred`)."""
    return _CONTROL.sub("\n", prediction.strip()).strip()


def string_match_all(prediction: str, references: Sequence[str]) -> float:
    """Percent of references found in the prediction, case-insensitive."""
    if not references:
        return 0.0
    lowered = prediction.lower()
    return 100.0 * sum(ref.lower() in lowered for ref in references) / len(references)


def string_match_part(prediction: str, references: Sequence[str]) -> float:
    """100 if any reference is found in the prediction, case-insensitive, else 0."""
    lowered = prediction.lower()
    return 100.0 if any(ref.lower() in lowered for ref in references) else 0.0


STRING_MATCH_ALL = Metric("string_match_all", string_match_all)
STRING_MATCH_PART = Metric("string_match_part", string_match_part)
