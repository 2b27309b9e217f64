"""A board's numbers. A variant of the sweep is its finished replicates (training seeds, all scored on
the same samples). For each column a cell holds:

- the score: the mean over replicates of each replicate's score (its results.json);
- the 95% interval of that mean from the replicates' per-sample scores (`stats.intervals.replicate_interval`:
  Wilson for right/wrong scores with one replicate, a bootstrap for others from n = 10, a two-level
  bootstrap over replicates and samples with several), and the training-seed SD (`stats.replicated.replicate_sd`);
- against the baseline variant on the same samples, the difference and the raw p-value of
  `stats.replicated.compare_replicated` (McNemar or a paired permutation test with one replicate each,
  the crossed t-test with more).

The board's tests (every other variant x every column) are one family: their p-values are adjusted
together (`correction`: holm, bh or none; `stats.multiple.adjust`), ▲/▼ come from the adjusted ones, and
each cell's minimum detectable effect (`stats.power.mde`) is computed at the level the family's first
step asks of one test (`stats.multiple.family_alpha`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from harness.core.errors import HarnessError
from harness.core.lengths import format_length
from harness.core.pathnames import safe_component
from harness.core.records import Result, SweepSummary, SynthManifest, TrainManifest
from harness.core.redaction import redact
from harness.core.registry import did_you_mean
from harness.core.stats.intervals import replicate_interval
from harness.core.stats.multiple import adjust, family_alpha
from harness.core.stats.power import mde
from harness.core.stats.replicated import Replicated, compare_replicated, replicate_sd
from harness.core.stats.unpaired import mean_interval_t, welch
from harness.core.types import NeedleDepths, needle_depths_of
from harness.core.userfiles import check_type, read_json_object
from harness.leaderboards.config import BoardConfig, Column
from harness.results import sample_rows
from harness.tasks import GROUPS
from harness.tasks.base import mean
from harness.tasks.niah.heatmap import NeedleGrid, needle_grid

Scores = dict[str, float]  # sample id -> score
NeedlePoint = tuple[NeedleDepths, int, float]  # a needle sample's depths, length and score


@dataclass(frozen=True)
class Replicate:
    """One training seed's evaluation: its results.json and per-sample scores by (task, length)."""

    results: dict[str, Any]
    samples: dict[tuple[str, int], Scores]


@dataclass(frozen=True)
class Cell:
    """One variant x column: the mean over replicates, its interval, n and R, the training-seed SD, and
    against the baseline the difference, raw and adjusted p, the test and the MDE (inf: nothing detectable)."""

    score: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    diff: float | None = None  # against the baseline (same samples)
    p_value: float | None = None  # raw
    test: str | None = None
    ci_method: str = "none"  # wilson | bootstrap | two-level bootstrap | none
    ci_note: str = ""  # why there is no interval, or what it cannot see
    replicates: int = 1
    train_sd: float | None = None  # None: one replicate, training noise not measured
    p_adjusted: float | None = None  # over the board's family of tests
    mde: float | None = None


@dataclass(frozen=True)
class BoardColumn:
    id: str
    label: str
    source: str  # the task or group
    kind: str  # length | avg | delta
    length: int | None = None


@dataclass
class Run:
    """One variant's evaluation: replicate 0's results.json and per-sample scores by (task, length)
    (`results`, `samples`: the first finished replicate), the other finished replicates (`more`), how many
    the sweep planned, and whether the variant was fine-tuned (the untouched control has no training seed)."""

    variant: str
    results: dict[str, Any]
    samples: dict[tuple[str, int], Scores]
    manifest: dict[str, Any] = field(default_factory=dict)
    heatmaps: dict[str, NeedleGrid] = field(default_factory=dict)  # needle tasks: mean score by depth x length
    more: list[Replicate] = field(default_factory=list)
    planned: int | None = None  # None: as many as finished
    trained: bool = True
    missing: str = ""  # what became of the replicates that did not finish

    @property
    def replicates(self) -> list[Replicate]:
        return [Replicate(self.results, self.samples), *self.more]

    @property
    def planned_count(self) -> int:
        return self.planned or len(self.replicates)


@dataclass
class Board:
    config: BoardConfig
    runs: list[Run]
    columns: list[BoardColumn]
    cells: dict[tuple[str, str], Cell]
    failed: dict[str, str]
    tests: int = 0  # m: the tests in the board's family (what the correction and the MDE count)


