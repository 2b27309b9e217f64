"""`harness check`: exit 1 on a planted regression, 0 on noise; baselines from results.json or a board."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Mapping

import pytest

from harness.check import cells_of_results, compare, load_baseline
from harness.core.errors import HarnessError
from harness.core.types import ScoredSample
from tests.clirun import run_cli


def write_run(root: Path, right: int, n: int = 40, flip: tuple[int, ...] = (), samples: bool = True) -> Path:
    """A results.json for niah_single_1 at 1k with `right` of `n` samples correct (then `flip` toggled)."""
    scores = [100.0 if i < right else 0.0 for i in range(n)]
    for i in flip:
        scores[i] = 100.0 - scores[i]
    mean = sum(scores) / n
    stderr = (sum((s - mean) ** 2 for s in scores) / (n - 1) / n) ** 0.5
    root.mkdir(parents=True)
    (root / "results.json").write_text(json.dumps({"version": 1, "config": {}, "groups": {},
                                                   "results": {"niah_single_1": {"1024": {"score": mean, "stderr": stderr, "n": n}}}}))
    if samples:
        (root / "samples").mkdir()
        (root / "samples" / "niah_single_1.jsonl").write_text("".join(
            ScoredSample(f"s{i}", "niah_single_1", 1024, i, 1000, ("x",), "x" if s else "y", s, 0.1).to_json() + "\n"
            for i, s in enumerate(scores)))
    return root


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "check", *args], capture_output=True, text=True)


def cli(capfd: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess:
    """`harness check ARGS` in this process (as `check`, without starting Python each time)."""
    code, out, err = run_cli(["check", *args], capfd)
    return subprocess.CompletedProcess(args, code, out, err)


@pytest.mark.slow
def test_planted_regression_fails_and_noise_passes(tmp_path: Path) -> None:
    baseline = write_run(tmp_path / "base", right=30)
    planted = write_run(tmp_path / "planted", right=30, flip=tuple(range(10)))  # 10 right answers now wrong: -25 points
    noisy = write_run(tmp_path / "noisy", right=30, flip=(0, 1, 35))  # two lost, one gained: -2.5 points
    failed = check("--run", str(planted), "--baseline", str(baseline / "results.json"), "--max-drop", "2", "--alpha", "0.05")
    assert failed.returncode == 1 and "REGRESSION" in failed.stdout and "mcnemar-exact" in failed.stdout
    passed = check("--run", str(noisy), "--baseline", str(baseline / "results.json"), "--max-drop", "2", "--alpha", "0.05")
    assert passed.returncode == 0 and "drop, not significant" in passed.stdout, passed.stdout + passed.stderr
    tolerant = check("--run", str(planted), "--baseline", str(baseline / "results.json"), "--max-drop", "30")
    assert tolerant.returncode == 0


def test_without_samples_the_drop_is_judged_by_standard_errors(tmp_path: Path) -> None:
    baseline = load_baseline(write_run(tmp_path / "base", right=30, samples=False) / "results.json", None)
    planted = cells_of_results(write_run(tmp_path / "planted", right=10, samples=False) / "results.json")
    done = compare(baseline, planted, 2.0, 0.05)
    (verdict,) = done.verdicts
    assert verdict.test.startswith("z-test") and verdict.regression and verdict.p_value < 1e-4 and done.missing == []


def test_board_baselines_need_a_row(tmp_path: Path) -> None:
    cell = {"task": "niah_single_1", "length": 1024, "score": 75.0, "stderr": 6.9, "n": 40,
            "samples": {f"s{i}": (100.0 if i < 30 else 0.0) for i in range(40)}}
    board = tmp_path / "baseline.json"
    board.write_text(json.dumps({"board": "b", "rows": {"control": {"cells": [cell]}, "other": {"cells": []}}}))
    with pytest.raises(HarnessError, match="holds rows control, other; pick one with --row"):
        load_baseline(board, None)
    with pytest.raises(HarnessError, match=r"unknown row 'nope' \(known: control, other\)"):
        load_baseline(board, "nope")
    planted = write_run(tmp_path / "planted", right=30, flip=tuple(range(10)))
    result = check("--run", str(planted), "--baseline", str(board), "--row", "control")
    assert result.returncode == 1
    missing = check("--run", str(tmp_path / "nowhere"), "--baseline", str(board), "--row", "control")
    assert missing.returncode == 2 and "not a run directory" in missing.stderr


def test_an_unknown_row_is_refused_with_suggestions(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A --row that names nothing (or given with a results.json, which has no rows) is an input error, not a pass."""
    planted = write_run(tmp_path / "run", right=30)
    cell = {"task": "niah_single_1", "length": 1024, "score": 75.0, "stderr": 6.9, "n": 40}
    board = tmp_path / "baseline.json"
    board.write_text(json.dumps({"board": "b", "rows": {"control": {"cells": [cell]}, "yarn-8k": {"cells": [cell]}}}))
    typo = cli(capfd, "--run", str(planted), "--baseline", str(board), "--row", "contrl")
    assert typo.returncode == 2 and typo.stdout == ""
    assert typo.stderr.strip() == (f"error: --row: {board}: unknown row 'contrl'; did you mean control? "
                                   "(known: control, yarn-8k)")
    on_results = cli(capfd, "--run", str(planted), "--baseline", str(planted / "results.json"), "--row", "control")
    assert on_results.returncode == 2 and "has no rows" in on_results.stderr


