"""Needle heatmaps reach the board for every needle task, whichever meta layout its samples carry."""

import pytest

from harness.leaderboards.collect import build, load_run
from harness.leaderboards.config import parse_board
from harness.leaderboards.page import page
from harness.runner import EvalConfig, evaluate
from harness.tasks.niah.heatmap import needle_depth
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
def test_one_reader_for_both_layouts(meta, depth) -> None:
    assert needle_depth(meta) == depth


def test_a_board_over_classic_and_ruler_needles_draws_each_heatmap(tokenizer, shared_data, tmp_path) -> None:
    """Real samples (the writers' own meta) through results.json and samples/ into the board."""
    needle_tasks = ["niah", "niah_multi", "niah_single_1", "niah_multikey_2"]
    config = EvalConfig(model="scripted", tasks=needle_tasks, lengths=[1024, 2048], limit=3, data_dir=str(shared_data),
                        task_args={"depths": [0, 50, 100]})
    out = tmp_path / "run"
    evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "nothing"), out, None)
    run = load_run("control", out / "results.json")
    drawn = {task for task, _, _ in run.depth_scores}
    assert drawn == set(needle_tasks)
    assert sorted({d for t, _, d in run.depth_scores if t == "niah"}) == [0.0, 50.0, 100.0]
    board = build(parse_board({"name": "needles", "sweep": "x", "baseline": "control",
                               "columns": [{"task": t} for t in needle_tasks]}, "board.yaml"), [run], {})
    html = page(board)
    assert html.count('data-plot="heatmap"') == len(needle_tasks)
    for task in needle_tasks:
        assert f"control: {task} by needle depth and length" in html