def load_data_run(variant: str, stats_paths: Sequence[Path], manifest: dict[str, Any] | None = None, *,
                  planned: int | None = None, missing: str = "") -> Run:
    """A data sweep's variant: each finished replicate's synthesis statistics (`stats.json`), replicate 0 first."""
    if not stats_paths:
        raise HarnessError(f"{variant}: no finished replicate to load")
    loaded = []
    for path in stats_paths:
        if not path.exists():
            raise HarnessError(f"{variant}: statistics file {path} does not exist")
        loaded.append(Replicate({"results": {}, "stats": read_json_object(path, "synthesis statistics")}, {}))
    return Run(variant, loaded[0].results, {}, manifest or {}, {}, loaded[1:], planned, True, missing)


def _stat(stats: dict[str, Any], path: str) -> float | None:
    """The number at a dotted `path` of a stats.json (None: absent or not a number)."""
    value: Any = stats
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _stat_drafts(column: Column, runs: list[Run], base: Run | None) -> tuple[list[BoardColumn], dict[tuple[str, str], _Draft]]:
    """A statistic's column: per variant the replicates' values (times the scale), their mean, t interval and SD,
    and Welch's t-test against the baseline's values."""
    board_column = BoardColumn(f"stat:{column.name}", column.label or column.name, column.name, "stat")

    def values(run: Run) -> list[float]:
        found = [_stat(r.results.get("stats", {}), column.name) for r in run.replicates]
        return [v * column.scale for v in found if v is not None]

    base_values = values(base) if base is not None else []
    drafts: dict[tuple[str, str], _Draft] = {}
    for run in runs:
        mine = values(run)
        if not mine:
            drafts[(run.variant, board_column.id)] = _Draft(Cell(None), None)
            continue
        interval = mean_interval_t(mine)
        cell = Cell(mean(mine), interval.low, interval.high, len(mine), ci_method=interval.method, ci_note=interval.note,
                    replicates=len(mine), train_sd=statistics.stdev(mine) if len(mine) > 1 else None)
        comparison = welch(base_values, mine) if run is not base and base is not None else None
        if comparison is not None:
            cell = replace(cell, diff=comparison.difference, p_value=comparison.p_value, test=comparison.test)
        drafts[(run.variant, board_column.id)] = _Draft(cell, comparison)
    return [board_column], drafts


def _load_replicate(variant: str, results_path: Path) -> tuple[Replicate, dict[str, list[NeedlePoint]]]:
    """One results.json and its samples; the needle samples' (depths, length, score) by task."""
    if not results_path.exists():
        raise HarnessError(f"{variant}: results file {results_path} does not exist")
    results = Result.read(results_path).to_dict()  # harness.core.records: its shape and version checked
    samples: dict[tuple[str, int], Scores] = defaultdict(dict)
    needles: dict[str, list[NeedlePoint]] = defaultdict(list)
    for row in sample_rows(results_path):
        samples[(row["task"], int(row["length"]))][row["id"]] = float(row["score"])
        depths = needle_depths_of(row.get("meta") or {})  # the samples' typed needle depths, as persisted
        if depths is not None:
            needles[row["task"]].append((depths, int(row["length"]), float(row["score"])))
    return Replicate(results, dict(samples)), needles


def load_run(variant: str, results_path: Path | Sequence[Path], manifest: dict[str, Any] | None = None, *,
             planned: int | None = None, trained: bool = True, missing: str = "") -> Run:
    """A run's results and samples (`samples/<task>.jsonl` beside each results.json): one results.json, or
    one per finished replicate (replicate 0 first). A needle heatmap pools every replicate's samples."""
    paths = [results_path] if isinstance(results_path, Path) else list(results_path)
    if not paths:
        raise HarnessError(f"{variant}: no finished replicate to load")
    loaded = [_load_replicate(variant, path) for path in paths]
    needles: dict[str, list[NeedlePoint]] = defaultdict(list)
    for _, points in loaded:
        for task, found in points.items():
            needles[task] += found
    heatmaps = {task: needle_grid(points) for task, points in needles.items()}  # the NIAH report's builder
    first = loaded[0][0]
    return Run(variant, first.results, first.samples, manifest or {}, heatmaps, [r for r, _ in loaded[1:]],
               planned, trained, missing)


# -- cells ---------------------------------------------------------------------------------------

def _members(source: str, kind: str, results: dict[str, Any]) -> list[str]:
    return [t for t in GROUPS[source].tasks if t in results["results"]] if kind == "group" else [source]


def _pooled(replicate: Replicate, source: str, kind: str, lengths: list[int]) -> Scores:
    tasks = _members(source, kind, replicate.results)
    return {k: v for t in tasks for n in lengths for k, v in replicate.samples.get((t, n), {}).items()}


def _score(results: dict[str, Any], column: Column, length: int) -> float | None:
    score: float | None
    if column.kind == "group":
        score = results.get("groups", {}).get(column.name, {}).get("lengths", {}).get(str(length), {}).get("score")
    else:
        score = results["results"].get(column.name, {}).get(str(length), {}).get("score")
    return score


