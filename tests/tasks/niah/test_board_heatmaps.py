"""One heatmap builder for the NIAH report and the boards: every needle task's heatmap reaches the board,
classic `niah` included, read from the samples' typed needle depths."""

import json

import pytest

from harness.core.types import NeedleDepths, Sample
from harness.leaderboards.collect import build, load_run
from harness.leaderboards.config import parse_board
from harness.leaderboards.page import page
from harness.runner import EvalConfig, evaluate
from harness.tasks.niah.heatmap import heatmap_depth, needle_depth, needle_grid
from tests.fakes import ScriptedBackend


@pytest.mark.parametrize(("meta", "depth"), [
    ({"depth": 0.0, "needle_depths": [0.0, 50.0]}, 0.0),  # classic niah: its grid point, zero included
    ({"depth": 37.5}, 37.5),  # grid points are kept exactly (no binning)
    ({"depths": [33, 71]}, 30.0),  # RULER: the first needle, to the nearest 10
    ({"depths": [96.4]}, 100.0),
    ({"depths": []}, None),
    ({"depth": None}, None),
    ({"subject": "anatomy"}, None),
    ({}, None),
])
def test_one_reader_for_both_persisted_layouts(meta, depth) -> None:
    assert needle_depth(meta) == depth


def test_typed_depths_round_trip_through_the_persisted_layouts() -> None:
    """The typed field is written under the keys each generator always wrote, and read back."""
    grid = Sample("a", "niah", 1024, 0, "p", needle_depths=NeedleDepths((25.0, 62.5), grid=True))
    drawn = Sample("b", "niah_single_2", 1024, 0, "p", needle_depths=NeedleDepths((33, 71)))
    assert grid.to_dict()["meta"] == {"depth": 25.0, "needle_depths": [25.0, 62.5]}
    assert drawn.to_dict()["meta"] == {"depths": [33, 71]}
    for sample in (grid, drawn):
        assert Sample.from_dict(json.loads(json.dumps(sample.to_dict()))) == sample
    assert heatmap_depth(grid.needle_depths) == 25.0 and heatmap_depth(drawn.needle_depths) == 30.0


def test_a_typed_field_cannot_hide_in_meta() -> None:
    with pytest.raises(ValueError, match="depths"):
        Sample("a", "t", 1, 0, "p", meta={"depths": [1]})


def test_the_builder_means_each_cell() -> None:
    points = [(NeedleDepths((0.0,), grid=True), 1024, 100.0), (NeedleDepths((0.0,), grid=True), 1024, 0.0),
              (NeedleDepths((48,)), 2048, 100.0), (None, 1024, 100.0)]
    grid = needle_grid(points)
    assert (grid.depths, grid.lengths, grid.means) == ([0.0, 50.0], [1024, 2048], [[50.0, None], [None, 100.0]])


@pytest.mark.slow
def test_a_board_over_classic_and_ruler_needles_draws_each_heatmap(tokenizer, shared_data, tmp_path) -> None:
    """Real samples (the writers' own fields) through results.json and samples/ into the board; the board's
    classic-niah grid is the one the NIAH report wrote into results.json."""
    needle_tasks = ["niah", "niah_multi", "niah_single_1", "niah_multikey_2"]
    config = EvalConfig(model="scripted", tasks=needle_tasks, lengths=[1024, 2048], limit=3, data_dir=str(shared_data),
                        task_args={"depths": [0, 50, 100]})
    out = tmp_path / "run"
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "nothing"), out, None)
    run = load_run("control", out / "results.json")
    assert set(run.heatmaps) == set(needle_tasks)
    assert run.heatmaps["niah"].depths == [0.0, 50.0, 100.0]
    assert run.heatmaps["niah"].to_dict() == result.extra["reports"]["niah"]["grid"]
    board = build(parse_board({"name": "needles", "sweep": "x", "baseline": "control",
                               "columns": [{"task": t} for t in needle_tasks]}, "board.yaml"), [run], {})
    html = page(board)
    assert html.count('data-plot="heatmap"') == len(needle_tasks)
    for task in needle_tasks:
        assert f"control: {task} by needle depth and length" in html
