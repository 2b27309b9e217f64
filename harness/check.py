"""`harness check`: a run against a baseline, cell by cell (task x length); a regression is a drop
larger than `max_drop` points that is also significant at `alpha` — a paired test on the samples
both scored (sample ids are deterministic), or, where the baseline carries no samples, a z-test on
the two means' standard errors. A baseline cell the run lacks fails the check as well: a gate that
compared nothing must not pass.

A baseline is a `results.json` (its `samples/` beside it are used when present) or a board's
`baseline.json` (`harness.core.records.BoardBaseline`, written by `harness leaderboard build`: per variant, every cell's score and
per-sample scores, portable enough to commit), with `--row` naming the variant.

Every file is checked as it is read: one that does not parse, or holds the wrong shape, is a
`HarnessError` naming the file and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.records import BoardBaseline, Result
from harness.core.registry import unknown_name
from harness.core.significance import paired_test
from harness.core.userfiles import check_type, read_json
from harness.results import sample_rows

Cells = dict[tuple[str, int], dict[str, Any]]  # (task, length) -> {score, stderr, n, samples}


@dataclass(frozen=True)
class Verdict:
    task: str
    length: int
    baseline: float
    run: float
    diff: float
    p_value: float
    test: str
    regression: bool


# -- reading ------------------------------------------------------------------------------------

def _length(value: Any, where: str) -> int:
    """A cell's context length: an integer, or a string of one (results.json's keys); 0 is the short-context
    column (MMLU, GSM8K)."""
    try:
        length = int(value) if not isinstance(value, (bool, float)) else None
    except (TypeError, ValueError):
        length = None
    if length is None or length < 0:
        raise HarnessError(f"{where}: length {value!r} is not a context length (an integer >= 0; 0: short context)")
    return length


def _cell(cell: Any, where: str) -> dict[str, Any]:
    """A cell checked: `score` a number, `stderr` a number or null, `samples` an object of numbers."""
    check_type(cell, dict, where)
    check_type(cell.get("score"), (int, float), f"{where}: 'score'")
    if cell.get("stderr") is not None:
        check_type(cell["stderr"], (int, float), f"{where}: 'stderr'")
    samples = cell.get("samples") or {}
    check_type(samples, dict, f"{where}: 'samples'")
    for sample_id, score in samples.items():
        check_type(score, (int, float), f"{where}: samples[{sample_id!r}]")
    return {**cell, "samples": samples}


def _samples(results_path: Path) -> dict[tuple[str, int], dict[str, float]]:
    """Per cell, the scores of the run's samples (`sample_rows` checks each line; a bad one is skipped and reported)."""
    found: dict[tuple[str, int], dict[str, float]] = {}
    for row in sample_rows(results_path):
        found.setdefault((row["task"], int(row["length"])), {})[row["id"]] = float(row["score"])
    return found


def cells_of_results(path: Path) -> Cells:
    """A results.json's scored task cells, with the per-sample scores of `samples/` beside it."""
    result = Result.read(path)  # harness.core.records: its shape and version checked
    cells: Cells = {}
    for task, lengths in result.results.items():
        check_type(lengths, dict, f"{path}: results[{task!r}]")
        for length, cell in lengths.items():
            where = f"{path}: results[{task!r}][{length!r}]"
            check_type(cell, dict, where)
            if cell.get("score") is not None:  # a cell whose every sample failed has no score
                cells[(task, _length(length, where))] = _cell(cell, where)
    samples = _samples(path)
    return {key: {**cell, "samples": samples.get(key, {})} for key, cell in cells.items()}


def resolve_results(target: str, what: str = "--run") -> Path:
    """A run directory, or its results.json."""
    path = Path(target).expanduser()
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise HarnessError(f"{what} {target}: not a run directory (no results.json there) nor a results.json")
    return path


def load_baseline(path: Path, row: str | None) -> Cells:
    """Cells of a results.json (or a run directory), or of one row (`row`, or the only one) of a
    board's baseline.json. A baseline without a scored cell is refused: it would check nothing."""
    if path.is_dir():
        path = resolve_results(str(path), "--baseline")
    data = read_json(path, "baseline")
    if isinstance(data, dict) and "results" in data:
        if row is not None:
            raise HarnessError(f"--row {row!r}: baseline {path} is a results.json, which has no rows "
                               "(--row picks a variant of a board's baseline.json)")
        cells, what = cells_of_results(path), str(path)
    else:
        cells, what = _board_row(data, path, row)
    if not cells:
        raise HarnessError(f"baseline {what} holds no scored task x length cell: nothing to check against")
    return cells


def _board_row(data: Any, path: Path, row: str | None) -> tuple[Cells, str]:
    if not isinstance(data, dict) or not isinstance(data.get("rows"), dict):
        raise HarnessError(f"{path}: neither a results.json nor a board baseline.json (no 'results' or 'rows' object)")
    rows = BoardBaseline.parse(data, str(path)).rows  # harness.core.records: its version checked
    if row is None:
        if len(rows) != 1:
            raise HarnessError(f"{path}: holds rows {', '.join(rows) or '(none)'}; pick one with --row")
        row = next(iter(rows))
    if row not in rows:
        error = unknown_name("row", row, rows)
        raise HarnessError(f"--row: {path}: {error}")
    where = f"{path}: rows[{row!r}]"
    check_type(rows[row], dict, where)
    check_type(rows[row].get("cells"), list, f"{where}: 'cells'")
    cells: Cells = {}
    for i, raw in enumerate(rows[row]["cells"]):
        at = f"{where}: cells[{i}]"
        cell = _cell(raw, at)
        check_type(cell.get("task"), str, f"{at}: 'task'")
        cells[(cell["task"], _length(cell.get("length"), at))] = cell
    return cells, f"{path} row {row!r}"


# -- comparing ----------------------------------------------------------------------------------

def _z_test(base: dict[str, Any], run: dict[str, Any]) -> float:
    spread = math.hypot(float(base.get("stderr") or 0.0), float(run.get("stderr") or 0.0))
    diff = float(run["score"]) - float(base["score"])
    if spread == 0:
        return 1.0 if diff == 0 else 0.0
    return math.erfc(abs(diff) / spread / math.sqrt(2))


def compare(baseline: Cells, run: Cells, max_drop: float, alpha: float) -> tuple[list[Verdict], list[tuple[str, int]]]:
    """Verdicts for the cells both have, and the baseline's cells the run lacks (which fail the check)."""
    verdicts = []
    for key in sorted(set(baseline) & set(run)):
        base, new = baseline[key], run[key]
        if base.get("samples") and new.get("samples") and set(base["samples"]) & set(new["samples"]):
            comparison = paired_test(base["samples"], new["samples"])
            p, test = comparison.p_value, comparison.test
        else:
            p, test = _z_test(base, new), "z-test (no shared samples)"
        diff = float(new["score"]) - float(base["score"])
        verdicts.append(Verdict(key[0], key[1], float(base["score"]), float(new["score"]), diff, p, test,
                                -diff > max_drop and p < alpha))
    return verdicts, sorted(set(baseline) - set(run))
