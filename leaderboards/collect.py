"""A board's numbers: for each variant of the sweep and each column, the score, a bootstrap
confidence interval from the per-sample scores, and a paired test against the baseline variant on
the same samples (McNemar for right/wrong scores, a permutation test otherwise)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.lengths import format_length
from harness.core.pathnames import safe_component
from harness.core.records import Result, SweepSummary, SynthManifest, TrainManifest
from harness.core.redaction import redact
from harness.core.registry import did_you_mean
from harness.core.significance import confidence_interval, paired_test
from harness.core.types import needle_depths_of
from harness.core.userfiles import check_type
from harness.leaderboards.config import BoardConfig, Column
from harness.results import sample_rows
from harness.tasks import GROUPS
from harness.tasks.base import mean
from harness.tasks.niah.heatmap import NeedleGrid, needle_grid

Scores = dict[str, float]  # sample id -> score


@dataclass(frozen=True)
class Cell:
    score: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    diff: float | None = None  # against the baseline (same samples)
    p_value: float | None = None
    test: str | None = None


@dataclass(frozen=True)
class BoardColumn:
    id: str
    label: str
    source: str  # the task or group
    kind: str  # length | avg | delta
    length: int | None = None


@dataclass
class Run:
    """One variant's evaluation: its results.json and per-sample scores by (task, length)."""

    variant: str
    results: dict[str, Any]
    samples: dict[tuple[str, int], Scores]
    manifest: dict[str, Any] = field(default_factory=dict)
    heatmaps: dict[str, NeedleGrid] = field(default_factory=dict)  # needle tasks: mean score by depth x length


@dataclass
class Board:
    config: BoardConfig
    runs: list[Run]
    columns: list[BoardColumn]
    cells: dict[tuple[str, str], Cell]
    failed: dict[str, str]


def load_run(variant: str, results_path: Path, manifest: dict[str, Any] | None = None) -> Run:
    """A run's results and its samples (`samples/<task>.jsonl` beside results.json)."""
    if not results_path.exists():
        raise HarnessError(f"{variant}: results file {results_path} does not exist")
    results = Result.read(results_path).to_dict()  # harness.core.records: its shape and version checked
    samples: dict[tuple[str, int], Scores] = defaultdict(dict)
    needles: dict[str, list[tuple[Any, int, float]]] = defaultdict(list)
    for row in sample_rows(results_path):
        samples[(row["task"], int(row["length"]))][row["id"]] = float(row["score"])
        depths = needle_depths_of(row.get("meta") or {})  # the samples' typed needle depths, as persisted
        if depths is not None:
            needles[row["task"]].append((depths, int(row["length"]), float(row["score"])))
    heatmaps = {task: needle_grid(points) for task, points in needles.items()}  # the NIAH report's builder
    return Run(variant, results, dict(samples), manifest or {}, heatmaps)


def _members(source: str, kind: str, run: Run) -> list[str]:
    return [t for t in GROUPS[source].tasks if t in run.results["results"]] if kind == "group" else [source]


def _pooled(run: Run, tasks: list[str], lengths: list[int]) -> Scores:
    return {k: v for t in tasks for n in lengths for k, v in run.samples.get((t, n), {}).items()}


def _score(run: Run, column: Column, length: int) -> float | None:
    score: float | None
    if column.kind == "group":
        score = run.results.get("groups", {}).get(column.name, {}).get("lengths", {}).get(str(length), {}).get("score")
    else:
        score = run.results["results"].get(column.name, {}).get(str(length), {}).get("score")
    return score


def _lengths(runs: list[Run], column: Column) -> list[int]:
    if column.lengths:
        return list(column.lengths)
    found: set[int] = set()
    for run in runs:
        for task in _members(column.name, "group" if column.kind == "group" else "task", run):
            found |= {int(n) for n in run.results["results"].get(task, {})}
    return sorted(found)


def _cell(score: float | None, scores: Scores, baseline: Scores | None, is_baseline: bool) -> Cell:
    if score is None:
        return Cell(None)
    low, high = confidence_interval(list(scores.values())) if scores else (None, None)
    if baseline is None or is_baseline or not scores:
        return Cell(score, low, high, len(scores))
    comparison = paired_test(baseline, scores)
    return Cell(score, low, high, len(scores), comparison.difference, comparison.p_value, comparison.test)


