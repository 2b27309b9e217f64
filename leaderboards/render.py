"""A board as text: the terminal table and Markdown (scores with ▲/▼ from the adjusted p-values and the
training-seed SD as ±, an MDE row, a footer saying alpha, the correction, m and the replicates; Markdown
adds a long Details table), CSV (one row per variant and column with every number), and the baseline.json
that `harness check --baseline` reads."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from tabulate import tabulate

from harness.core.records import BoardBaseline
from harness.core.stats.intervals import SCALE
from harness.core.stats.power import shown_mde
from harness.core.stats.replicated import replicate_sd
from harness.leaderboards.collect import Board, BoardColumn, Cell, Run

UP, DOWN = "▲", "▼"
INFINITE = "∞"
CORRECTIONS = {"holm": "Holm (family-wise error)", "bh": "Benjamini-Hochberg (false discovery rate)", "none": "no correction"}
CSV_COLUMNS = ["variant", "column", "source", "kind", "length", "score", "ci_low", "ci_high", "ci_method", "n", "replicates",
               "train_sd", "diff_vs_baseline", "p_value", "p_adjusted", "test", "mde"]


def mark(cell: Cell, alpha: float) -> str:
    """▲ / ▼ where the difference from the baseline is significant at `alpha` after the board's correction."""
    if cell.p_adjusted is None or cell.diff is None or cell.p_adjusted >= alpha or cell.diff == 0:
        return ""
    return UP if cell.diff > 0 else DOWN


def _text(cell: Cell | None, alpha: float, delta: bool) -> str:
    if cell is None or cell.score is None:
        return "-"
    value = f"{cell.score:+.1f}" if delta else f"{cell.score:.1f}"
    spread = f" ±{cell.train_sd:.1f}" if cell.train_sd is not None else ""
    return value + mark(cell, alpha) + spread


def mde_text(value: float | None) -> str:
    """An MDE in points: "∞" where no difference could be detected (none at all, or only one larger than
    the whole 0-100 scale: with few replicates the t-test's degrees of freedom are few), "-" where nothing
    was tested. The CSV keeps the number."""
    if value is None:
        return "-"
    shown = shown_mde(value)
    return INFINITE if math.isinf(shown) else f"{shown:.1f}"


def column_mde(board: Board, column: BoardColumn) -> float | None:
    """The largest MDE over the variants' cells of a column (None: no cell was tested)."""
    found = [c.mde for run in board.runs if (c := board.cells.get((run.variant, column.id))) is not None and c.mde is not None]
    return max(found) if found else None


def rows(board: Board) -> tuple[list[str], list[list[str]]]:
    """The main table: a row per variant, then the MDE row."""
    headers = ["variant", *[c.label for c in board.columns]]
    body = [[run.variant, *[_text(board.cells.get((run.variant, c.id)), board.config.alpha, c.kind == "delta") for c in board.columns]]
            for run in board.runs]
    if board.tests:
        body.append(["MDE", *[mde_text(column_mde(board, c)) for c in board.columns]])
    return headers, body


def _replicates(run: Run) -> str:
    done = len(run.replicates)
    return f"{run.variant} {done}" if done == run.planned_count else f"{run.variant} {done} of {run.planned_count}"


def footer(board: Board) -> list[str]:
    """What the marks, the ± and the MDE row mean, and how many replicates each variant has."""
    config = board.config
    data = config.measures_data  # a data sweep's statistics, one value per replicate
    lines = []
    if config.baseline:
        how = "Welch's t over the replicates' values" if data else "paired, same samples"
        lines.append(f"{UP}/{DOWN}: adjusted p < alpha against {config.baseline} ({how}); alpha {config.alpha}, "
                     f"correction {config.correction}: {CORRECTIONS[config.correction]}, over m = {board.tests} tests "
                     "(every variant x column)")
        if board.tests:
            lines.append(f"MDE: per column, the largest difference the variants' tests need to see at 80% power at that level "
                         f"({INFINITE}: no difference on the 0-{SCALE:.0f} scale could be seen)")
    lines.append("replicates per variant: " + ", ".join(_replicates(run) for run in board.runs))
    if any(c.train_sd is not None for c in board.cells.values()):
        lines.append("±: the SD of the cell's value across replicates (synthesis seeds)" if data else
                     "±: the training-seed SD of the cell's score across replicates")
    single = [run.variant for run in board.runs if run.trained and len(run.replicates) == 1 and not data]
    if single:
        lines.append(f"training noise is not measured for {', '.join(single)}: one training seed per variant "
                     "(`replicates:` in the sweep measures it)")
    lines += [f"{run.variant}: {len(run.replicates)} of {run.planned_count} replicates finished ({run.missing})"
              for run in board.runs if len(run.replicates) < run.planned_count]
    lines += [f"{name}: failed ({error})" for name, error in board.failed.items()]
    return lines


