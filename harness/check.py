"""`harness check`: a run against a baseline, cell by cell (task x length); a regression is a drop
larger than `max_drop` points whose p-value, adjusted over every cell compared (`--correction`, Holm by
default: the chance of any false regression in the whole check stays at or below `alpha`), is below `alpha`.

Per cell the test follows what the baseline holds (`harness.core.stats`):
- replicates (training seeds) of the baseline on samples the run also scored: the crossed test over
  replicates x samples, the run counted as one more checkpoint of the same recipe (it borrows the
  baseline's training-seed spread), so a run inside the recipe's own spread is not a regression;
- one replicate on shared samples (sample ids are deterministic): McNemar's exact test or the paired
  permutation test;
- no shared samples (another `--seed`, or no `samples/`): a z-test on the two means' standard errors
  (plus the training-seed SD where the baseline measured one).

Each cell also gets its minimum detectable effect (MDE) at 80% power and the family's per-test level;
a cell whose MDE exceeds `max_drop` cannot see the drop it is meant to catch, and `power_warning` says
what `--limit` would. A baseline cell the run lacks fails the check as well: a gate that compared
nothing must not pass.

A baseline is a `results.json` (its `samples/` beside it are used when present) or a board's
`baseline.json` (`harness.core.records.BoardBaseline`, written by `harness leaderboard build`: per variant,
every cell's score, per-sample scores and, from version 2, per-replicate scores and `train_sd`), with
`--row` naming the variant.

Every file is checked as it is read: one that does not parse, or holds the wrong shape, is a
`HarnessError` naming the file and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.core.records import BoardBaseline, Result
from harness.core.registry import unknown_name
from harness.core.stats.intervals import Scores
from harness.core.stats.multiple import adjust, check_correction, family_alpha
from harness.core.stats.power import MAX_LIMIT, POWER, mde, mde_normal, required_n, shown_mde
from harness.core.stats.replicated import Replicated, compare_replicated, replicate_sd
from harness.core.userfiles import check_type, read_json
from harness.results import scores_by_cell

Cells = dict[tuple[str, int], dict[str, Any]]  # (task, length) -> {score, stderr, n, samples, replicates, train_sd}
Z_TEST = "z-test (no shared samples)"


@dataclass(frozen=True)
class Verdict:
    """One cell compared: scores, difference (run - baseline), raw and adjusted p, the MDE at the family's
    level, the test, and whether it is a regression or cannot see a `max_drop` drop (`underpowered`)."""

    task: str
    length: int
    baseline: float
    run: float
    diff: float
    p_value: float
    test: str
    regression: bool
    p_adjusted: float = math.nan
    mde: float = math.nan
    n: int | None = None
    underpowered: bool = False
    limit: int | None = None  # the --limit at which the MDE would reach max_drop (None: none up to MAX_LIMIT, or unknown)
    train_sd: float | None = None  # the baseline's training-seed SD, where it has replicates


@dataclass(frozen=True)
class Check:
    """The whole check: verdicts of the cells both have, the baseline cells the run lacks, and the family."""

    verdicts: list[Verdict]
    missing: list[tuple[str, int]]
    correction: str
    alpha: float
    max_drop: float

    @property
    def test_alpha(self) -> float:
        """The per-test level the MDE is computed at (alpha / m under Holm and BH)."""
        return family_alpha(self.alpha, len(self.verdicts), self.correction)

    @property
    def regressions(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.regression]

    @property
    def underpowered(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.underpowered]


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


def _scores(value: Any, where: str, name: str) -> dict[str, float]:
    """`name` of a cell at `where`: an object of sample id -> number (null: none)."""
    value = value or {}
    check_type(value, dict, f"{where}: {name}")
    for sample_id, score in value.items():
        check_type(score, (int, float), f"{where}: {name}[{sample_id!r}]")
    return {str(k): float(v) for k, v in value.items()}


def _cell(cell: Any, where: str) -> dict[str, Any]:
    """A cell checked: `score` a number, `stderr` and `train_sd` numbers or null, `samples` an object of
    numbers, `replicates` an array of such objects (one per training seed) or null."""
    check_type(cell, dict, where)
    check_type(cell.get("score"), (int, float), f"{where}: 'score'")
    for name in ("stderr", "train_sd"):
        if cell.get(name) is not None:
            check_type(cell[name], (int, float), f"{where}: {name!r}")
    if cell.get("n") is not None:
        check_type(cell["n"], int, f"{where}: 'n'")
    samples = _scores(cell.get("samples"), where, "'samples'")
    replicates = cell.get("replicates") or []
    check_type(replicates, list, f"{where}: 'replicates'")
    for j, replicate in enumerate(replicates):
        check_type(replicate, dict, f"{where}: 'replicates'[{j}]")
    replicates = [_scores(r, where, f"'replicates'[{j}]") for j, r in enumerate(replicates)]
    return {**cell, "samples": samples, "replicates": replicates}


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
    samples = scores_by_cell(path)  # `sample_rows` checks each line; a bad one is skipped and reported
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

@dataclass(frozen=True)
class _ZTest:
    """Two cells with no shared samples: their difference over the standard errors of both means, plus the
    training-seed SD the run (one checkpoint) carries when the baseline measured one. `n_*` scale each
    stderr as 1 / sqrt(n) for `required_n`."""

    diff: float
    se_base: float
    se_run: float
    n_base: int | None
    n_run: int | None
    train_sd: float = 0.0

    @property
    def se(self) -> float:
        return math.sqrt(self.se_base**2 + self.se_run**2 + self.train_sd**2)

    @property
    def p_value(self) -> float:
        if self.se == 0:
            return 1.0 if self.diff == 0 else 0.0
        return math.erfc(abs(self.diff) / self.se / math.sqrt(2))  # two-sided normal tail

    @property
    def n(self) -> int | None:
        known = [n for n in (self.n_base, self.n_run) if n]
        return min(known) if known else None

    def _no_spread(self) -> Replicated:
        """Both stderrs 0 (every sample scored alike): no spread seen, so the design is bounded, as
        `harness.core.stats.power.mde` does, by the exact test's discreteness on n samples."""
        return Replicated(self.n or 0, 1, 1, math.nan, math.nan, self.diff, self.p_value, "none", 0.0, discordant=(0, 0))

    def mde(self, alpha: float) -> float:
        if self.se == 0:
            return mde(self._no_spread(), alpha)
        return mde_normal(self.se, alpha)

    def required_n(self, target: float, alpha: float) -> int | None:
        """The smallest n per cell at which `mde` reaches `target`, each stderr scaled by sqrt(its n / n); None
        when the training-seed SD alone is too large, or no cell says its n."""
        if self.se == 0:
            return required_n(self._no_spread(), target, alpha)
        n_base, n_run = self.n_base or self.n_run, self.n_run or self.n_base
        room = (target / mde_normal(1.0, alpha)) ** 2 - self.train_sd**2  # the sample variance the MDE allows
        if not n_base or not n_run or room <= 0:
            return None
        needed = math.ceil((self.se_base**2 * n_base + self.se_run**2 * n_run) / room)
        return max(needed, 1) if needed <= MAX_LIMIT else None


