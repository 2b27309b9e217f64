"""Render a `Result` as a table: tasks (and group means) by context length."""

from __future__ import annotations

from tabulate import tabulate

from harness.core.lengths import format_length
from harness.results import Result, group_label
from harness.tasks.base import mean


def result_table(result: Result, fmt: str = "simple") -> str:
    """Tasks x lengths with an Avg column; group rows (e.g. `ruler`) after the tasks, a partial one marked
    with how many of its tasks ran (`[mmlu (1/57)]`)."""
    lengths = sorted({int(length) for cells in result.results.values() for length in cells})
    headers = ["task", *[format_length(length) for length in lengths], "Avg"]
    rows = []
    for task, cells in sorted(result.results.items()):
        scores = [cells.get(str(length), {}).get("score") for length in lengths]
        present = [s for s in scores if s is not None]
        rows.append([task, *scores, mean(present) if present else None])
    for group, info in sorted(result.groups.items()):
        scores = [info["lengths"].get(str(length), {}).get("score") for length in lengths]
        rows.append([f"[{group_label(group, info)}]", *scores, info["avg"]])
    table = tabulate(rows, headers=headers, floatfmt=".2f", tablefmt=fmt, missingval="-")
    return "\n".join([table, *group_summaries(result), *truncation_summaries(result), *limit_summaries(result),
                      *failure_summaries(result)])


def group_summaries(result: Result) -> list[str]:
    """One line per group with extra aggregates (RULER: wAvg inc/dec, effective length)."""
    lines = []
    for group, info in sorted(result.groups.items()):
        if "wavg_inc" not in info:
            continue
        effective = info.get("effective_length")
        shown = format_length(effective) if effective else "none"
        lines.append(
            f"{group_label(group, info)}: Avg {info['avg']:.2f}, wAvg(inc) {info['wavg_inc']:.2f}, wAvg(dec) {info['wavg_dec']:.2f}, "
            f"effective length {shown} (> {info['effective_threshold']})"
        )
    return lines


def truncation_summaries(result: Result) -> list[str]:
    """One line per task that truncates its inputs: how many samples were truncated or skipped, per length."""
    lines = []
    for task, cells in sorted(result.results.items()):
        parts = [
            f"{format_length(int(length))} {cell['truncated']}/{cell['n'] + cell['skipped']} truncated"
            + (f", {cell['skipped']} skipped" if cell["skipped"] else "")
            for length, cell in sorted(cells.items(), key=lambda kv: int(kv[0]))
            if "truncated" in cell and (cell["truncated"] or cell["skipped"])
        ]
        if parts:
            lines.append(f"{task}: " + "; ".join(parts))
    return lines


def limit_summaries(result: Result) -> list[str]:
    """One line per task whose answers ran into their token limit, per length: how many of its samples hit the
    generation limit, and how many left a think block open (their answer is empty)."""
    lines = []
    for task, cells in sorted(result.results.items()):
        parts = [f"{format_length(int(length))} {cell.get('hit_limit', 0)}/{cell['n']} hit the token limit"
                 + (f", {cell['think_truncated']} think block(s) left open" if cell.get("think_truncated") else "")
                 for length, cell in sorted(cells.items(), key=lambda kv: int(kv[0]))
                 if cell.get("hit_limit") or cell.get("think_truncated")]
        if parts:
            lines.append(f"{task}: " + "; ".join(parts))
    return lines


def failure_summaries(result: Result) -> list[str]:
    """One line per task with failed samples (no answer after the backend's retries; left out of its
    scores), per length: failed of all its samples."""
    lines = []
    for task, cells in sorted(result.results.items()):
        parts = [f"{format_length(int(length))} {cell['failed']}/{cell['n'] + cell['failed']} failed"
                 for length, cell in sorted(cells.items(), key=lambda kv: int(kv[0])) if cell.get("failed")]
        if parts:
            lines.append(f"{task}: " + "; ".join(parts) + " (left out of the score)")
    return lines
