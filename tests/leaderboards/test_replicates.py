"""Boards from sweeps with replicates (training seeds): cells are means over replicates with two-level
intervals and the training-seed SD, tests are corrected over the whole board, each column has an MDE;
old sweep.json and version-1 baseline.json files still read."""

import csv
import io
import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from harness.check import load_baseline
from harness.core.errors import HarnessError
from harness.core.records import BASELINE, BoardBaseline
from harness.core.stats.replicated import CROSSED
from harness.core.types import ScoredSample
from harness.leaderboards.collect import Run, build, collect
from harness.leaderboards.config import BOARD_DIR, parse_board, read_board
from harness.leaderboards.render import CSV_COLUMNS, baseline_json, markdown, terminal, to_csv
from harness.leaderboards.write import render_files

TASK = "niah_single_1"
N = 100


def write_eval(root: Path, scores: dict[int, list[float]]) -> str:
    """A run directory: results.json and samples/ for TASK, `scores[length]` per sample (ids shared by every run)."""
    root.mkdir(parents=True)
    results = {str(length): {"score": statistics.fmean(values), "n": len(values), "stderr": 1.0} for length, values in scores.items()}
    (root / "results.json").write_text(json.dumps({"version": 1, "config": {}, "groups": {}, "results": {TASK: results}}))
    (root / "samples").mkdir()
    (root / "samples" / f"{TASK}.jsonl").write_text("".join(
        ScoredSample(f"s{length}-{i}", TASK, length, i, 100, ("x",), "x", score, 0.1).to_json() + "\n"
        for length, values in scores.items() for i, score in enumerate(values)))
    return str(root / "results.json")


def write_sweep(root: Path, variants: dict[str, tuple[str, list[dict[int, list[float]] | None]]], old: bool = False) -> Path:
    """A sweep directory: `variants[name] = (kind, per replicate its scores, None where it failed)`; `old`: a
    sweep.json from before replicates (one replicate each, no `replicates` list)."""
    entries: dict[str, Any] = {}
    for name, (kind, replicates) in variants.items():
        listed = []
        for k, scores in enumerate(replicates):
            results = write_eval(root / "runs" / name / str(k), scores) if scores is not None else None
            listed.append({"replicate": k, "seed": k, "synth_seed": None, "status": "done" if results else "failed",
                           "error": None if results else "train failed: out of memory", "stages": [], "results": results})
        done = sum(1 for r in listed if r["status"] == "done")
        status = "done" if done == len(listed) else "partial" if done else "failed"
        entries[name] = {"kind": kind, "status": status, "error": None if done else "train failed: out of memory",
                         "stages": [], "results": listed[0]["results"]}
        if not old:
            entries[name]["replicates"] = listed
    (root / "sweep.json").write_text(json.dumps({"version": 1, "name": "s", "variants": entries}))
    return root


def right(n_right: int, n: int = 30, offset: int = 0) -> list[float]:
    """n right/wrong scores, `n_right` of them right, starting at `offset` (wrapping)."""
    return [100.0 if (i - offset) % n < n_right else 0.0 for i in range(n)]


def board_of(root: Path, **fields: Any):
    config = parse_board({"name": "reps", "sweep": str(root), "baseline": "control",
                          "columns": [{"task": TASK, "avg": True}], **fields}, "board.yaml")
    return collect(config)


@pytest.fixture
def replicated(tmp_path: Path) -> Path:
    """100 samples per cell. control (untrained, one replicate); tuned (3 training seeds, all finished, far
    better: a mark even at the 2 degrees of freedom three seeds give); half (2 of 3 finished); lost (every
    replicate failed)."""
    return write_sweep(tmp_path / "sweep", {
        "control": ("none", [{512: right(10, N), 1024: right(5, N)}]),
        "tuned": ("synth", [{512: right(90, N), 1024: right(85, N)}, {512: right(93, N, offset=3), 1024: right(86, N, offset=2)},
                            {512: right(89, N, offset=7), 1024: right(84, N, offset=5)}]),
        "half": ("synth", [{512: right(12, N), 1024: right(6, N)}, None, {512: right(13, N, offset=1), 1024: right(5, N)}]),
        "lost": ("synth", [None, None]),
    })


