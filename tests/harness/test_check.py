"""`harness check`: exit 1 on a planted regression, 0 on noise; baselines from results.json or a board."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.check import cells_of_results, compare, load_baseline
from harness.errors import HarnessError


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
            json.dumps({"id": f"s{i}", "task": "niah_single_1", "length": 1024, "score": s}) + "\n" for i, s in enumerate(scores)))
    return root


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "check", *args], capture_output=True, text=True)


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
    with pytest.raises(HarnessError, match="no row 'nope'"):
        load_baseline(board, "nope")
    planted = write_run(tmp_path / "planted", right=30, flip=tuple(range(10)))
    result = check("--run", str(planted), "--baseline", str(board), "--row", "control")
    assert result.returncode == 1
    missing = check("--run", str(tmp_path / "nowhere"), "--baseline", str(board), "--row", "control")
    assert missing.returncode == 2 and "no results.json there" in missing.stderr
