"""`harness report correlation`: how the categories of an evaluation rank the same runs, HELMET's central figure
(Yen et al. 2024, arXiv 2410.02694: its categories correlate weakly with each other, and synthetic recall such as
RULER's needles does not predict the real tasks).

A category is a task group (`ruler`, `helmet_rag`, ...) or a task with a score in every run. Its score in a run is
its mean over the lengths every run scored it at (or its score at `--length`). Across the runs (models, data
variants, training seeds), each pair of categories gets scipy's Spearman rank correlation (ties take their mean
rank) and a percentile bootstrap interval that resamples the runs (`RESAMPLES` times from a fixed `SEED`, so the
same runs give the same interval). A category scored the same in every run ranks nothing: its correlations are
undefined (None), never 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.core.errors import HarnessError
from harness.core.lengths import format_length, parse_length
from harness.core.records import CorrelationRecord, Result, SweepSummary
from harness.core.registry import did_you_mean
from harness.core.userfiles import check_type

RESAMPLES = 2000
LEVEL = 0.95
SEED = 0
MIN_RUNS = 3  # two runs always rank perfectly (+1 or -1): no correlation to measure
DEFAULT_REFERENCE = "ruler"


@dataclass(frozen=True)
class RunSource:
    """One run to correlate over: how it is named in tables, and its results.json."""

    name: str
    path: Path


@dataclass(frozen=True)
class ScoreTable:
    """Per run (rows, in `runs`' order) the score of each category (columns, in `names`' order: the reference
    first when it is not among `categories`), and the lengths each category's score is the mean over."""

    runs: list[RunSource]
    names: list[str]
    categories: list[str]
    reference: str | None
    length: int | None
    scores: np.ndarray
    lengths: dict[str, list[int]]
    notes: list[str]


# -- which runs -----------------------------------------------------------------------------------------------

def runs_from_paths(targets: Sequence[str]) -> list[RunSource]:
    """Each target a run directory or its results.json; a run is named by its directory (its path where two
    directories share a name)."""
    paths = []
    for target in targets:
        path = Path(target).expanduser()
        if path.is_dir():
            path = path / "results.json"
        if not path.is_file():
            raise HarnessError(f"run {target}: not a run directory (no results.json there) nor a results.json")
        paths.append(path)
    names = [p.parent.name or str(p.parent) for p in paths]
    return [RunSource(str(p.parent) if names.count(n) > 1 else n, p) for n, p in zip(names, paths)]


def runs_from_sweep(root: Path) -> tuple[list[RunSource], list[str]]:
    """Every finished replicate of every variant of the sweep at `root` (its sweep.json), each a run: named by
    its variant, with `/r<k>` (replicate k, training seed + k) where the variant has several. Also returns the
    replicates left out (not finished), each with why."""
    summary_path = root / "sweep.json"
    if not summary_path.is_file():
        raise HarnessError(f"--sweep {root}: not a sweep directory (no sweep.json there; run `harness sweep` first)")
    summary = SweepSummary.read(summary_path)
    runs: list[RunSource] = []
    skipped: list[str] = []
    for name, variant in summary.variants.items():
        where = f"{summary_path}: variants.{name}"
        check_type(variant, dict, where)
        replicates = variant.get("replicates")
        if replicates is None:  # a sweep.json from before replicates: the variant's own results
            replicates = [{"replicate": 0, "status": variant.get("status"), "results": variant.get("results"),
                           "error": variant.get("error")}]
        check_type(replicates, list, f"{where}.replicates")
        for i, replicate in enumerate(replicates):
            check_type(replicate, dict, f"{where}.replicates[{i}]")
            number = replicate.get("replicate", i)
            label = name if len(replicates) == 1 else f"{name}/r{number}"
            if replicate.get("status") != "done" or not replicate.get("results"):
                skipped.append(f"{label}: {replicate.get('error') or replicate.get('status') or 'not finished'}")
                continue
            check_type(replicate["results"], str, f"{where}.replicates[{i}].results")
            path = Path(replicate["results"])
            if not path.is_absolute() and not path.exists():
                path = root / path
            if not path.is_file():
                raise HarnessError(f"{where}.replicates[{i}].results: {path} does not exist (a moved or cleaned sweep: "
                                   "rerun `harness sweep` to write it again)")
            runs.append(RunSource(label, path))
    return runs, skipped


