"""`harness check`: a run against a baseline, cell by cell (task x length); a regression is a drop
larger than `max_drop` points that is also significant at `alpha` — a paired test on the samples
both scored (sample ids are deterministic), or, where the baseline carries no samples, a z-test on
the two means' standard errors.

A baseline is a `results.json` (its `samples/` beside it are used when present) or a board's
`baseline.json` (written by `harness leaderboard build`: per variant, every cell's score and
per-sample scores, portable enough to commit), with `--row` naming the variant.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.results import sample_rows
from harness.significance import paired_test

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


def _samples(results_path: Path) -> dict[tuple[str, int], dict[str, float]]:
    found: dict[tuple[str, int], dict[str, float]] = {}
    for row in sample_rows(results_path):
        found.setdefault((row["task"], int(row["length"])), {})[row["id"]] = float(row["score"])
    return found


def cells_of_results(path: Path) -> Cells:
    """A results.json's task cells, with the per-sample scores of `samples/` beside it."""
    data = json.loads(path.read_text())
    if "results" not in data:
        raise HarnessError(f"{path}: not a results.json (no 'results')")
    samples = _samples(path)
    return {(task, int(length)): {**cell, "samples": samples.get((task, int(length)), {})}
            for task, lengths in data["results"].items() for length, cell in lengths.items() if cell.get("score") is not None}


def resolve_results(target: str) -> Path:
    """A run directory, or its results.json."""
    path = Path(target).expanduser()
    if path.is_dir():
        path = path / "results.json"
    if not path.exists():
        raise HarnessError(f"{target}: no results.json there (give a run directory or its results.json)")
    return path


def load_baseline(path: Path, row: str | None) -> Cells:
    """Cells of a results.json, or of one row (`row`, or the only one) of a board's baseline.json."""
    if not path.exists():
        raise HarnessError(f"baseline {path} does not exist")
    data = json.loads(path.read_text())
    if "results" in data:
        return cells_of_results(path)
    if "rows" not in data:
        raise HarnessError(f"{path}: neither a results.json nor a board baseline (no 'rows')")
    rows = data["rows"]
    if row is None:
        if len(rows) != 1:
            raise HarnessError(f"{path}: holds rows {', '.join(rows)}; pick one with --row")
        row = next(iter(rows))
    if row not in rows:
        raise HarnessError(f"{path}: no row {row!r} (rows: {', '.join(rows)})")
    return {(c["task"], int(c["length"])): c for c in rows[row]["cells"]}


def _z_test(base: dict[str, Any], run: dict[str, Any]) -> float:
    spread = math.hypot(float(base.get("stderr") or 0.0), float(run.get("stderr") or 0.0))
    diff = float(run["score"]) - float(base["score"])
    if spread == 0:
        return 1.0 if diff == 0 else 0.0
    return math.erfc(abs(diff) / spread / math.sqrt(2))


def compare(baseline: Cells, run: Cells, max_drop: float, alpha: float) -> tuple[list[Verdict], list[tuple[str, int]]]:
    """Verdicts for the cells both have, and the baseline's cells the run lacks."""
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