def results_with(root: Path, cells: Mapping[str, Mapping[str, float | None]]) -> Path:
    """A run directory whose results.json holds `cells` (task -> length -> score; None: every sample failed)."""
    root.mkdir(parents=True)
    results = {task: {length: {"score": score, "stderr": 1.0 if score is not None else None, "n": 10}
                      for length, score in lengths.items()} for task, lengths in cells.items()}
    (root / "results.json").write_text(json.dumps({"version": 1, "config": {}, "results": results}))
    return root


FULL = {"a": {"1024": 50.0, "2048": 40.0}, "b": {"1024": 50.0}}


@pytest.mark.parametrize("run_cells", [
    {"a": {"1024": 50.0}},  # a whole length of task a, and task b, missing
    {"a": {"1024": 50.0, "2048": None}, "b": {"1024": 50.0}},  # a cell without a score (all its samples failed)
    {"c": {"1024": 50.0}},  # nothing in common
    {},
], ids=["cells-missing", "unscored", "disjoint", "empty"])
def test_a_run_missing_baseline_cells_fails(tmp_path: Path, capfd: pytest.CaptureFixture[str], run_cells: dict) -> None:
    base = results_with(tmp_path / "base", FULL)
    result = cli(capfd, "--run", str(results_with(tmp_path / "run", run_cells)), "--baseline", str(base))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "baseline cells missing from the run" in result.stderr and "MISSING" in result.stdout
    scored = {(task, length) for task, lengths in run_cells.items() for length, score in lengths.items() if score is not None}
    for task, length in {("a", "1024"), ("a", "2048"), ("b", "1024")} - scored:
        assert f"{task} at {int(length) // 1024}k" in result.stderr


