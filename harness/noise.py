"""`harness noise`: the evaluation suite's own noise floor on one checkpoint.

The checkpoint is evaluated K times, under evaluation seeds seed, seed+1, ..., seed+K-1 (each a different draw of
samples: a sample's id holds its seed), each an ordinary resumable run into `OUT/seed-<s>/` made as `harness eval`
makes it (`harness.api.eval_config_from_flags`, then `harness.runner.prepare`). From their results.json files and
the samples beside them, per cell (task x length, group x length and a group's average): the score under each
seed, their mean and SD (ddof=1: the eval-seed SD), n, the within-run per-sample SD, and the minimum detectable
effect of a comparison between two checkpoints scored on different draws of this n (`OUT/noise.json`).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from harness.core.errors import HarnessError
from harness.core.records import NoiseRecord, Result
from harness.core.stats.power import POWER, mde_normal

NOISE_FILE = "noise.json"


@dataclass(frozen=True)
class NoiseRun:
    """What `run_noise` did: the record it wrote, where, and how many samples failed (no answer) in all runs."""

    record: NoiseRecord
    output: Path
    failed: int


def eval_seeds(seed: int, count: int) -> list[int]:
    """The K evaluation seeds `seed, seed+1, ..., seed+K-1`; K below 2 gives no SD and is refused."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise HarnessError(f"bad --eval-seeds {count!r}: expected a whole number >= 2 (an SD across seeds needs two)")
    return [seed + k for k in range(count)]


def check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise HarnessError(f"bad --alpha {alpha!r}: must be in (0, 1)")
    return alpha


def default_output(model: str, tasks: str | Sequence[str], lengths: str | Sequence[Any]) -> Path:
    """`runs/noise/<model>-<tasks>-<lengths>`, as `harness eval`'s `runs/<model>`, made a safe name."""
    from harness.core.pathnames import slugify

    def text(value: str | Sequence[Any]) -> str:
        return value if isinstance(value, str) else ",".join(str(v) for v in value)

    return Path("runs") / "noise" / slugify(f"{model}-{text(tasks)}-{text(lengths)}")


def run_noise(flags: Mapping[str, Any], progress: Callable[[str], None] = lambda line: None) -> NoiseRun:
    """Evaluate under each seed (a finished run recomputes nothing), then summarise into `OUT/noise.json`.

    `flags` are `harness eval`'s (by parameter name) plus `eval_seeds` and `alpha`; `output` is OUT."""
    from harness.api import eval_config_from_flags
    from harness.core.outputs import ensure_dir
    from harness.results import failed_samples
    from harness.runner.prepare import data_dir, prepare, run

    alpha = check_alpha(flags.get("alpha", 0.05))
    config = eval_config_from_flags(flags)  # every flag checked as `harness eval` checks it, before a model loads
    seeds = eval_seeds(config.seed, flags.get("eval_seeds", 3))
    output = Path(flags["output"]) if flags.get("output") else default_output(config.model, flags["tasks"], flags.get("lengths", "4k"))
    data_dir(config.data_dir)  # checked before OUT is made
    ensure_dir(output, "--output directory")
    db = Path(flags["db"]) if flags.get("db") else None
    results: list[Result] = []
    for seed in seeds:
        run_id, result = run(prepare(replace(config, seed=seed), output / f"seed-{seed}", db))
        timings = result.config["timings"]
        progress(f"seed {seed}: run {run_id}, {timings['samples_computed']} samples computed, "
                 f"{timings['samples_reused']} reused -> {output / f'seed-{seed}'}")
        results.append(result)
    lengths = results[0].config.get("lengths", config.lengths)  # `max` resolved by the loaded model
    record = NoiseRecord(config.model, list(config.tasks), list(lengths), seeds,
                         summarize([output / f"seed-{s}" / "results.json" for s in seeds], alpha), config.limit, alpha, POWER)
    record.write(output / NOISE_FILE)
    return NoiseRun(record, output, sum(failed_samples(r) for r in results))


def summarize(paths: Sequence[Path], alpha: float) -> list[dict[str, Any]]:
    """One row per cell over the runs' results.json files at `paths` (one per seed, in order)."""
    from harness.results import group_label, scores_by_cell

    runs = [Result.read(path) for path in paths]
    samples = [scores_by_cell(path) for path in paths]
    rows: list[dict[str, Any]] = []
    for task in _ordered(run.results for run in runs):
        for length in _lengths(run.results.get(task, {}) for run in runs):
            cells = [run.results.get(task, {}).get(length) or {} for run in runs]
            per_sample = [list(s.get((task, int(length)), {}).values()) for s in samples]
            rows.append(_row("task", task, int(length), cells, per_sample, alpha))
    for group in _ordered(run.groups for run in runs):
        infos = [run.groups.get(group) or {} for run in runs]
        label = group_label(group, next(info for info in infos if info))  # `ruler (2/13)` when run on some of its tasks
        for length in _lengths(info.get("lengths") or {} for info in infos):
            cells = [(info.get("lengths") or {}).get(length) or {} for info in infos]
            rows.append({**_row("group", group, int(length), cells, None, alpha), "label": label})
        rows.append({**_row("group", group, None, [{"score": info.get("avg")} for info in infos], None, alpha), "label": label})
    return rows


