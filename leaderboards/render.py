"""A board as text: the terminal table, Markdown and CSV (one row per variant and column, with the
interval, the difference from the baseline and its p-value)."""

from __future__ import annotations

import csv
import io

from tabulate import tabulate

from harness.core.records import BoardBaseline
from harness.leaderboards.collect import Board, Cell

UP, DOWN = "▲", "▼"


def mark(cell: Cell, alpha: float) -> str:
    """▲ / ▼ where the difference from the baseline is significant at `alpha`."""
    if cell.p_value is None or cell.diff is None or cell.p_value >= alpha or cell.diff == 0:
        return ""
    return UP if cell.diff > 0 else DOWN


def _text(cell: Cell | None, alpha: float, delta: bool) -> str:
    if cell is None or cell.score is None:
        return "-"
    value = f"{cell.score:+.1f}" if delta else f"{cell.score:.1f}"
    return value + mark(cell, alpha)


def rows(board: Board) -> tuple[list[str], list[list[str]]]:
    headers = ["variant", *[c.label for c in board.columns]]
    body = [[run.variant, *[_text(board.cells.get((run.variant, c.id)), board.config.alpha, c.kind == "delta") for c in board.columns]]
            for run in board.runs]
    return headers, body


def footer(board: Board) -> list[str]:
    lines = []
    if board.config.baseline:
        lines.append(f"{UP}/{DOWN}: differs from {board.config.baseline} at p < {board.config.alpha} (paired, same samples)")
    lines += [f"{name}: failed ({error})" for name, error in board.failed.items()]
    return lines


def terminal(board: Board) -> str:
    headers, body = rows(board)
    return "\n".join([tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True), *footer(board)])


def markdown(board: Board) -> str:
    headers, body = rows(board)
    notes = "".join(f"\n\n{line}" for line in footer(board))
    table: str = tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)
    return f"## {board.config.name}\n\n" + table + notes + "\n"


def to_csv(board: Board) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["variant", "column", "source", "kind", "length", "score", "ci_low", "ci_high", "n", "diff_vs_baseline",
                     "p_value", "test"])
    for run in board.runs:
        for column in board.columns:
            cell = board.cells.get((run.variant, column.id), Cell(None))
            writer.writerow([run.variant, column.label, column.source, column.kind, column.length if column.length is not None else "",
                             *("" if v is None else (round(v, 4) if isinstance(v, float) else v)
                               for v in (cell.score, cell.low, cell.high, cell.n, cell.diff, cell.p_value, cell.test))])
    return out.getvalue()


def baseline_json(board: Board) -> str:
    """Per variant, every task cell with its per-sample scores: what `harness check --baseline` reads."""
    rows = {}
    for run in board.runs:
        cells = [{"task": task, "length": int(length), "score": cell["score"], "stderr": cell.get("stderr"), "n": cell.get("n"),
                  "samples": run.samples.get((task, int(length)), {})}
                 for task, lengths in sorted(run.results["results"].items())
                 for length, cell in sorted(lengths.items(), key=lambda item: int(item[0]))
                 if cell.get("score") is not None]
        rows[run.variant] = {"cells": cells}
    return BoardBaseline(board.config.name, rows).text()  # harness.core.records: versioned