def _replicates(cell: dict[str, Any]) -> list[Scores]:
    """The baseline cell's per-replicate scores; a cell without replicates is its one `samples`."""
    replicates: list[Scores] = cell.get("replicates") or []
    if len(replicates) >= 2:
        return replicates
    return [cell.get("samples") or (replicates[0] if replicates else {})]


def _score(cell: dict[str, Any]) -> float:
    """The baseline cell's score: with replicates the mean of their scores (a board writes replicate 0's as `score`)."""
    replicates = cell.get("replicates") or []
    if len(replicates) < 2 or not all(replicates):
        return float(cell["score"])
    return float(sum(sum(r.values()) / len(r) for r in replicates) / len(replicates))


def _train_sd(cell: dict[str, Any], replicates: list[Scores]) -> float:
    """The baseline's training-seed SD: its `train_sd`, else the spread of its replicates' scores; 0 with one."""
    if len(replicates) < 2:
        return 0.0
    given = cell.get("train_sd")
    measured = given if given is not None else replicate_sd(replicates)
    return float(measured or 0.0)


Test = Replicated | _ZTest


def _test(base: dict[str, Any], new: dict[str, Any]) -> tuple[Test, str]:
    """The test that fits the two cells (see the module's docstring), and its name for the table."""
    replicates, run = _replicates(base), new.get("samples") or {}
    shared = set(run).intersection(*replicates)
    if shared and len(replicates) >= 2:
        comparison = compare_replicated(replicates, [run], b_like_a=True)
        return comparison, f"{comparison.test}, {len(replicates)} baseline replicates"
    if shared:
        comparison = compare_replicated(replicates, [run])
        return comparison, comparison.test
    n_base, n_run = base.get("n"), new.get("n")
    test = _ZTest(float(new["score"]) - _score(base), float(base.get("stderr") or 0.0),
                  float(new.get("stderr") or 0.0), n_base, n_run, _train_sd(base, replicates))
    return test, Z_TEST + (", training-seed SD added" if test.train_sd else "")


def _mde(test: Test, alpha: float) -> float:
    return test.mde(alpha) if isinstance(test, _ZTest) else mde(test, alpha)