def _mean_present(scores: Sequence[float | None]) -> float | None:
    """The mean of the scores that exist (None: none does)."""
    present = [s for s in scores if s is not None]
    return mean(present) if present else None


def _avg(results: dict[str, Any], column: Column, lengths: list[int]) -> float | None:
    return _mean_present([_score(results, column, n) for n in lengths])


def _lengths(runs: list[Run], column: Column) -> list[int]:
    if column.lengths:
        return list(column.lengths)
    found: set[int] = set()
    for run in runs:
        for replicate in run.replicates:
            for task in _members(column.name, "group" if column.kind == "group" else "task", replicate.results):
                found |= {int(n) for n in replicate.results["results"].get(task, {})}
    return sorted(found)


@dataclass(frozen=True)
class _Draft:
    """A cell before the family's correction: the cell so far and its comparison with the baseline."""

    cell: Cell
    comparison: Replicated | None


def _draft(scores: list[float | None], reps: list[Scores], base: list[Scores] | None) -> _Draft:
    """A cell from each replicate's score and per-sample scores (`base`: the baseline's, None for the
    baseline itself or a board without one)."""
    score = _mean_present(scores)
    if score is None:
        return _Draft(Cell(None), None)
    reps = [r for r in reps if r]
    interval = replicate_interval(reps)
    n = len(set.intersection(*(set(r) for r in reps))) if reps else 0
    cell = Cell(score, interval.low, interval.high, n, ci_method=interval.method, ci_note=interval.note,
                replicates=len(scores), train_sd=replicate_sd(reps) if len(reps) > 1 else None)
    base = [r for r in base or [] if r]
    if not base or not reps:
        return _Draft(cell, None)
    comparison = compare_replicated(base, reps)
    if comparison.n == 0:  # no sample in common: nothing to test
        return _Draft(cell, None)
    return _Draft(replace(cell, diff=comparison.difference, p_value=comparison.p_value, test=comparison.test), comparison)


def _family(drafts: dict[tuple[str, str], _Draft], config: BoardConfig) -> tuple[dict[tuple[str, str], Cell], int]:
    """Every cell with its adjusted p-value and MDE, the board's tests corrected as one family; and m."""
    keys = [key for key, draft in drafts.items() if draft.comparison is not None]
    adjusted = adjust([drafts[key].cell.p_value for key in keys], config.correction)
    level = family_alpha(config.alpha, len(keys), config.correction)
    cells = {key: draft.cell for key, draft in drafts.items()}
    for key, p in zip(keys, adjusted):
        comparison = drafts[key].comparison
        assert comparison is not None
        cells[key] = replace(cells[key], p_adjusted=p, mde=mde(comparison, level))
    return cells, len(keys)


def build(config: BoardConfig, runs: list[Run], failed: dict[str, str]) -> Board:
    """Every column's cells for every run, the board's tests corrected together."""
    if config.baseline and config.baseline not in {r.variant for r in runs}:
        hint = did_you_mean(config.baseline, [r.variant for r in runs])
        raise HarnessError(f"{config.source}: baseline {config.baseline!r} is not a finished variant "
                           f"({', '.join(r.variant for r in runs) or 'none'}){'; ' + hint if hint else ''}")
    base = next((r for r in runs if r.variant == config.baseline), None)
    columns: list[BoardColumn] = []
    drafts: dict[tuple[str, str], _Draft] = {}
    for column in config.columns:
        found, drafted = _stat_drafts(column, runs, base) if column.kind == "stat" else _column_drafts(config, column, runs, base)
        columns += found
        drafts.update(drafted)
    cells, tests = _family(drafts, config)
    return Board(config, runs, columns, cells, failed, tests)


def _samples(run: Run | None, column: Column, lengths: list[int]) -> list[Scores]:
    """Per replicate of `run`, the per-sample scores of `column` (its tasks pooled) at `lengths`."""
    return [] if run is None else [_pooled(r, column.name, column.kind, lengths) for r in run.replicates]


