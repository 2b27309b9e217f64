"""Render a `Result` as a table: tasks (and group means) by context length."""

from __future__ import annotations

from tabulate import tabulate

from harness.lengths import format_length
from harness.results import Result
from tasks.base import mean


def result_table(result: Result, fmt: str = "simple") -> str:
    """Tasks x lengths with an Avg column; group rows (e.g. `ruler`) after the tasks."""
    lengths = sorted({int(length) for cells in result.results.values() for length in cells})
    headers = ["task", *[format_length(length) for length in lengths], "Avg"]
    rows = []
    for task, cells in sorted(result.results.items()):
        scores = [cells.get(str(length), {}).get("score") for length in lengths]
        present = [s for s in scores if s is not None]
        rows.append([task, *scores, mean(present) if present else None])
    for group, info in sorted(result.groups.items()):
        scores = [info["lengths"].get(str(length), {}).get("score") for length in lengths]
        rows.append([f"[{group}]", *scores, info["avg"]])
    return tabulate(rows, headers=headers, floatfmt=".2f", tablefmt=fmt, missingval="-")
