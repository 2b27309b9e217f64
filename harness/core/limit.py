"""`--limit`: how many samples a task runs per length — a count, or (as in lm-eval) a fraction of the task's own."""

from __future__ import annotations

import math

from harness.core.errors import HarnessError


def parse_limit(value: int | float | str | None) -> int | float | None:
    """A count (a whole number >= 1) or a fraction of each task's samples (0 < x < 1); None: the task's own count."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if 0 < number < 1:
        return number
    if math.isfinite(number) and number >= 1 and number == int(number):
        return int(number)
    raise HarnessError(f"bad --limit {value!r}: expected a count (a whole number >= 1) or a fraction of each task's samples (0 < x < 1)")


def sample_count(limit: int | float | None, num_samples: int, size: int | None = None) -> int:
    """Samples per length of a task whose default count is `num_samples` and whose data holds `size` examples
    (None: generated, no fixed size). A count is capped by `size`; a fraction is that share, rounded up (lm-eval's
    rule), of the task's own count: its data's size for real-document tasks, its default for generated ones
    (RULER 500, niah one per depth)."""
    own = num_samples if size is None else min(num_samples, size)
    if limit is None:
        return own
    if isinstance(limit, float) and limit < 1:
        return math.ceil(own * limit)
    return int(limit) if size is None else min(int(limit), size)