def terminal(board: Board) -> str:
    headers, body = rows(board)
    return "\n".join([tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True), *footer(board)])


def interval_text(cell: Cell) -> str:
    """"[low, high] method", or why there is none."""
    if cell.low is not None and cell.high is not None:
        return f"[{cell.low:.1f}, {cell.high:.1f}] {cell.ci_method}"
    return "n too small" if cell.ci_note.startswith("n=") else "-"


def _number(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def details(board: Board) -> tuple[list[str], list[list[str]]]:
    """The long table: every variant x column with all its numbers."""
    headers = ["variant", "column", "mean", "95% CI", "n", "R", "train SD", "diff", "p", "adjusted p", "MDE"]
    body = []
    for run in board.runs:
        for column in board.columns:
            cell = board.cells.get((run.variant, column.id), Cell(None))
            body.append([run.variant, column.label, _number(cell.score), interval_text(cell), str(cell.n), str(cell.replicates),
                         _number(cell.train_sd), _number(cell.diff, "+.1f"), _number(cell.p_value, ".3g"),
                         _number(cell.p_adjusted, ".3g"), mde_text(cell.mde)])
    return headers, body


def markdown(board: Board) -> str:
    headers, body = rows(board)
    notes = "".join(f"\n\n{line}" for line in footer(board))
    table: str = tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)
    long_headers, long_body = details(board)
    long: str = tabulate(long_body, headers=long_headers, tablefmt="github", disable_numparse=True)
    return f"## {board.config.name}\n\n" + table + notes + "\n\n### Details\n\n" + long + "\n"


def _csv_value(value: Any, p_value: bool = False) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return float(f"{value:.4g}") if p_value else round(value, 4)
    return value


def to_csv(board: Board) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run in board.runs:
        for column in board.columns:
            cell = board.cells.get((run.variant, column.id), Cell(None))
            numbers = [_csv_value(v) for v in (cell.score, cell.low, cell.high)]
            writer.writerow([run.variant, column.label, column.source, column.kind, column.length if column.length is not None else "",
                             *numbers, cell.ci_method, cell.n, cell.replicates, _csv_value(cell.train_sd), _csv_value(cell.diff),
                             _csv_value(cell.p_value, True), _csv_value(cell.p_adjusted, True), cell.test or "",
                             _csv_value(cell.mde)])
    return out.getvalue()


def _baseline_cell(run: Run, task: str, length: str, cell: dict[str, Any]) -> dict[str, Any]:
    """Replicate 0's cell and samples, with every replicate's samples and the training-seed SD."""
    key = (task, int(length))
    scored = [r.samples.get(key, {}) for r in run.replicates
              if r.results["results"].get(task, {}).get(length, {}).get("score") is not None]
    out = {"task": task, "length": int(length), "score": cell["score"], "stderr": cell.get("stderr"), "n": cell.get("n"),
           "samples": run.samples.get(key, {}), "train_sd": replicate_sd(scored) if len(scored) > 1 else None}
    if len(scored) > 1:
        out["replicates"] = scored
    return out


def baseline_json(board: Board) -> str:
    """Per variant, every task cell with its per-sample scores (per replicate): what `harness check --baseline` reads."""
    rows = {}
    for run in board.runs:
        cells = [_baseline_cell(run, task, length, cell)
                 for task, lengths in sorted(run.results["results"].items())
                 for length, cell in sorted(lengths.items(), key=lambda item: int(item[0]))
                 if cell.get("score") is not None]
        rows[run.variant] = {"cells": cells}
    return BoardBaseline(board.config.name, rows).text()  # harness.core.records: versioned