def check_runs(runs: list[RunSource], skipped: Sequence[str] = ()) -> None:
    """At least MIN_RUNS runs, none given twice."""
    seen: dict[Path, str] = {}
    for run in runs:
        key = run.path.resolve()
        if key in seen:
            raise HarnessError(f"run {run.path} is given twice ({seen[key]} and {run.name}): each run counts once")
        seen[key] = run.name
    if len(runs) < MIN_RUNS:
        left = f"; {len(skipped)} left out, not finished: {'; '.join(skipped)}" if skipped else ""
        raise HarnessError(f"{len(runs)} run(s) given ({', '.join(r.name for r in runs) or 'none'}{left}): a rank "
                           f"correlation needs at least {MIN_RUNS} (with two, every pair ranks +1 or -1)")


# -- each category's score in each run ------------------------------------------------------------------------

def parse_length_option(text: str | None) -> int | None:
    """`--length`: 4k, 3000, or `short` (the short-context tasks, such as MMLU, scored at length 0)."""
    if text is None:
        return None
    return 0 if text.strip().lower() == "short" else parse_length(text)


def _cells(result: Result, path: Path, name: str) -> dict[int, float] | None:
    """The category's score per length in one run (a group's, else a task's); None when the run has neither."""
    if name in result.groups:
        info = result.groups[name]
        check_type(info, dict, f"{path}: groups.{name}")
        cells = info.get("lengths", {})
        where = f"{path}: groups.{name}.lengths"
    elif name in result.results:
        cells, where = result.results[name], f"{path}: results.{name}"
    else:
        return None
    check_type(cells, dict, where)
    out: dict[int, float] = {}
    for length, cell in cells.items():
        check_type(cell, dict, f"{where}.{length}")
        score = cell.get("score")
        if score is None:
            continue
        check_type(score, (int, float), f"{where}.{length}.score")
        try:
            out[int(length)] = float(score)
        except ValueError:
            raise HarnessError(f"{where}: length {length!r} is not a whole number of tokens") from None
    return out or None


def default_categories(results: list[Result]) -> tuple[list[str], list[str]]:
    """The groups with a score in every run, one of each set of groups that ran the same tasks everywhere (MMLU
    from one subject is `mmlu`, `mmlu_stem` and the subject alike: the group with the most tasks is kept); with
    fewer than two, the tasks with a score in every run too. Also returns notes on what was merged or added."""
    notes: list[str] = []
    common = sorted(set.intersection(*(set(r.groups) for r in results)))
    overall = [g for g in common if any(_averages_groups(r, g) for r in results)]
    if overall:
        common = [g for g in common if g not in overall]
        notes.append(f"left out, an average of other categories: {', '.join(overall)} (name it in --categories to include it)")
    by_tasks: dict[tuple[tuple[str, ...], ...], list[str]] = {}
    for group in common:
        members = tuple(_group_tasks(r, group) for r in results)
        by_tasks.setdefault(members if all(members) else ((group,),), []).append(group)  # a group that names no tasks stays
    groups = []
    for same in by_tasks.values():
        # the reference where it is one of them, else the first (by name) of those with the most tasks
        keep = DEFAULT_REFERENCE if DEFAULT_REFERENCE in same else max(same, key=lambda g: max(_tasks_total(r, g) for r in results))
        groups.append(keep)
        if len(same) > 1:
            notes.append(f"{', '.join(same)} ran the same tasks in every run: counted once, as {keep}")
    groups.sort()
    if len(groups) >= 2:
        return groups, notes
    tasks = sorted(set.intersection(*(set(r.results) for r in results)) - set(groups))
    if tasks:
        notes.append("fewer than two task groups in every run: tasks are categories too")
    return groups + tasks, notes