def test_a_complete_run_passes_and_extra_cells_do_not_matter(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    base = results_with(tmp_path / "base", FULL)
    run = results_with(tmp_path / "run", {**FULL, "c": {"1024": 1.0}})
    result = cli(capfd, "--run", str(run), "--baseline", str(base))  # a run directory as the baseline too
    assert result.returncode == 0 and "no regression in 3 cells" in result.stdout


@pytest.mark.parametrize("baseline", [
    {"version": 1, "results": {}},
    {"version": 1, "results": {"a": {"1024": {"score": None, "n": 0}}}},
    {"board": "b", "rows": {"control": {"cells": []}}},
], ids=["no-cells", "no-scored-cell", "empty-row"])
def test_a_baseline_with_no_scored_cell_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], baseline: dict) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    result = cli(capfd, "--run", str(results_with(tmp_path / "run", {"a": {"1024": 50.0}})), "--baseline", str(path))
    assert result.returncode == 2 and "nothing to check against" in result.stderr


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "not-json": (b'{"results": {', "not valid JSON"),
    "empty": (b"", "the file is empty"),
    "not-utf8": (b'{"results": {"a\xff": {}}}', "not UTF-8"),
    "a-list": (b"[1, 2]", "a results.json"),
    "results-a-list": (b'{"results": []}', "not a results.json"),
    "task-a-list": (b'{"results": {"a": [1]}}', "results['a']: expected an object, got an array"),
    "score-a-string": (b'{"results": {"a": {"1024": {"score": "high"}}}}', "results['a']['1024']: 'score': expected a number"),
    "length-a-word": (b'{"results": {"a": {"long": {"score": 1}}}}', "length 'long' is not a context length"),
    "rows-a-list": (b'{"rows": []}', "neither a results.json nor a board baseline.json"),
    "row-no-cells": (b'{"rows": {"r": {}}}', "rows['r']: 'cells': expected an array, got null"),
    "cell-no-task": (b'{"rows": {"r": {"cells": [{"length": 1024, "score": 1}]}}}', "cells[0]: 'task': expected a string"),
    "cell-bad-samples": (b'{"rows": {"r": {"cells": [{"task": "a", "length": 1024, "score": 1, "samples": [1]}]}}}',
                         "cells[0]: 'samples': expected an object"),
    "cell-bad-replicate": (b'{"rows": {"r": {"cells": [{"task": "a", "length": 1024, "score": 1, "replicates": [{"s0": 1}, [1]]}]}}}',
                           "cells[0]: 'replicates'[1]: expected an object"),
    "cell-bad-replicate-score": (b'{"rows": {"r": {"cells": [{"task": "a", "length": 1024, "score": 1, "replicates": [{"s0": "x"}]}]}}}',
                                 "cells[0]: 'replicates'[0]['s0']: expected a number"),
    "cell-bad-train-sd": (b'{"rows": {"r": {"cells": [{"task": "a", "length": 1024, "score": 1, "train_sd": "big"}]}}}',
                          "cells[0]: 'train_sd': expected a number"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_malformed_baseline_or_run_is_one_line_naming_the_file(tmp_path: Path, capfd: pytest.CaptureFixture[str], name: str) -> None:
    """As --baseline (and, when it is not a board file, in a --run directory): exit 2, one line naming the file."""
    content, says = BAD_FILES[name]
    good = results_with(tmp_path / "good", {"a": {"1024": 50.0}})
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = bad_dir / ("baseline.json" if b"rows" in content else "results.json")
    bad.write_bytes(content)
    results = [cli(capfd, "--run", str(good), "--baseline", str(bad))]
    if b"rows" not in content:
        results.append(cli(capfd, "--run", str(bad_dir), "--baseline", str(good)))
    for result in results:
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert lines[0].startswith("error: ") and str(bad) in lines[0] and says in lines[0], lines[0]


@pytest.mark.parametrize("target", ["missing", "empty-dir", "a-text-file"])
def test_a_run_that_is_not_a_run_directory_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], target: str) -> None:
    good = results_with(tmp_path / "good", {"a": {"1024": 50.0}})
    path = tmp_path / target
    if target == "empty-dir":
        path.mkdir()
    elif target == "a-text-file":
        path.write_text("hello\n")
    result = cli(capfd, "--run", str(path), "--baseline", str(good))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and str(path) in lines[0], result.stderr


@pytest.mark.parametrize("flags", [["--alpha", "0"], ["--alpha", "nan"], ["--max-drop", "-1"], ["--max-drop", "nan"]])
def test_bad_thresholds_are_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], flags: list[str]) -> None:
    run = write_run(tmp_path / "run", right=30)
    result = cli(capfd, "--run", str(run), "--baseline", str(run), *flags)
    assert result.returncode == 2 and flags[0] in result.stderr