def _column_drafts(config: BoardConfig, column: Column, runs: list[Run],
                   base: Run | None) -> tuple[list[BoardColumn], dict[tuple[str, str], _Draft]]:
    """One configured column's board columns (one per length, then avg or delta) and their cells."""
    source_kind = "group" if column.kind == "group" or (column.kind == "delta" and column.name in GROUPS) else "task"
    as_column = Column(column.name, source_kind, column.lengths, column.avg)
    lengths = _lengths(runs, as_column)
    if not lengths:
        raise HarnessError(f"{config.source}: column {column.name!r}: no run has results for it")
    columns: list[BoardColumn] = []
    drafts: dict[tuple[str, str], _Draft] = {}
    if column.kind != "delta":
        for length in lengths:
            board_column = BoardColumn(f"{column.name}@{length}", f"{column.name} {format_length(length)}", column.name,
                                       "length", length)
            columns.append(board_column)
            base_samples = _samples(base, as_column, [length])
            for run in runs:
                scores = [_score(r.results, as_column, length) for r in run.replicates]
                drafts[(run.variant, board_column.id)] = _draft(scores, _samples(run, as_column, [length]),
                                                                None if run is base else base_samples)
    if column.avg or column.kind == "delta":
        kind = "delta" if column.kind == "delta" else "avg"
        board_column = BoardColumn(f"{column.name}:{kind}", f"{column.name} {'Δ' if kind == 'delta' else 'avg'}", column.name, kind)
        columns.append(board_column)
        base_samples = _samples(base, as_column, lengths)
        base_score = None if base is None else _mean_present([_avg(r.results, as_column, lengths) for r in base.replicates])
        for run in runs:
            scores = [_avg(r.results, as_column, lengths) for r in run.replicates]
            draft = _draft(scores, _samples(run, as_column, lengths), None if run is base else base_samples)
            drafts[(run.variant, board_column.id)] = _as_delta(draft, base_score) if kind == "delta" else draft
    return columns, drafts


def _as_delta(draft: _Draft, base_score: float | None) -> _Draft:
    """A variant's average minus the baseline's: the difference is the score, and has no interval of its own."""
    value = None if draft.cell.score is None or base_score is None else draft.cell.score - base_score
    cell = replace(draft.cell, score=value, diff=value, low=None, high=None, ci_method="none",
                   ci_note="a difference from the baseline: see its p-value and MDE")
    return _Draft(cell, draft.comparison if value is not None else None)


# -- the sweep -----------------------------------------------------------------------------------

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
        paths, planned, missing = _finished(summary_path, name, variant)
        if not paths:
            failed[name] = variant.get("error") or missing or "not finished"
            continue
        _check_kind(config, summary_path, name, paths)
        if config.measures_data:
            runs.append(load_data_run(name, paths, _manifest(config.sweep, variant), planned=planned, missing=missing))
        else:
            runs.append(load_run(name, paths, _manifest(config.sweep, variant), planned=planned,
                                 trained=variant.get("kind") != "none", missing=missing))
    return build(config, runs, failed)


def _check_kind(config: BoardConfig, summary_path: Path, name: str, paths: list[Path]) -> None:
    """Stat columns read a data sweep's stats.json, score columns an evaluated sweep's results.json."""
    data_sweep = paths[0].name == "stats.json"
    if config.measures_data and not data_sweep:
        raise HarnessError(f"{config.source}: stat columns read a sweep that only synthesizes (no eval:), but "
                           f"{summary_path} variant {name!r} was evaluated ({paths[0].name}): use task, group or delta columns")
    if data_sweep and not config.measures_data:
        raise HarnessError(f"{config.source}: {summary_path} only synthesizes (variant {name!r} has statistics, no "
                           "results): its board takes stat columns, e.g. {stat: records}")


def _finished(summary_path: Path, name: str, variant: dict[str, Any]) -> tuple[list[Path], int, str]:
    """The results files of a variant's finished replicates (replicate 0 first), how many it planned, and
    what became of the others. A sweep.json from before replicates holds one: its `results`."""
    replicates = variant.get("replicates")
    if replicates is None:
        if variant["status"] == "done" and variant.get("results"):
            return [Path(variant["results"])], 1, ""
        return [], 1, variant.get("error") or "not finished"
    where = f"{summary_path}: variants.{name}.replicates"
    check_type(replicates, list, where)
    paths, missing = [], []
    for i, replicate in enumerate(replicates):
        check_type(replicate, dict, f"{where}[{i}]")
        number = replicate.get("replicate", i)
        if replicate.get("status") == "done" and replicate.get("results"):
            check_type(replicate["results"], str, f"{where}[{i}].results")
            paths.append(Path(replicate["results"]))
        else:
            missing.append(f"replicate {number + 1 if isinstance(number, int) else number}: {replicate.get('error') or 'not finished'}")
    return paths, len(replicates), "; ".join(missing)


def _manifest(root: Path, variant: dict[str, Any]) -> dict[str, Any]:
    """What made the row: its data (the synth manifest or the data file), training (the trainer's manifest)
    and, with several, its replicates' seeds and status."""
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
    replicates = variant.get("replicates")
    if isinstance(replicates, list) and len(replicates) > 1:
        out["replicates"] = [{k: r.get(k) for k in ("replicate", "seed", "synth_seed", "status", "error")}
                             for r in replicates if isinstance(r, dict)]
    shown: dict[str, Any] = redact(out)  # shown on the page: a manifest written before redaction existed may hold a key
    return shown