def _averages_groups(result: Result, name: str) -> bool:
    """Whether the group is a mean of other groups' scores (HELMET's overall: its cells list their `categories`)."""
    info = result.groups.get(name)
    cells = info.get("lengths") if isinstance(info, dict) else None
    return isinstance(cells, dict) and any(isinstance(c, dict) and "categories" in c for c in cells.values())


def _group_tasks(result: Result, name: str) -> tuple[str, ...]:
    info = result.groups.get(name)
    tasks = info.get("tasks") if isinstance(info, dict) else None
    return tuple(str(t) for t in tasks) if isinstance(tasks, list) else ()


def _tasks_total(result: Result, name: str) -> int:
    info = result.groups.get(name)
    total = info.get("tasks_total") if isinstance(info, dict) else None
    return total if isinstance(total, int) else len(_group_tasks(result, name))


def score_table(runs: list[RunSource], categories: Sequence[str] | None = None, reference: str | None = None,
                length: int | None = None, skipped: Sequence[str] = ()) -> ScoreTable:
    """Each category's score in each run: its score at `length`, or (None) its mean over the lengths every run
    scored it at. `categories` None: `default_categories`; `reference` None: RULER where every run has it."""
    check_runs(runs, skipped)
    results = [Result.read(run.path) for run in runs]
    notes: list[str] = []
    known = sorted({name for r in results for name in (*r.groups, *r.results)})
    if categories is None:
        found, notes = default_categories(results)
        chosen = [c for c in found if _common_lengths(runs, results, c, length, strict=False)]
        if len(chosen) < len(found):
            where = f"at --length {format_length(length)}" if length is not None else "at one length in every run"
            notes.append(f"left out, not scored {where}: {', '.join(c for c in found if c not in chosen)}")
    else:
        chosen = _unique(list(categories), "--categories")
        for name in chosen:
            _check_known(name, known, "--categories")
    if reference is None:
        if _common_lengths(runs, results, DEFAULT_REFERENCE, length, strict=False):
            reference = DEFAULT_REFERENCE
        else:
            notes.append(f"no reference row: {DEFAULT_REFERENCE} is not scored in every run (choose one with --reference)")
    else:
        _check_known(reference, known, "--reference")
    if reference is not None and categories is None and reference in chosen:
        chosen = [reference, *[c for c in chosen if c != reference]]
    names = chosen if reference is None or reference in chosen else [reference, *chosen]
    if len(names) < 2:
        at = f" at --length {format_length(length)}" if length is not None else ""
        raise HarnessError(f"no two categories scored in every run{at} (found: {', '.join(names) or 'none'}; the runs' "
                           f"groups and tasks: {', '.join(known) or 'none'}): name them with --categories a,b,c")
    lengths = {name: _common_lengths(runs, results, name, length, strict=True) for name in names}
    scores = np.array([[_mean_over(_cells(r, run.path, name) or {}, lengths[name]) for name in names]
                       for run, r in zip(runs, results)], dtype=float)
    return ScoreTable(runs, names, chosen, reference, length, scores, lengths, notes)


def _unique(names: list[str], flag: str) -> list[str]:
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise HarnessError(f"{flag}: no category named")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise HarnessError(f"{flag}: {', '.join(twice)} named twice")
    return names


def _check_known(name: str, known: list[str], flag: str) -> None:
    if name not in known:
        hint = did_you_mean(name, known)
        raise HarnessError(f"{flag}: unknown category {name!r}{'; ' + hint if hint else ''} (no run has a group or task of "
                           f"that name; the runs have: {', '.join(known) or 'none'})")