def _required(test: Test, target: float, alpha: float) -> int | None:
    return test.required_n(target, alpha) if isinstance(test, _ZTest) else required_n(test, target, alpha)


def _train_sd_of(test: Test) -> float | None:
    return (test.train_sd or None) if isinstance(test, _ZTest) else test.train_sd_a


def compare(baseline: Cells, run: Cells, max_drop: float, alpha: float, correction: str = "holm") -> Check:
    """Every cell both have compared, p-values adjusted over all of them (`correction`), each cell's MDE at
    the family's per-test level; and the baseline's cells the run lacks (which fail the check)."""
    check_correction(correction, "--correction")
    keys = sorted(set(baseline) & set(run))
    tests = [_test(baseline[key], run[key]) for key in keys]
    adjusted = adjust([test.p_value for test, _ in tests], correction)
    level = family_alpha(alpha, len(keys), correction)
    verdicts = []
    for key, (test, name), p_adjusted in zip(keys, tests, adjusted):
        base, new = baseline[key], run[key]
        base_score = _score(base)
        diff = float(new["score"]) - base_score
        p = 1.0 if p_adjusted is None else p_adjusted
        detectable = _mde(test, level)
        underpowered = not detectable <= max_drop  # inf and nan too
        verdicts.append(Verdict(key[0], key[1], base_score, float(new["score"]), diff, test.p_value, name,
                                -diff > max_drop and p < alpha, p, detectable, test.n, underpowered,
                                _required(test, max_drop, level) if underpowered else None, _train_sd_of(test)))
    return Check(verdicts, sorted(set(baseline) - set(run)), correction, alpha, max_drop)


# -- reporting ----------------------------------------------------------------------------------

def _number(value: float, digits: str = ".2f") -> str:
    return "inf" if math.isinf(value) else "-" if math.isnan(value) else format(value, digits)


def mde_text(value: float) -> str:
    """An MDE as shown: beyond the 0-100 scale no difference could be seen, whatever the number (as on boards)."""
    return _number(shown_mde(value), ".1f")


def verdict_text(verdict: Verdict, max_drop: float) -> str:
    if verdict.regression:
        return "REGRESSION"
    text = "ok" if verdict.diff >= -max_drop else "drop, not significant"
    return text + (", underpowered" if verdict.underpowered else "")


def table_rows(check: Check, baseline: Cells, length_text: Callable[[int], str]) -> list[list[str]]:
    """Rows of the check's table: task, length, baseline, run, diff, p, p adj, MDE, test, verdict."""
    rows = [[v.task, length_text(v.length), f"{v.baseline:.2f}", f"{v.run:.2f}", f"{v.diff:+.2f}", _number(v.p_value, ".3g"),
             _number(v.p_adjusted, ".3g"), mde_text(v.mde), v.test, verdict_text(v, check.max_drop)]
            for v in check.verdicts]
    rows += [[task, length_text(length), f"{_score(baseline[(task, length)]):.2f}", "-", "", "", "", "", "", "MISSING"]
             for task, length in check.missing]
    return rows


WARNINGS_SHOWN = 10  # power warnings printed one by one; the rest are counted (the table marks every one)
HEADERS = ["task", "length", "baseline", "run", "diff", "p", "p adj", "MDE", "test", "verdict"]


def power_warning(verdict: Verdict, check: Check, length_text: Callable[[int], str]) -> str:
    """Why the cell cannot see a `max_drop` drop, and what would let it: a `--limit`, or more replicates."""
    level = check.test_alpha
    family = f"alpha {check.alpha:g}" if level == check.alpha else f"alpha {check.alpha:g}/{len(check.verdicts)} cells = {level:.3g}"
    n = "n unknown" if verdict.n is None else f"n={verdict.n}"
    head = (f"warning: {verdict.task} at {length_text(verdict.length)}: {n}, MDE {mde_text(verdict.mde)} points "
            f"({family}, {POWER:.0%} power) > --max-drop {check.max_drop:g}: a {check.max_drop:g}-point drop can pass unseen")
    if verdict.limit is not None:
        how = " (normal approximation, stderr as 1/sqrt(n))" if verdict.test.startswith(Z_TEST) else ""
        return f"{head}; --limit {verdict.limit} would suffice{how}"
    if verdict.train_sd:
        return (f"{head}; no --limit suffices: the training-seed spread alone (SD {verdict.train_sd:.2f} points) "
                "is too large, more replicates are needed")
    if verdict.n is None:
        return f"{head}; the cells do not say their n, so no --limit can be named"
    return f"{head}; no --limit up to {MAX_LIMIT} suffices"
