"""`harness check`: exit 1 on a planted regression, 0 on noise; baselines from results.json or a board."""

import json
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
    (verdict,), missing = compare(baseline, planted, 2.0, 0.05)
    assert verdict.test.startswith("z-test") and verdict.regression and verdict.p_value < 1e-4 and missing == []


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