def _common_lengths(runs: list[RunSource], results: list[Result], name: str, length: int | None, strict: bool) -> list[int]:
    """The lengths every run scored `name` at (only `length` when one is given, unless every run scored it only
    short, at 0); with `strict`, none is an error naming the runs that lack it."""
    per_run = [_cells(r, run.path, name) or {} for run, r in zip(runs, results)]
    short_only = all(set(cells) == {0} for cells in per_run)  # MMLU and the like: scored without a long context
    wanted = [length] if length is not None and not short_only else sorted(set(per_run[0]))
    common = [n for n in wanted if all(n in cells for cells in per_run)]
    if common or not strict:
        return common
    lacking = [run for run, cells in zip(runs, per_run) if not cells]
    if lacking:
        raise HarnessError(f"category {name!r} has no score in run(s) {', '.join(f'{r.name} ({r.path})' for r in lacking)}: "
                           "a category must be scored in every run")
    if length is not None:
        lacking = [run for run, cells in zip(runs, per_run) if length not in cells]
        shown = "; ".join(f"{r.name}: {', '.join(format_length(n) for n in sorted(c))}" for r, c in zip(runs, per_run) if r in lacking)
        raise HarnessError(f"--length {format_length(length)}: category {name!r} has no score at that length in "
                           f"run(s) {shown} (the lengths they have)")
    shown = "; ".join(f"{r.name}: {', '.join(format_length(n) for n in sorted(c))}" for r, c in zip(runs, per_run))
    raise HarnessError(f"category {name!r}: no length at which every run has a score ({shown})")


def _mean_over(cells: dict[int, float], lengths: list[int]) -> float:
    return sum(cells[n] for n in lengths) / len(lengths)


# -- the statistics -------------------------------------------------------------------------------------------

def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """scipy's Spearman rho and its p-value; (None, None) where a column is constant (rho undefined)."""
    from scipy import stats

    if np.all(x == x[0]) or np.all(y == y[0]):
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on n < 3 and on constant input; both are handled here
        result = stats.spearmanr(x, y)
    rho, p = float(result.statistic), float(result.pvalue)
    return (None if math.isnan(rho) else rho), (None if math.isnan(p) else p)