def test_a_board_baseline_with_a_short_context_cell_is_checked(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """MMLU and GSM8K sit at length 0 (the short-context column); a board's baseline.json carries them as such."""
    from harness.leaderboards.collect import Run, build
    from harness.leaderboards.config import parse_board
    from harness.leaderboards.render import baseline_json

    scores = [100.0 if i < 10 else 0.0 for i in range(20)]
    results = {"version": 1, "config": {}, "groups": {},
               "results": {"mmlu_anatomy": {"0": {"score": 50.0, "n": 20, "stderr": 11.47}}}}
    config = parse_board({"name": "b", "sweep": "x", "baseline": "control", "columns": [{"task": "mmlu_anatomy"}]}, "board.yaml")
    built = build(config, [Run("control", results, {("mmlu_anatomy", 0): {f"m{i}": s for i, s in enumerate(scores)}}, {}, {})], {})
    (tmp_path / "baseline.json").write_text(baseline_json(built))
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "results.json").write_text(json.dumps(results))
    (run / "samples" / "mmlu_anatomy.jsonl").write_text("".join(
        ScoredSample(f"m{i}", "mmlu_anatomy", 0, i, 100, ("A",), "A" if s else "B", s, 0.1).to_json() + "\n"
        for i, s in enumerate(scores)))
    code, out, err = run_cli(["check", "--run", str(run), "--baseline", str(tmp_path / "baseline.json"), "--row", "control"], capfd)
    assert code == 0 and "error" not in err, err
    assert "mmlu_anatomy" in out


# -- issue 15: family-wise error, replicate-aware baselines, MDE and power ---------------------------

def right_first(k: int, n: int = 40, prefix: str = "s") -> dict[str, float]:
    """Per-sample scores: the first `k` of `n` samples right."""
    return {f"{prefix}{i}": (100.0 if i < k else 0.0) for i in range(n)}


def write_cells(root: Path, cells: Mapping[str, Mapping[str, float]], length: int = 1024) -> Path:
    """A run directory: per task its per-sample scores (results.json and samples/<task>.jsonl)."""
    (root / "samples").mkdir(parents=True)
    results = {}
    for task, scores in cells.items():
        values = list(scores.values())
        mean = sum(values) / len(values)
        stderr = (sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values)) ** 0.5
        results[task] = {str(length): {"score": mean, "stderr": stderr, "n": len(values)}}
        (root / "samples" / f"{task}.jsonl").write_text("".join(
            ScoredSample(sample_id, task, length, i, 1000, ("x",), "x" if s else "y", s, 0.1).to_json() + "\n"
            for i, (sample_id, s) in enumerate(scores.items())))
    (root / "results.json").write_text(json.dumps({"version": 1, "config": {}, "groups": {}, "results": results}))
    return root


def write_board(path: Path, cells: list[dict]) -> Path:
    """A board's baseline.json in the layout with replicates (written at the version the record reads now)."""
    from harness.core.records import BASELINE

    path.write_text(json.dumps({"version": BASELINE.version, "board": "b", "rows": {"v": {"cells": cells}}}))
    return path


def board_cell(task: str, replicates: list[dict[str, float]], samples: dict[str, float] | None = None) -> dict:
    """A baseline cell: its score the mean over `replicates`, `samples` the first replicate unless given."""
    means = [sum(r.values()) / len(r) for r in replicates]
    score = sum(means) / len(means)
    train_sd = (sum((m - score) ** 2 for m in means) / (len(means) - 1)) ** 0.5 if len(means) > 1 else None
    return {"task": task, "length": 1024, "score": score, "stderr": 5.0, "n": len(replicates[0]),
            "samples": samples if samples is not None else replicates[0],
            "replicates": replicates if len(replicates) > 1 else [], "train_sd": train_sd}