def test_a_cell_is_the_mean_over_replicates_with_its_spread_and_a_crossed_test(replicated: Path) -> None:
    board = board_of(replicated)
    tuned = board.cells[("tuned", f"{TASK}@512")]
    assert tuned.score == pytest.approx(statistics.fmean([90, 93, 89]))
    assert tuned.replicates == 3 and tuned.n == N
    assert tuned.train_sd == pytest.approx(statistics.stdev([90, 93, 89]))
    assert tuned.ci_method == "two-level bootstrap" and tuned.low < tuned.score < tuned.high
    assert tuned.test == CROSSED and tuned.diff == pytest.approx(tuned.score - 10)
    assert tuned.p_adjusted is not None and tuned.p_adjusted >= tuned.p_value and tuned.mde is not None and tuned.mde > 0
    half = board.cells[("half", f"{TASK}@512")]
    assert half.replicates == 2 and half.score == pytest.approx(12.5)
    control = board.cells[("control", f"{TASK}@512")]
    assert control.replicates == 1 and control.train_sd is None and control.p_value is None and control.ci_method == "wilson"
    assert board.tests == 2 * 3  # tuned and half x (512, 1k, avg): the baseline and the failed variant test nothing
    text = terminal(board)
    assert f"{tuned.score:.1f}▲ ±{tuned.train_sd:.1f}" in text
    assert "replicates per variant: control 1, tuned 3, half 2 of 3" in text
    assert "half: 2 of 3 replicates finished (replicate 2: train failed: out of memory)" in text
    assert "lost: failed (train failed: out of memory)" in text
    assert "training noise is not measured" not in text  # the control trains nothing; the others have several seeds
    assert "alpha 0.05, correction holm" in text and "m = 6 tests" in text and "▲/▼: adjusted p < alpha" in text
    mde_row = next(line for line in text.splitlines() if line.startswith("MDE"))
    largest = max(board.cells[(v, f"{TASK}@512")].mde for v in ("tuned", "half"))
    assert mde_row.split()[1] == (f"{largest:.1f}" if largest <= 100 else "∞")


def test_one_seed_per_trained_variant_says_training_noise_is_not_measured(tmp_path: Path) -> None:
    root = write_sweep(tmp_path / "sweep", {"control": ("none", [{512: right(10)}]), "tuned": ("synth", [{512: right(20)}])})
    board = board_of(root)
    assert board.cells[("tuned", f"{TASK}@512")].test == "mcnemar-exact"
    assert "training noise is not measured for tuned: one training seed per variant" in terminal(board)
    assert "±" not in terminal(board).splitlines()[2]


def test_an_old_sweep_json_without_replicates_still_builds(tmp_path: Path) -> None:
    root = write_sweep(tmp_path / "sweep", {"control": ("none", [{512: right(10)}]), "tuned": ("synth", [{512: right(20)}]),
                                            "broken": ("synth", [None])}, old=True)
    assert "replicates" not in json.loads((root / "sweep.json").read_text())["variants"]["tuned"]
    board = board_of(root)
    assert [r.variant for r in board.runs] == ["control", "tuned"] and board.failed == {"broken": "train failed: out of memory"}
    cell = board.cells[("tuned", f"{TASK}@512")]
    assert cell.replicates == 1 and cell.score == pytest.approx(100 * 20 / 30) and cell.p_adjusted is not None


def test_five_of_five_is_not_an_interval_of_one_point(tmp_path: Path) -> None:
    root = write_sweep(tmp_path / "sweep", {"control": ("none", [{512: right(5, n=5)}]),
                                            "tuned": ("synth", [{512: right(5, n=5)}] * 3),
                                            "graded": ("synth", [{512: [50.0, 60.0, 70.0, 80.0, 90.0]}])})
    board = board_of(root)
    for variant in ("control", "tuned"):
        cell = board.cells[(variant, f"{TASK}@512")]
        assert cell.score == 100.0 and cell.high == pytest.approx(100.0) and cell.low is not None and cell.low < 90.0
        assert cell.ci_method == "wilson"
    graded = board.cells[("graded", f"{TASK}@512")]
    assert graded.low is None and graded.ci_method == "none" and graded.ci_note.startswith("n=5")
    assert "n too small" in markdown(board)
    assert board.cells[("tuned", f"{TASK}@512")].mde == float("inf")  # 5 samples: no test can see a difference
    assert "∞" in next(line for line in terminal(board).splitlines() if line.startswith("MDE"))


def _one_cell_board(correction: str):
    """control: all 30 wrong; lucky: 7 right (McNemar p = 2 * 0.5^7 = 0.016); three variants as the control."""
    def run(variant: str, n_right: int) -> Run:
        return Run(variant, {"results": {TASK: {"1024": {"score": 100 * n_right / 30, "n": 30}}}, "groups": {}},
                   {(TASK, 1024): dict(zip((f"s{i}" for i in range(30)), right(n_right)))})
    config = parse_board({"name": "b", "sweep": "x", "baseline": "control", "correction": correction,
                          "columns": [{"task": TASK}]}, "board.yaml")
    return build(config, [run("control", 0), run("lucky", 7), *(run(f"same{k}", 0) for k in range(3))], {})


def test_the_correction_decides_a_mark() -> None:
    raw, holm, bh = _one_cell_board("none"), _one_cell_board("holm"), _one_cell_board("bh")
    key = ("lucky", f"{TASK}@1024")
    assert raw.cells[key].p_value == pytest.approx(2 * 0.5**7) and raw.cells[key].p_adjusted == raw.cells[key].p_value
    assert holm.cells[key].p_adjusted == pytest.approx(4 * 2 * 0.5**7) and bh.cells[key].p_adjusted > 0.05
    def lucky(board) -> str:
        return next(line for line in terminal(board).splitlines() if line.startswith("lucky")).split()[1]

    assert (lucky(raw), lucky(holm), lucky(bh)) == ("23.3▲", "23.3", "23.3")
    assert holm.tests == raw.tests == 4 and holm.cells[key].mde > raw.cells[key].mde  # alpha / 4 needs a larger effect


