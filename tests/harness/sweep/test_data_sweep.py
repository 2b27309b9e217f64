"""A sweep without eval: variants only synthesized, one synthesis per replicate (its own seed), and a board of
their statistics (stat columns: mean over replicates, t interval, Welch's t against the baseline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import HarnessError
from harness.leaderboards.collect import collect
from harness.leaderboards.config import parse_board
from harness.leaderboards.render import markdown, terminal
from harness.sweep import run_sweep
from harness.sweep.config import parse_sweep
from harness.sweep.stages import plan_sweep

SHORT = {"plugin": "needles", "config": {"tokenizer": "tiny-random", "examples": 6, "lengths": [256]}}
LONG = {"plugin": "needles", "config": {"tokenizer": "tiny-random", "examples": 6, "lengths": [512]}}
DATA = {"name": "data", "base_model": "tiny-random", "replicates": 3,
        "variants": [{"name": "short", "synth": SHORT}, {"name": "long", "synth": LONG}]}


def test_each_replicate_is_one_synthesis_with_its_own_seed() -> None:
    config = parse_sweep(DATA, "data.yaml")
    assert config.measures_data
    chains = plan_sweep(config, list(config.variants))
    assert sorted(chains) == sorted((v, k) for k in range(3) for v in ("long", "short"))
    for (_variant, replicate), stages in chains.items():
        assert [s.kind for s in stages] == ["synth"]
        assert stages[0].params.get("seed", 0) == replicate  # replicate 0 keeps the params it has without replicates
    assert config.seeds(config.variants[0], 2) == (None, 2)


@pytest.mark.parametrize(("top", "message"), [
    ({"train": {"stages": "256:2"}}, r"'eval' is required to train"),
    ({"variants": [{"name": "c", "kind": "none"}, {"name": "s", "synth": SHORT}]}, r"variant 'c': a sweep without eval"),
    ({"replicate_synth": False}, r"replicate_synth: false: a sweep without eval replicates its syntheses"),
    ({"variants": [{"name": "s", "synth": SHORT, "train": {"stages": "256:2"}}]}, r"'eval' is required to train"),
])
def test_bad_data_sweeps_name_the_file_and_the_field(top: dict[str, Any], message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        parse_sweep({**DATA, **top}, "data.yaml")


BOARD = {"name": "data", "sweep": "SWEEP", "baseline": "short",
         "columns": [{"stat": "words_per_record.mean", "label": "words"},
                     {"stat": "distinct_2_instruction", "scale": 100, "label": "distinct-2 %"}]}


def test_a_data_sweep_runs_its_syntheses_and_its_board_compares_their_statistics(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    summary = run_sweep(parse_sweep(DATA, "data.yaml"), root)
    assert all(v["status"] == "done" for v in summary["variants"].values())
    board = collect(parse_board({**BOARD, "sweep": str(root)}, "board.yaml"))
    words = board.cells[("long", "stat:words_per_record.mean")]
    short = board.cells[("short", "stat:words_per_record.mean")]
    assert words.replicates == short.replicates == 3 and words.n == 3
    assert words.score > 2 * short.score and words.low < words.score < words.high  # 512-token drills are longer
    assert words.test is not None and words.test.startswith("Welch") and words.p_value < 0.05
    assert short.diff is None and board.tests == 1  # the baseline is not tested against itself
    distinct = board.cells[("long", "stat:distinct_2_instruction")]  # one template: the same share for every seed
    assert 0 < distinct.score <= 100 and distinct.train_sd == 0 and distinct.test is None  # no spread: no test
    text = terminal(board)
    assert "words" in text and "distinct-2 %" in text and "Welch's t over the replicates' values" in text
    assert "synthesis seeds" in markdown(board)
    again = run_sweep(parse_sweep(DATA, "data.yaml"), root)  # a rerun computes nothing
    assert all(s["cached"] for v in again["variants"].values() for r in v["replicates"] for s in r["stages"])


@pytest.mark.parametrize(("columns", "message"), [
    ([{"stat": "records"}, {"task": "niah_single_1"}], "stat columns .* and score columns .* cannot share a board"),
    ([{"stat": "a..b"}], r"stat = 'a..b': expected a dotted path"),
    ([{"stat": "records", "scale": 0}], r"scale = 0: expected a positive number"),
    ([{"stat": "records", "avg": True}], r"a stat column has no lengths"),
    ([{"task": "niah_single_1", "scale": 100}], r"'scale' is for stat columns only"),
])
def test_bad_stat_columns_name_the_field(columns: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        parse_board({**BOARD, "columns": columns}, "board.yaml")