def test_holm_over_many_cells_keeps_a_lone_raw_p_below_alpha_from_failing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Ten cells; in one, 6 right answers turned wrong (McNemar p = 2 * 0.5^6 = 0.031 < 0.05, a 15-point drop).
    Alone it is a regression; as one of ten tests Holm adjusts it to 0.31: no regression. Without correction it fails."""
    tasks = [f"t{j}" for j in range(10)]
    board = write_board(tmp_path / "baseline.json", [board_cell(t, [right_first(30, prefix=t)]) for t in tasks])
    lost = {**right_first(30, prefix="t0"), **{f"t0{i}": 0.0 for i in range(6)}}
    run = write_cells(tmp_path / "run", {t: (lost if t == "t0" else right_first(30, prefix=t)) for t in tasks})
    held = cli(capfd, "--run", str(run), "--baseline", str(board), "--max-drop", "2")
    assert held.returncode == 0, held.stdout + held.stderr
    line = next(row for row in held.stdout.splitlines() if row.startswith("t0 "))
    assert "0.0312" in line and "0.312" in line and "drop, not significant" in line, held.stdout
    assert "holm over 10 cells" in held.stdout
    raw = cli(capfd, "--run", str(run), "--baseline", str(board), "--max-drop", "2", "--correction", "none")
    assert raw.returncode == 1 and "REGRESSION" in raw.stdout and "1 regression(s)" in raw.stderr
    done = compare(load_baseline(board, None), cells_of_results(run / "results.json"), 2.0, 0.05, "bh")
    assert [v.task for v in done.verdicts if v.p_value < 0.05] == ["t0"] and done.regressions == []


def test_a_run_inside_the_baselines_training_spread_passes(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Three training seeds of the baseline scored 75, 55 and 85; the run scores 50. Against one replicate the
    paired test flags it (McNemar p = 0.002); counted as a fourth checkpoint of the recipe, its drop lies within
    the seeds' spread (the crossed t-test, p > 0.05): exit 0, and a warning that only more replicates could see 2 points."""
    from harness.core.stats.replicated import compare_replicated

    replicates = [right_first(30), right_first(22), right_first(34)]
    expected = compare_replicated(replicates, [right_first(20)], b_like_a=True)
    assert expected.p_value > 0.05 and expected.train_sd_a is not None
    run = write_cells(tmp_path / "run", {"niah_single_1": right_first(20)})
    one = write_board(tmp_path / "one.json", [board_cell("niah_single_1", replicates[:1])])
    paired = cli(capfd, "--run", str(run), "--baseline", str(one))
    assert paired.returncode == 1 and "mcnemar-exact" in paired.stdout and "REGRESSION" in paired.stdout
    three = write_board(tmp_path / "three.json", [{**board_cell("niah_single_1", replicates), "score": 75.0}])  # replicate 0's
    spread = cli(capfd, "--run", str(run), "--baseline", str(three))
    assert spread.returncode == 0, spread.stdout + spread.stderr
    assert "crossed t" in spread.stdout and "3 baseline replicates" in spread.stdout
    assert f" {expected.p_value:.3g} " in spread.stdout and "-21.67" in spread.stdout, spread.stdout
    assert "niah_single_1 at 1k: n=40" in spread.stderr
    assert (f"training-seed spread alone (SD {expected.train_sd_a:.2f} points) is too large, more replicates are needed"
            in spread.stderr), spread.stderr


def test_a_run_of_another_seed_against_replicates_adds_the_training_spread(tmp_path: Path) -> None:
    """No shared samples (another --seed): the z-test, its SE widened by the training-seed SD the run carries."""
    board = write_board(tmp_path / "baseline.json", [board_cell("niah_single_1", [right_first(30), right_first(22), right_first(34)])])
    run = write_cells(tmp_path / "run", {"niah_single_1": right_first(20, prefix="other")})
    (verdict,) = compare(load_baseline(board, None), cells_of_results(run / "results.json"), 2.0, 0.05).verdicts
    run_se = (0.5 * 0.5 * 100**2 / 39 * 40 / 40) ** 0.5  # the results.json stderr of 20 right of 40
    assert verdict.test == "z-test (no shared samples), training-seed SD added" and verdict.train_sd is not None
    assert verdict.p_value == pytest.approx(math.erfc(abs(verdict.diff) / math.sqrt(25 + run_se**2 + verdict.train_sd**2) / math.sqrt(2)))
    assert not verdict.regression and verdict.limit is None  # the spread alone hides 2 points