def bootstrap_matrices(scores: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """The Spearman matrix of each of `resamples` resamples of the runs (rows, drawn with replacement):
    (resamples, k, k), NaN where a resample leaves a category constant."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    n = scores.shape[0]
    drawn = scores[rng.integers(0, n, size=(resamples, n))]  # (resamples, n, k)
    ranks = rankdata(drawn, axis=1)  # ties share their mean rank, as in spearmanr
    centred = ranks - ranks.mean(axis=1, keepdims=True)
    cov = np.einsum("bni,bnj->bij", centred, centred)
    sd = np.sqrt(np.einsum("bii->bi", cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / (sd[:, :, None] * sd[:, None, :])
    corr[(sd[:, :, None] == 0) | (sd[:, None, :] == 0)] = np.nan
    clipped: np.ndarray = np.clip(corr, -1.0, 1.0)  # float error puts a perfect rank agreement at 1 + 1e-16
    return clipped


def correlate(table: ScoreTable, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = SEED,
              sweep: Path | None = None, skipped: Sequence[str] = ()) -> CorrelationRecord:
    """Every pair of the table's categories: rho, p, and the percentile interval of rho over the bootstrap's
    resamples where it is defined."""
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise HarnessError(f"--resamples {resamples!r}: expected a whole number >= 1")
    if not 0 < level < 1:
        raise HarnessError(f"--level {level!r}: must be in (0, 1)")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise HarnessError(f"--seed {seed!r}: expected a whole number >= 0 (the bootstrap's seed)")
    boot = bootstrap_matrices(table.scores, resamples, seed)
    tail = (1 - level) / 2 * 100
    pairs = []
    for i, a in enumerate(table.names):
        for j in range(i + 1, len(table.names)):
            rho, p = spearman(table.scores[:, i], table.scores[:, j])
            values = boot[:, i, j][~np.isnan(boot[:, i, j])]
            low, high = (np.percentile(values, [tail, 100 - tail]) if rho is not None and len(values) else (None, None))
            pairs.append({"a": a, "b": table.names[j], "rho": _round(rho), "p": _round(p), "low": _round(low),
                          "high": _round(high), "defined": int(len(values)), "n": len(table.runs)})
    runs = [{"name": run.name, "path": str(run.path), "scores": {name: _round(float(v)) for name, v in zip(table.names, row)}}
            for run, row in zip(table.runs, table.scores)]
    return CorrelationRecord(runs, table.categories, pairs, table.lengths, table.reference, table.length, resamples,
                             level, seed, str(sweep) if sweep else None, list(skipped), table.notes)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


# -- the outputs ----------------------------------------------------------------------------------------------

def _rho(pair: dict[str, Any] | None, sep: str = " ") -> str:
    """`rho [low, high]` (on two lines with `sep` a newline), or `undefined`."""
    if pair is None or pair["rho"] is None:
        return "undefined"
    text = f"{pair['rho']:+.2f}"
    if pair["low"] is not None:
        text += f"{sep}[{pair['low']:+.2f}, {pair['high']:+.2f}]"
    return text


def correlation_table(record: CorrelationRecord, fmt: str = "simple") -> str:
    """The matrix (lower triangle: rho [low, high]), the reference row, the runs' scores and what they mean."""
    from tabulate import tabulate

    cats = record.categories
    constant = {name for name in cats if len({run["scores"].get(name) for run in record.runs}) == 1}
    matrix = [[name, *[(("undefined" if name in constant else "1") if i == j else _rho(record.pair(name, other), "\n")
                        if j < i else "") for j, other in enumerate(cats)]] for i, name in enumerate(cats)]
    parts = [f"Spearman rank correlation between categories across {len(record.runs)} runs "
             f"(rho [{record.level:.0%} bootstrap interval over runs])",
             tabulate(matrix, headers=["", *cats], tablefmt=fmt, disable_numparse=True)]
    if record.reference is not None:
        others = [c for c in cats if c != record.reference]
        pairs = [record.pair(record.reference, c) for c in others]
        row = [["rho", *[_rho(p).split(" ")[0] for p in pairs]],
               [f"{record.level:.0%} interval", *[_interval(p) for p in pairs]], ["p", *[_p(p) for p in pairs]]]
        parts += ["", f"{record.reference} (the reference) vs each category:",
                  tabulate(row, headers=["", *others], tablefmt=fmt, disable_numparse=True)]
    scores = [[run["name"], *[_score(run["scores"].get(name)) for name in _names(record)]] for run in record.runs]
    parts += ["", "scores per run:", tabulate(scores, headers=["run", *_names(record)], tablefmt=fmt, disable_numparse=True)]
    parts += ["", *_footer(record)]
    return "\n".join(parts)


def _names(record: CorrelationRecord) -> list[str]:
    ref = record.reference
    return record.categories if ref is None or ref in record.categories else [ref, *record.categories]


def _interval(pair: dict[str, Any] | None) -> str:
    return "-" if pair is None or pair["low"] is None else f"[{pair['low']:+.2f}, {pair['high']:+.2f}]"


def _p(pair: dict[str, Any] | None) -> str:
    return "-" if pair is None or pair["p"] is None else f"{pair['p']:.3g}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _footer(record: CorrelationRecord) -> list[str]:
    taken = {name: ", ".join(format_length(n) for n in lengths) for name, lengths in record.lengths.items()}
    if record.length is not None:
        short = [name for name, lengths in record.lengths.items() if lengths == [0] and record.length != 0]
        how = f"score at {format_length(record.length)}" + (f" ({', '.join(short)}: short)" if short else "")
    elif len(set(taken.values())) == 1:
        how = f"score = mean over {next(iter(taken.values()))}"
    else:
        how = "score = mean over the lengths every run has: " + "; ".join(f"{k} {v}" for k, v in taken.items())
    lines = [f"n = {len(record.runs)} runs; {how}; percentile bootstrap over runs, {record.resamples} resamples, "
             f"seed {record.seed}"]
    undefined = sorted({c for p in record.pairs if p["rho"] is None for c in (p["a"], p["b"])
                        if len({run["scores"].get(c) for run in record.runs}) == 1})
    if undefined:
        lines.append(f"undefined: {', '.join(undefined)} scored the same in every run (nothing to rank)")
    thin = [f"{p['a']}/{p['b']} ({p['defined']})" for p in record.pairs
            if p["rho"] is not None and p["defined"] < record.resamples / 2]
    if thin:
        lines.append("intervals from under half the resamples (the others drew a constant category): " + ", ".join(thin))
    if record.sweep:
        lines.append(f"runs: every finished replicate of every variant of the sweep {record.sweep} (variant/rK: replicate K)")
    lines += [f"left out: {s}" for s in record.skipped]
    lines += [f"note: {n}" for n in record.notes]
    return lines


def draw_heatmap(record: CorrelationRecord, path: Path) -> None:
    """HELMET's figure: the categories' correlation matrix as a heatmap, the reference first; PNG or SVG by
    `path`'s suffix, the same bytes for the same record (no date; SVG ids from a fixed salt; names drawn as
    written, never as mathtext)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = _names(record)
    k = len(names)
    values = np.full((k, k), np.nan)
    for i, a in enumerate(names):
        constant = len({run["scores"].get(a) for run in record.runs}) == 1  # ranks nothing, not even against itself
        for j, b in enumerate(names):
            pair = None if i == j else record.pair(a, b)
            if i == j:
                values[i, j] = np.nan if constant else 1.0
            elif pair is not None and pair["rho"] is not None:
                values[i, j] = pair["rho"]
    with matplotlib.rc_context({"svg.hashsalt": "lc-harness", "text.parse_math": False}):
        fig, ax = plt.subplots(figsize=(1.5 + 0.9 * k, 1.0 + 0.8 * k))
        cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#dddddd")
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-1, vmax=1)
        ax.set_xticks(range(k), names, rotation=45, ha="right")
        ax.set_yticks(range(k), names)
        for (i, j), value in np.ndenumerate(values):
            dark = not np.isnan(value) and abs(value) > 0.6
            ax.text(j, i, "n/a" if np.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
        ax.set_title(f"Spearman correlation across {len(record.runs)} runs")
        fig.colorbar(image, ax=ax, label="Spearman rho")
        fig.tight_layout()
        if path.suffix.lower() == ".svg":
            fig.savefig(path, format="svg", metadata={"Date": None})
        else:
            fig.savefig(path, format="png", dpi=120, metadata={"Software": None})
    plt.close(fig)


def check_output_file(path: Path | None, flag: str, suffixes: tuple[str, ...]) -> None:
    """An output file's path, checked before any work: the right suffix, not a directory, a folder that can be made."""
    if path is None:
        return
    if path.suffix.lower() not in suffixes:
        raise HarnessError(f"{flag} {path}: expected a {' or '.join(suffixes)} file")
    if path.is_dir():
        raise HarnessError(f"{flag} {path} is a directory, not a file")
    for folder in path.parents:  # made only when the file is written: a refused command leaves nothing behind
        if folder.exists():
            if not folder.is_dir():
                raise HarnessError(f"{flag} {path}: {folder} is a file, not a directory")
            return


def write_outputs(record: CorrelationRecord, output: Path | None, plot: Path | None) -> None:
    """The record as JSON at `output`, the heatmap at `plot` (either may be None), their folders made."""
    from harness.core.outputs import ensure_dir

    for path in (output, plot):
        if path is not None:
            ensure_dir(path.parent, f"folder of {path}")
    if output is not None:
        record.write(output)
    if plot is not None:
        draw_heatmap(record, plot)