def test_a_bad_correction_is_named() -> None:
    with pytest.raises(HarnessError, match=r"board.yaml: correction 'bonferroni': expected one of holm, bh, none"):
        parse_board({"name": "b", "sweep": "x", "correction": "bonferroni", "columns": [{"task": TASK}]}, "board.yaml")
    assert parse_board({"name": "b", "sweep": "x", "columns": [{"task": TASK}]}, "board.yaml").correction == "holm"
    assert read_board(str(BOARD_DIR / "tiny-demo.yaml")).correction == "holm"


def test_the_csv_has_every_number_per_variant_and_column(replicated: Path) -> None:
    board = board_of(replicated, correction="bh")
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert list(rows[0]) == CSV_COLUMNS == [
        "variant", "column", "source", "kind", "length", "score", "ci_low", "ci_high", "ci_method", "n", "replicates",
        "train_sd", "diff_vs_baseline", "p_value", "p_adjusted", "test", "mde"]
    assert len(rows) == 3 * 3  # control, tuned, half x (512, 1k, avg)
    tuned = next(r for r in rows if r["variant"] == "tuned" and r["column"] == f"{TASK} 512")
    assert tuned["replicates"] == "3" and float(tuned["train_sd"]) > 0 and tuned["ci_method"] == "two-level bootstrap"
    assert float(tuned["p_adjusted"]) >= float(tuned["p_value"]) and tuned["test"] == CROSSED and float(tuned["mde"]) > 0
    control = next(r for r in rows if r["variant"] == "control" and r["column"] == f"{TASK} 512")
    assert control["replicates"] == "1" and control["train_sd"] == "" and control["p_value"] == "" and control["mde"] == ""


def test_the_baseline_json_carries_every_replicate(replicated: Path) -> None:
    data = json.loads(baseline_json(board_of(replicated)))
    assert data["version"] == BASELINE.version == 2
    tuned = next(c for c in data["rows"]["tuned"]["cells"] if c["length"] == 512)
    assert tuned["score"] == 90.0 and tuned["samples"]["s512-0"] == 100.0  # replicate 0's
    assert len(tuned["replicates"]) == 3 and tuned["replicates"][0] == tuned["samples"]
    assert tuned["replicates"][1]["s512-0"] == 0.0  # replicate 1's samples are its own
    assert tuned["train_sd"] == pytest.approx(statistics.stdev([90, 93, 89]))
    control = next(c for c in data["rows"]["control"]["cells"] if c["length"] == 512)
    assert "replicates" not in control and control["train_sd"] is None


def test_a_version_1_baseline_json_still_reads(tmp_path: Path) -> None:
    cell = {"task": TASK, "length": 1024, "score": 50.0, "stderr": 1.0, "n": 2, "samples": {"a": 100.0, "b": 0.0}}
    old = {"version": 1, "board": "b", "rows": {"control": {"cells": [cell]}}}
    upgraded = BoardBaseline.parse(old, "baseline.json")
    assert upgraded.rows["control"]["cells"] == [{**cell, "train_sd": None}]
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(old))
    assert load_baseline(path, None)[(TASK, 1024)]["score"] == 50.0
    assert BoardBaseline.parse({"version": 1, "board": "b", "rows": {"x": "damaged"}}, "b.json").rows == {"x": "damaged"}


def test_the_same_sweep_gives_the_same_files(replicated: Path) -> None:
    first = render_files(board_of(replicated))
    assert render_files(board_of(replicated)) == first
    assert "### Details" in first["board.md"] and "two-level bootstrap" in first["board.md"]
    assert '<tfoot><tr class="mde"><td>MDE</td>' in first["index.html"] and "correction <code>holm" in first["index.html"]
    assert "adjusted p=" in first["index.html"] and "training-seed SD" in first["index.html"]


@pytest.mark.parametrize(("replicates", "field"), [("three", "variants.tuned.replicates"), ([7], r"variants.tuned.replicates\[0\]"),
                                                   ([{"status": "done", "results": 7}], r"variants.tuned.replicates\[0\].results")])
def test_a_damaged_replicates_list_is_named(tmp_path: Path, replicates: Any, field: str) -> None:
    root = write_sweep(tmp_path / "sweep", {"control": ("none", [{512: right(10)}]), "tuned": ("synth", [{512: right(20)}])})
    summary = json.loads((root / "sweep.json").read_text())
    summary["variants"]["tuned"]["replicates"] = replicates
    (root / "sweep.json").write_text(json.dumps(summary))
    with pytest.raises(HarnessError, match=rf"sweep.json: {field}"):
        board_of(root)
