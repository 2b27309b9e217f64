"""`harness report correlation` (harness/correlation.py): Spearman correlations between categories across runs,
checked by hand on synthetic results.json files, its bootstrap, its sweep input, its record and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pytest
from scipy import stats

from harness.core.errors import HarnessError
from harness.core.records import CORRELATION, CorrelationRecord, RecordVersionError, Result
from harness.correlation import (
    RunSource,
    bootstrap_matrices,
    correlate,
    correlation_table,
    runs_from_paths,
    runs_from_sweep,
    score_table,
    spearman,
)
from tests.clirun import run_cli


def write_run(path: Path, tasks: dict[str, dict[int, float | None]], groups: dict[str, dict[int, float]] | None = None,
              group_tasks: dict[str, list[str]] | None = None, totals: dict[str, int] | None = None) -> Path:
    """A results.json as `harness eval` writes it: per task and length a cell; per group its per-length score."""
    results = {task: {str(n): {"score": s, "stderr": 0.0, "n": 5, "metric": "m", "higher_is_better": True}
                      for n, s in cells.items()} for task, cells in tasks.items()}
    shaped = {}
    for group, cells in (groups or {}).items():
        members = (group_tasks or {}).get(group, [])
        shaped[group] = {"lengths": {str(n): {"score": s, "macro": s, "micro": s, "n": 5, "tasks": 1} for n, s in cells.items()},
                         "avg": sum(cells.values()) / len(cells), "tasks": members, "complete": True, "partial": False,
                         "tasks_run": len(members), "tasks_total": (totals or {}).get(group, len(members))}
    path.mkdir(parents=True, exist_ok=True)
    Result(results=results, groups=shaped, config={"model": path.name}).write(path / "results.json")
    return path


def runs_of(tmp_path: Path, columns: Mapping[str, Sequence[float]], length: int = 4096) -> list[RunSource]:
    """One run per row of `columns` (category -> its score in each run), each category a task at `length`."""
    count = len(next(iter(columns.values())))
    dirs = [write_run(tmp_path / f"run{i}", {name: {length: values[i]} for name, values in columns.items()}) for i in range(count)]
    return runs_from_paths([str(d) for d in dirs])


def rho(record: CorrelationRecord, a: str, b: str) -> float | None:
    pair = record.pair(a, b)
    assert pair is not None, (a, b)
    value: float | None = pair["rho"]
    return value


def record_of(tmp_path: Path, columns: Mapping[str, Sequence[float]], **kwargs: Any) -> CorrelationRecord:
    runs = runs_of(tmp_path, columns)
    return correlate(score_table(runs, list(columns), **kwargs))


# -- hand-checked correlations ----------------------------------------------------------------------------------

def test_perfect_agreement_is_plus_one_with_a_point_interval(tmp_path: Path) -> None:
    record = record_of(tmp_path, {"a": [1, 2, 3, 4], "b": [10, 20, 30, 45]})
    pair = record.pair("a", "b")
    assert pair is not None and pair["rho"] == 1.0 and pair["p"] == 0.0
    assert (pair["low"], pair["high"]) == (1.0, 1.0)  # every resample that ranks anything ranks it the same way
    assert 0 < pair["defined"] < 2000 and pair["n"] == 4  # resamples drawing one run 4 times rank nothing


def test_perfect_disagreement_is_minus_one(tmp_path: Path) -> None:
    pair = record_of(tmp_path, {"a": [1, 2, 3, 4], "b": [9, 7, 5, 1]}).pair("b", "a")
    assert pair is not None and pair["rho"] == -1.0 and (pair["low"], pair["high"]) == (-1.0, -1.0)


def test_a_ranking_unrelated_to_another_is_zero(tmp_path: Path) -> None:
    # ranks 1..5 against 2,5,3,1,4: d = -1,-3,0,3,1, sum d^2 = 20, rho = 1 - 6*20 / (5*24) = 0
    pair = record_of(tmp_path, {"a": [1, 2, 3, 4, 5], "b": [2, 5, 3, 1, 4]}).pair("a", "b")
    assert pair is not None and pair["rho"] == 0.0 and pair["p"] == 1.0
    assert pair["low"] < 0 < pair["high"]


def test_ties_take_their_mean_rank(tmp_path: Path) -> None:
    # ranks of a: 1, 2.5, 2.5, 4; Pearson of the ranks: 4.5 / sqrt(4.5 * 5) = 0.9487
    record = record_of(tmp_path, {"a": [1, 2, 2, 3], "b": [1, 2, 3, 4]})
    pair = record.pair("a", "b")
    assert pair is not None and pair["rho"] == pytest.approx(4.5 / math.sqrt(22.5), abs=1e-4)
    assert pair["rho"] == round(float(stats.spearmanr([1, 2, 2, 3], [1, 2, 3, 4]).statistic), 4)


def test_a_constant_category_is_undefined_never_zero(tmp_path: Path) -> None:
    record = record_of(tmp_path, {"a": [1, 2, 3], "flat": [0, 0, 0], "b": [3, 1, 2]})
    flat = record.pair("a", "flat")
    assert flat is not None and (flat["rho"], flat["p"], flat["low"], flat["high"]) == (None, None, None, None)
    table = correlation_table(record)
    assert "undefined" in table and "flat scored the same in every run" in table
    assert spearman(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) == (None, None)


def test_the_matrix_matches_scipy_on_many_categories(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    columns = {f"c{i}": [float(v) for v in rng.integers(0, 5, size=8)] for i in range(4)}
    record = record_of(tmp_path, columns)
    for pair in record.pairs:
        expected = stats.spearmanr(columns[pair["a"]], columns[pair["b"]])
        assert pair["rho"] == round(float(expected.statistic), 4) and pair["p"] == round(float(expected.pvalue), 4)


# -- the bootstrap -----------------------------------------------------------------------------------------------

def test_the_bootstrap_is_deterministic_and_its_seed_matters(tmp_path: Path) -> None:
    columns = {"a": [1, 5, 2, 8, 3, 9], "b": [2, 4, 1, 9, 5, 6], "c": [9, 1, 4, 2, 8, 3]}
    runs = runs_of(tmp_path, columns)
    first, again = correlate(score_table(runs, list(columns))), correlate(score_table(runs, list(columns)))
    assert first.pairs == again.pairs
    other = correlate(score_table(runs, list(columns)), seed=1)
    assert other.seed == 1 and [p["rho"] for p in other.pairs] == [p["rho"] for p in first.pairs]
    scores = score_table(runs, list(columns)).scores
    assert np.array_equal(bootstrap_matrices(scores, seed=0), bootstrap_matrices(scores, seed=0), equal_nan=True)
    assert not np.array_equal(bootstrap_matrices(scores, seed=0), bootstrap_matrices(scores, seed=1), equal_nan=True)


def test_each_resample_is_scipys_spearman_of_the_runs_it_drew() -> None:
    scores = np.array([[1, 5, 2], [2, 2, 2], [3, 1, 7], [3, 9, 1], [0, 4, 4]], dtype=float)
    boot = bootstrap_matrices(scores, resamples=50, seed=7)
    drawn = np.random.default_rng(7).integers(0, 5, size=(50, 5))
    for b in range(50):
        sample = scores[drawn[b]]
        for i, j in ((0, 1), (0, 2), (1, 2)):
            rho, _ = spearman(sample[:, i], sample[:, j])
            assert (rho is None and math.isnan(boot[b, i, j])) or boot[b, i, j] == pytest.approx(rho)


# -- what a category's score is --------------------------------------------------------------------------------

def test_a_score_is_the_mean_over_the_lengths_every_run_has_or_one_length(tmp_path: Path) -> None:
    dirs = [write_run(tmp_path / "r0", {"a": {1024: 10, 2048: 30, 4096: 99}, "b": {1024: 1}}),
            write_run(tmp_path / "r1", {"a": {1024: 20, 2048: 20}, "b": {1024: 2}}),
            write_run(tmp_path / "r2", {"a": {1024: 30, 2048: 10}, "b": {1024: 3}})]
    runs = runs_from_paths([str(d) for d in dirs])
    table = score_table(runs, ["a", "b"])
    assert table.lengths == {"a": [1024, 2048], "b": [1024]}  # 4k is only in r0: left out of the mean
    assert table.scores[:, 0].tolist() == [20.0, 20.0, 20.0]
    at_1k = score_table(runs, ["a", "b"], length=1024)
    assert at_1k.scores[:, 0].tolist() == [10.0, 20.0, 30.0]
    assert rho(correlate(at_1k), "a", "b") == 1.0
    with pytest.raises(HarnessError, match="--length 2k: category 'b' has no score at that length in run.s. r0: 1k"):
        score_table(runs, ["a", "b"], length=2048)


def test_a_short_only_category_keeps_its_short_score_at_any_length(tmp_path: Path) -> None:
    dirs = [write_run(tmp_path / f"r{i}", {"niah": {1024: 10.0 * i, 2048: 5.0 * i}, "mmlu_anatomy": {0: 40.0 - i}}) for i in range(3)]
    record = correlate(score_table(runs_from_paths([str(d) for d in dirs]), ["niah", "mmlu_anatomy"], length=2048))
    assert record.lengths == {"niah": [2048], "mmlu_anatomy": [0]} and record.length == 2048
    assert rho(record, "niah", "mmlu_anatomy") == -1.0
    assert "score at 2k (mmlu_anatomy: short)" in correlation_table(record)


def test_default_categories_are_the_groups_in_every_run_ruler_first(tmp_path: Path) -> None:
    def run(name: str, ruler: float, rag: float, summ: float) -> Path:
        groups = {"helmet_rag": {4096: rag}, "ruler": {4096: ruler, 8192: ruler + 2}, "mmlu": {0: 40.0},
                  "mmlu_stem": {0: 40.0}, "helmet_summ": {4096: summ}}
        members = {"mmlu": ["mmlu_anatomy"], "mmlu_stem": ["mmlu_anatomy"], "ruler": ["niah_single_1"],
                   "helmet_rag": ["nq"], "helmet_summ": ["multi_lexsum"]}
        if name == "r2":
            groups.pop("helmet_summ")
        return write_run(tmp_path / name, {"niah_single_1": {4096: ruler}, "mmlu_anatomy": {0: 40.0}}, groups, members,
                         {"mmlu": 57, "mmlu_stem": 19, "ruler": 13})

    runs = runs_from_paths([str(run("r0", 90, 10, 1)), str(run("r1", 80, 30, 2)), str(run("r2", 70, 20, 3))])
    table = score_table(runs)
    assert table.names == ["ruler", "helmet_rag", "mmlu"] and table.reference == "ruler"  # summ is not in r2
    assert any("mmlu, mmlu_stem ran the same tasks in every run: counted once, as mmlu" in n for n in table.notes)
    record = correlate(table)
    assert rho(record, "ruler", "helmet_rag") == -0.5
    assert rho(record, "ruler", "mmlu") is None
    text = correlation_table(record)
    assert "ruler (the reference) vs each category:" in text and "n = 3 runs" in text
    chosen = score_table(runs, ["helmet_rag", "niah_single_1"])
    assert chosen.names == ["ruler", "helmet_rag", "niah_single_1"] and chosen.categories == ["helmet_rag", "niah_single_1"]
    own = score_table(runs, ["helmet_rag", "mmlu"], reference="niah_single_1")
    assert own.names == ["niah_single_1", "helmet_rag", "mmlu"]


def test_an_average_of_categories_is_left_out_by_default(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        path = write_run(tmp_path / f"r{i}", {"t": {1024: 1.0}}, {"helmet_rag": {1024: float(i)}, "helmet_icl": {1024: 2.0 - i},
                                                               "helmet": {1024: 1.0}})
        data = json.loads((path / "results.json").read_text())
        data["groups"]["helmet"]["lengths"]["1024"]["categories"] = {"helmet_rag": float(i), "helmet_icl": 2.0 - i}
        (path / "results.json").write_text(json.dumps(data))
        paths.append(str(path))
    table = score_table(runs_from_paths(paths))
    assert table.names == ["helmet_icl", "helmet_rag"] and "left out, an average of other categories: helmet" in table.notes[0]
    assert score_table(runs_from_paths(paths), ["helmet", "helmet_rag"]).names == ["helmet", "helmet_rag"]


def test_groups_that_name_no_tasks_are_never_merged(tmp_path: Path) -> None:
    dirs = [write_run(tmp_path / f"r{i}", {"t": {1024: 1.0}}, {"g1": {1024: float(i)}, "g2": {1024: float(-i)}}) for i in range(3)]
    table = score_table(runs_from_paths([str(d) for d in dirs]))
    assert table.names == ["g1", "g2"] and not table.notes[:-1]
    assert rho(correlate(table), "g1", "g2") == -1.0


def test_without_two_common_groups_tasks_are_categories(tmp_path: Path) -> None:
    dirs = [write_run(tmp_path / f"r{i}", {"vt": {1024: v}, "cwe": {1024: 3 - v}}) for i, v in enumerate([0, 1, 2])]
    table = score_table(runs_from_paths([str(d) for d in dirs]))
    assert table.names == ["cwe", "vt"] and table.reference is None
    assert any("no reference row" in n for n in table.notes)
    assert rho(correlate(table), "cwe", "vt") == -1.0


# -- bad input ---------------------------------------------------------------------------------------------------

def test_bad_input_is_named(tmp_path: Path) -> None:
    runs = runs_of(tmp_path, {"a": [1, 2, 3], "b": [3, 2, 1]})
    with pytest.raises(HarnessError, match="2 run.s. given .run0, run1.: a rank correlation needs at least 3"):
        score_table(runs[:2], ["a", "b"])
    with pytest.raises(HarnessError, match="given twice"):
        score_table([runs[0], runs[1], RunSource("again", runs[0].path)], ["a", "b"])
    with pytest.raises(HarnessError, match="--categories: unknown category 'aa'; did you mean a"):
        score_table(runs, ["aa", "b"])
    with pytest.raises(HarnessError, match="--reference: unknown category 'ruler'"):
        score_table(runs, ["a", "b"], reference="ruler")
    with pytest.raises(HarnessError, match="no two categories scored in every run"):
        score_table(runs, ["a"])
    with pytest.raises(HarnessError, match="not a run directory"):
        runs_from_paths([str(tmp_path / "nowhere")])
    write_run(tmp_path / "other", {"c": {4096: 1}})
    with pytest.raises(HarnessError, match="category 'a' has no score in run.s. other"):
        score_table([*runs[:2], *runs_from_paths([str(tmp_path / "other")])], ["a", "b"])
    with pytest.raises(HarnessError, match="not a sweep directory"):
        runs_from_sweep(tmp_path)


# -- a sweep's runs ----------------------------------------------------------------------------------------------

def test_a_sweep_gives_every_finished_replicate_as_a_run(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    scores = {"control": (1, 9), "needles/0": (2, 8), "needles/1": (3, 7), "long/0": (4, 6)}
    paths = {key: write_run(root / "stages" / key.replace("/", "-") / "eval", {"a": {1024: a}, "b": {1024: b}}) / "results.json"
             for key, (a, b) in scores.items()}

    def replicate(k: int, key: str | None, error: str | None = None) -> dict[str, Any]:
        return {"replicate": k, "seed": k, "status": "done" if key else "failed", "error": error,
                "results": str(paths[key]) if key else None, "stages": []}

    variants = {"control": {"kind": "none", "status": "done", "replicates": [replicate(0, "control")]},
                "needles": {"kind": "synth", "status": "done", "replicates": [replicate(0, "needles/0"), replicate(1, "needles/1")]},
                "long": {"kind": "synth", "status": "partial",
                         "replicates": [replicate(0, "long/0"), replicate(1, None, "out of memory")]},
                "old": {"kind": "data", "status": "done", "results": str(paths["control"].relative_to(root))}}
    (root / "sweep.json").write_text(json.dumps({"version": 1, "variants": variants}))
    runs, skipped = runs_from_sweep(root)
    assert [r.name for r in runs] == ["control", "needles/r0", "needles/r1", "long/r0", "old"]
    assert runs[-1].path == paths["control"]  # a relative results path is read from the sweep's root
    assert skipped == ["long/r1: out of memory"]
    with pytest.raises(HarnessError, match="given twice"):  # `old` points at control's results
        score_table(runs, ["a", "b"])
    record = correlate(score_table(runs[:-1], ["a", "b"], skipped=skipped), sweep=root, skipped=skipped)
    assert rho(record, "a", "b") == -1.0 and record.sweep == str(root)
    text = correlation_table(record)
    assert "left out: long/r1: out of memory" in text and "variant/rK: replicate K" in text


# -- the record and the command ----------------------------------------------------------------------------------

def test_the_record_reads_back_and_refuses_a_newer_version(tmp_path: Path) -> None:
    record = record_of(tmp_path, {"a": [1, 2, 3], "b": [1, 3, 2]})
    record.write(tmp_path / "corr.json")
    assert CorrelationRecord.read(tmp_path / "corr.json") == record
    newer = {**json.loads((tmp_path / "corr.json").read_text()), "version": CORRELATION.version + 1}
    (tmp_path / "corr.json").write_text(json.dumps(newer))
    with pytest.raises(RecordVersionError, match="a correlation report of version 2, written by a newer lc-harness"):
        CorrelationRecord.read(tmp_path / "corr.json")


def test_the_command_end_to_end(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    runs = runs_of(tmp_path, {"ruler": [90, 80, 70, 60], "helmet_rag": [30, 35, 10, 20], "helmet_icl": [5, 5, 5, 5]})
    out = tmp_path / "report"
    argv = ["report", "correlation", *[str(r.path.parent) for r in runs], "--categories", "helmet_rag,helmet_icl",
            "--output", str(out / "corr.json"), "--plot", str(out / "corr.svg")]
    code, stdout, stderr = run_cli(argv, capfd)
    assert code == 0, stderr
    assert "ruler (the reference) vs each category:" in stdout and "undefined" in stdout and f"-> {out / 'corr.json'}" in stdout
    record = CorrelationRecord.read(out / "corr.json")
    assert record.reference == "ruler" and record.categories == ["helmet_rag", "helmet_icl"] and len(record.runs) == 4
    assert rho(record, "ruler", "helmet_rag") == 0.6  # ranks 4,3,2,1 and 3,4,1,2: 1 - 6*4 / (4*15)
    svg = (out / "corr.svg").read_bytes()
    assert b"<svg" in svg and b"<dc:date>" not in svg
    code, _, stderr = run_cli([*argv[:-1], str(out / "again.svg")], capfd)
    assert code == 0, stderr
    assert (out / "again.svg").read_bytes() == svg  # the same runs draw the same bytes
    for name in ("corr.png", "again.png"):
        code, _, stderr = run_cli([*argv[:-2], "--plot", str(out / name)], capfd)
        assert code == 0, stderr
    assert (out / "corr.png").read_bytes()[:4] == b"\x89PNG" and (out / "corr.png").read_bytes() == (out / "again.png").read_bytes()
    code, _, stderr = run_cli(["report", "correlation", str(runs[0].path.parent)], capfd)
    assert code == 2 and stderr.startswith("error: 1 run(s) given")