def build(config: BoardConfig, runs: list[Run], failed: dict[str, str]) -> Board:
    """Every column's cells for every run."""
    if config.baseline and config.baseline not in {r.variant for r in runs}:
        hint = did_you_mean(config.baseline, [r.variant for r in runs])
        raise HarnessError(f"{config.source}: baseline {config.baseline!r} is not a finished variant "
                           f"({', '.join(r.variant for r in runs) or 'none'}){'; ' + hint if hint else ''}")
    base = next((r for r in runs if r.variant == config.baseline), None)
    columns: list[BoardColumn] = []
    cells: dict[tuple[str, str], Cell] = {}
    for column in config.columns:
        source_kind = "group" if column.kind == "group" or (column.kind == "delta" and column.name in GROUPS) else "task"
        as_column = Column(column.name, source_kind, column.lengths, column.avg)
        lengths = _lengths(runs, as_column)
        if not lengths:
            raise HarnessError(f"{config.source}: column {column.name!r}: no run has results for it")
        if column.kind != "delta":
            for length in lengths:
                board_column = BoardColumn(f"{column.name}@{length}", f"{column.name} {format_length(length)}", column.name, "length", length)
                columns.append(board_column)
                for run in runs:
                    tasks = _members(column.name, source_kind, run)
                    base_scores = _pooled(base, tasks, [length]) if base else None
                    cells[(run.variant, board_column.id)] = _cell(_score(run, as_column, length), _pooled(run, tasks, [length]),
                                                                  base_scores, run is base)
        if column.avg or column.kind == "delta":
            kind = "delta" if column.kind == "delta" else "avg"
            board_column = BoardColumn(f"{column.name}:{kind}", f"{column.name} {'Δ' if kind == 'delta' else 'avg'}", column.name, kind)
            columns.append(board_column)
            base_avg = None
            if base:
                base_present = [s for s in (_score(base, as_column, n) for n in lengths) if s is not None]
                base_avg = mean(base_present) if base_present else None
            for run in runs:
                present = [s for s in (_score(run, as_column, n) for n in lengths) if s is not None]
                avg = mean(present) if present else None
                tasks = _members(column.name, source_kind, run)
                base_scores = _pooled(base, tasks, lengths) if base else None
                cell = _cell(avg, _pooled(run, tasks, lengths), base_scores, run is base)
                if kind == "delta":
                    value = None if avg is None or base_avg is None else avg - base_avg
                    cell = Cell(value, None, None, cell.n, value, cell.p_value, cell.test)
                cells[(run.variant, board_column.id)] = cell
    return Board(config, runs, columns, cells, failed)


def collect(config: BoardConfig) -> Board:
    """The board of a sweep directory (its `sweep.json`)."""
    summary_path = config.sweep / "sweep.json"
    if not summary_path.exists():
        parent = config.sweep.parent
        others = [p.name for p in parent.iterdir() if (p / "sweep.json").exists()] if parent.is_dir() else []
        hint = did_you_mean(config.sweep.name, others, template=f"{parent}/{{}}")
        raise HarnessError(f"{config.source}: {summary_path} does not exist (run `harness sweep` first"
                           f"{'; or ' + hint if hint else ''})")
    summary = SweepSummary.read(summary_path)  # harness.core.records: its shape and version checked
    runs: list[Run] = []
    failed: dict[str, str] = {}
    for name, variant in summary.variants.items():
        check_type(variant, dict, f"{summary_path}: variants.{name}")
        if "status" not in variant:
            raise HarnessError(f"{summary_path}: variants.{name}: missing field 'status' (a damaged sweep.json: rerun the sweep)")
        if variant["status"] != "done" or not variant.get("results"):
            failed[name] = variant.get("error") or "not finished"
            continue
        runs.append(load_run(name, Path(variant["results"]), _manifest(config.sweep, variant)))
    return build(config, runs, failed)


def _manifest(root: Path, variant: dict[str, Any]) -> dict[str, Any]:
    """What made the row: its data (the synth manifest or the data file) and training (the trainer's manifest)."""
    out: dict[str, Any] = {"kind": variant.get("kind")}
    for stage in variant.get("stages") or []:
        if not isinstance(stage, dict) or not isinstance(stage.get("id"), str):
            raise HarnessError(f"{root / 'sweep.json'}: a stage of a variant is not an object with an 'id' (a damaged sweep.json)")
        directory = root / "stages" / safe_component(stage["id"], "stage id", str(root / "sweep.json"))
        kind = stage.get("kind")
        if kind == "synth" and (directory / "data" / "manifest.json").exists():
            out["data"] = SynthManifest.read(directory / "data" / "manifest.json").to_dict()
        elif kind == "data":
            out["data"] = stage.get("output")
        elif kind == "train" and (directory / "model" / "manifest.json").exists():
            out["training"] = TrainManifest.read(directory / "model" / "manifest.json").to_dict()
        elif kind == "eval" and isinstance(stage.get("output"), dict):
            out["evaluation"] = {k: v for k, v in stage["output"].items() if k != "results"}
    shown: dict[str, Any] = redact(out)  # shown on the page: a manifest written before redaction existed may hold a key
    return shown