def _ordered(mappings: Any) -> list[str]:
    """The keys of all `mappings`, in first-seen order."""
    seen: dict[str, None] = {}
    for mapping in mappings:
        seen.update(dict.fromkeys(mapping))
    return list(seen)


def _lengths(mappings: Any) -> list[str]:
    """The length keys of all `mappings`, shortest first (results.json sorts its keys as text)."""
    return sorted(_ordered(mappings), key=int)


def _row(kind: str, name: str, length: int | None, cells: list[dict[str, Any]], per_sample: list[list[float]] | None,
         alpha: float) -> dict[str, Any]:
    """One cell's row: per-seed scores and n, mean, eval-seed SD (ddof=1), per-sample SD, MDE."""
    scores = [cell.get("score") for cell in cells]
    known = [float(s) for s in scores if s is not None]
    sd_eval = statistics.stdev(known) if len(known) >= 2 else None
    sd_sample = _pooled_sd(per_sample) if per_sample is not None else None
    n = [cell.get("n") for cell in cells]
    counts = [c for c in n if c]
    se_sample = sd_sample / math.sqrt(statistics.fmean(counts)) if sd_sample is not None and counts else None
    return {"kind": kind, "task": name, "length": length, "scores": scores, "n": n,
            "mean": _round(statistics.fmean(known) if known else None), "sd_eval": _round(sd_eval),
            "sd_sample": _round(sd_sample), "se_sample": _round(se_sample), "mde": _round(mde(_spread(sd_eval, se_sample), alpha))}


def _spread(sd_eval: float | None, se_sample: float | None) -> float | None:
    """What the MDE is computed from: the eval-seed SD, or the per-sample SE where that is larger (with few
    seeds the SD across them can come out 0 by chance: two draws both at 15%); None when neither saw any spread
    (every score 0, say), since an MDE of 0 would claim that any difference is seen."""
    known = [v for v in (sd_eval, se_sample) if v is not None]
    return max(known) if known and max(known) > 0 else None


def _pooled_sd(per_seed: list[list[float]]) -> float | None:
    """The within-run SD of the samples' scores: the root of the mean of each seed's variance (ddof=1)."""
    variances = [statistics.variance(scores) for scores in per_seed if len(scores) >= 2]
    return math.sqrt(statistics.fmean(variances)) if variances else None


def mde(sd_eval: float | None, alpha: float, power: float = POWER) -> float | None:
    """The smallest difference between two checkpoints' scores, each from its own draw of samples, that a
    two-sided test at `alpha` detects with `power`: the difference of two independent draws has
    SE = sqrt(2) * sd_eval (normal approximation: the comparison's own test sees n samples, not K seeds)."""
    if sd_eval is None:
        return None
    return mde_normal(math.sqrt(2) * sd_eval, alpha, power)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def noise_table(record: NoiseRecord, fmt: str = "simple") -> str:
    """The record as a terminal table: per cell the scores per seed, mean, eval-seed SD, per-sample SD, n, MDE."""
    from tabulate import tabulate

    from harness.core.lengths import format_length

    def num(value: Any) -> str:
        return "-" if value is None else f"{value:.2f}"

    rows = []
    for cell in record.cells:
        name = cell["task"] if cell["kind"] == "task" else f"group {cell.get('label') or cell['task']}"
        length = "avg" if cell["length"] is None else format_length(cell["length"])
        n = sorted({c for c in cell["n"] if c is not None})
        rows.append([name, length, " / ".join(num(s) for s in cell["scores"]), num(cell["mean"]), num(cell["sd_eval"]),
                     num(cell["se_sample"]), num(cell["sd_sample"]), ",".join(map(str, n)) or "-", num(cell["mde"])])
    seeds = ", ".join(map(str, record.seeds))
    headers = ["cell", "length", f"score per seed ({seeds})", "mean", "eval-seed SD", "sample SD/sqrt(n)", "sample SD", "n",
               f"MDE (alpha {record.alpha:g}, power {record.power:.0%})"]
    table: str = tabulate(rows, headers=headers, tablefmt=fmt, disable_numparse=True)
    return table