def test_five_samples_cannot_see_a_total_collapse_and_say_so(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """5 right -> 0 right: McNemar's smallest p at n = 5 is 0.0625, so the check passes -- with a warning naming a
    --limit that would see a 2-point drop, and exit 2 under --require-power."""
    base = write_run(tmp_path / "base", right=5, n=5)
    run = write_run(tmp_path / "run", right=0, n=5)
    warned = cli(capfd, "--run", str(run), "--baseline", str(base))
    assert warned.returncode == 0 and "-100.00" in warned.stdout and "inf" in warned.stdout, warned.stdout
    assert "drop, not significant, underpowered" in warned.stdout
    found = re.search(r"niah_single_1 at 1k: n=5, MDE inf points .* > --max-drop 2: .*; --limit (\d+) would suffice", warned.stderr)
    assert found and int(found.group(1)) > 5, warned.stderr
    strict = cli(capfd, "--run", str(run), "--baseline", str(base), "--require-power")
    assert strict.returncode == 2 and f"--limit {found.group(1)}" in strict.stderr and "--require-power" in strict.stderr
    enough = write_run(tmp_path / "enough", right=int(found.group(1)), n=int(found.group(1)))
    powered = cli(capfd, "--run", str(enough), "--baseline", str(enough), "--require-power")
    assert powered.returncode == 0 and "warning" not in powered.stderr, powered.stderr


def test_a_regression_exits_1_before_require_power(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    base = write_run(tmp_path / "base", right=30)
    planted = write_run(tmp_path / "planted", right=30, flip=tuple(range(10)))
    result = cli(capfd, "--run", str(planted), "--baseline", str(base), "--require-power", "--max-drop", "0.5")
    assert result.returncode == 1 and "REGRESSION" in result.stdout and "warning" in result.stderr


def test_the_z_test_mde_is_the_normal_formula_at_the_family_level(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Two cells, stderr 1 on both sides, n = 10, alpha 0.05 under Holm: the MDE is (z(1 - 0.0125) + z(0.8)) * sqrt(2)
    = 4.36 points; to see 2 points the SE must shrink by 4.36 / 2, so n = ceil(10 * 2.18^2) = 48."""
    from scipy.stats import norm

    cells = {"a": {"1024": 50.0}, "b": {"1024": 50.0}}
    base, run = results_with(tmp_path / "base", cells), results_with(tmp_path / "run", cells)
    done = compare(load_baseline(base, None), cells_of_results(run / "results.json"), 2.0, 0.05)
    expected = (norm.ppf(1 - 0.05 / 2 / 2) + norm.ppf(0.8)) * math.sqrt(2)
    assert [v.mde for v in done.verdicts] == pytest.approx([expected, expected]) and expected == pytest.approx(4.36, abs=0.01)
    assert [v.limit for v in done.verdicts] == [math.ceil(10 * (expected / 2) ** 2)] * 2 == [48, 48]
    result = cli(capfd, "--run", str(run), "--baseline", str(base))
    assert result.returncode == 0 and " 4.4 " in result.stdout and "MDE" in result.stdout and "p adj" in result.stdout
    assert result.stderr.count("--limit 48 would suffice (normal approximation") == 2, result.stderr
    assert "alpha 0.05/2 cells = 0.025" in result.stderr
    single = compare(load_baseline(base, None), cells_of_results(run / "results.json"), 2.0, 0.05, "none").verdicts[0]
    assert single.mde == pytest.approx((norm.ppf(0.975) + norm.ppf(0.8)) * math.sqrt(2))


@pytest.mark.parametrize("correction", ["bonferroni", "HOLM", ""])
def test_an_unknown_correction_is_refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], correction: str) -> None:
    run = write_run(tmp_path / "run", right=30)
    result = cli(capfd, "--run", str(run), "--baseline", str(run), "--correction", correction)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == f"error: --correction {correction!r}: expected one of holm, bh, none"
    with pytest.raises(HarnessError, match="--correction"):
        compare({}, {}, 2.0, 0.05, correction)


def test_a_z_test_with_no_spread_is_bounded_by_its_n(tmp_path: Path) -> None:
    """5 of 5 right on both sides, no shared samples: both stderrs are 0, yet five samples cannot see 2 points."""
    base = cells_of_results(write_cells(tmp_path / "base", {"a": right_first(5, n=5)}) / "results.json")
    run = cells_of_results(write_cells(tmp_path / "run", {"a": right_first(5, n=5, prefix="other")}) / "results.json")
    (verdict,) = compare(base, run, 2.0, 0.05).verdicts
    assert verdict.test == "z-test (no shared samples)" and math.isinf(verdict.mde) and verdict.underpowered
    assert verdict.limit is not None and verdict.limit > 5
