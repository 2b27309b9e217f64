"""Many tests at once: a board tests variants x columns x lengths, `harness check` every cell.
`adjust` turns raw p-values into adjusted ones (`statsmodels.stats.multitest.multipletests`):

- `holm` (default): Holm's step-down, which keeps the family-wise error rate (any false ▲/▼ on the
  whole board) at or below alpha under any dependence between the tests;
- `bh`: Benjamini-Hochberg, which keeps the expected share of false marks among the marks (the
  false discovery rate) at alpha, for positively dependent tests -- more marks, weaker promise;
- `none`: the raw p-values (each cell on its own).
"""

from __future__ import annotations

import math
from typing import Sequence

from harness.core.errors import HarnessError

CORRECTIONS = ("holm", "bh", "none")
_STATSMODELS = {"holm": "holm", "bh": "fdr_bh"}


def check_correction(method: object, where: str = "correction") -> str:
    """`method` if it is one of CORRECTIONS, else a HarnessError naming `where` and the value."""
    if method not in CORRECTIONS:
        raise HarnessError(f"{where} {method!r}: expected one of {', '.join(CORRECTIONS)}")
    return str(method)


def adjust(p_values: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjusted p-values in the same order; None or NaN entries (no test) stay None and are not counted."""
    check_correction(method)
    present = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    if not present:
        return out
    raw = [float(p_values[i]) for i in present]  # type: ignore[arg-type]
    if method == "none":
        adjusted = raw
    else:
        from statsmodels.stats.multitest import multipletests

        adjusted = [float(p) for p in multipletests(raw, method=_STATSMODELS[method])[1]]
    for i, p in zip(present, adjusted):
        out[i] = p
    return out


def family_alpha(alpha: float, tests: int, method: str) -> float:
    """The per-test level that the smallest p-value must reach: alpha / m under Holm (its first step,
    Bonferroni's), alpha under none; BH's first step is also alpha / m. What an MDE is computed at."""
    return alpha if method == "none" or tests <= 1 else alpha / tests
