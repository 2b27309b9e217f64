"""Names matplotlib would read as mathtext are drawn as written; a board's files are written all or none."""

import os
from pathlib import Path

import pytest

import harness.leaderboards.write as write
from harness.core.errors import HarnessError
from harness.core.types import NeedleDepths
from harness.leaderboards.collect import Board, Run, build
from harness.leaderboards.config import parse_board
from harness.leaderboards.page import page, plain
from harness.leaderboards.write import BOARD_FILES, write_board
from harness.tasks.niah.heatmap import needle_grid

# Each would be parsed as mathtext: drawn as math, or (the last three) failing the whole page.
MATH_NAMES = ["$x$", "cost $5 vs $6", r"$\frac{$", "$$", r"$\bad{$ and $", r"a\$b$", "_underscore"]
TASK = "needle$_{1}$"  # task names reach the plots too (titles)


def _run(variant: str, task: str = TASK, n: int = 6) -> Run:
    samples = {(task, length): {f"{variant}-{length}-{i}": float(100 * (i % 2)) for i in range(n)} for length in (512, 1024)}
    points = [(NeedleDepths((float(d),), grid=True), length, score) for length in (512, 1024) for d in (0, 50)
              for score in (100.0, 0.0)]
    results = {"results": {task: {str(length): {"score": 50.0, "n": n, "stderr": 1.0} for length in (512, 1024)}}, "groups": {}}
    return Run(variant, results, samples, {}, {task: needle_grid(points)})


def _board(variants: list[str], task: str = TASK) -> Board:
    config = parse_board({"name": "math", "sweep": "x", "baseline": variants[0], "columns": [{"task": task}]}, "board.yaml")
    return build(config, [_run(v, task) for v in variants], {})


@pytest.mark.parametrize("name", MATH_NAMES)
def test_names_are_drawn_as_written(name: str) -> None:
    html = page(_board(["control", name]))
    assert html.count('data-plot="curve"') == 1 and html.count('data-plot="heatmap"') == 2
    # matplotlib's SVG keeps each drawn string as a comment: the literal names, not math
    drawn = html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert f"<!-- {name} -->" in drawn  # the legend
    assert f"<!-- {name}: {TASK} -->" in drawn  # its heatmap's title
    assert f"<!-- {TASK} -->" in drawn  # the curve's title
    assert "Oblique" not in html  # no glyph in mathtext's italic: nothing was drawn as math


def test_plain_is_exact_for_every_dollar() -> None:
    """matplotlib draws plain(s) as s: no even count of unescaped $ is left, and `\\$` maps back to `$`."""
    from matplotlib import cbook

    for name in [*MATH_NAMES, "$", "\\", "\\$$\\$", "no dollars"]:
        escaped = plain(name)
        assert not cbook.is_math_text(escaped)
        assert escaped.replace(r"\$", "$") == name


def _old_board(out: Path) -> dict[str, str]:
    out.mkdir(parents=True)
    old = {name: f"old {name}" for name in BOARD_FILES}
    for name, text in old.items():
        (out / name).write_text(text)
    (out / "notes.txt").write_text("mine")  # a file of the user's: never touched
    return {**old, "notes.txt": "mine"}


def _contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def test_a_new_board_is_written_whole_and_leaves_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "boards" / "math"
    paths = write_board(_board(["control", "$x$"]), out)
    assert [p.name for p in paths] == list(BOARD_FILES) and sorted(os.listdir(out)) == sorted(BOARD_FILES)
    assert os.listdir(tmp_path / "boards") == ["math"]
    old = _old_board(tmp_path / "again")
    write_board(_board(["control", "better"]), tmp_path / "again")
    now = _contents(tmp_path / "again")
    assert now["notes.txt"] == "mine" and all(now[n] != old[n] for n in BOARD_FILES) and "better" in now["board.md"]


def test_a_rendering_that_fails_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(board: Board) -> str:
        raise ValueError("matplotlib could not draw it")

    monkeypatch.setattr(write, "page", broken)
    with pytest.raises(ValueError):
        write_board(_board(["control"]), tmp_path / "new")
    assert os.listdir(tmp_path) == []
    old = _old_board(tmp_path / "old")
    with pytest.raises(ValueError):
        write_board(_board(["control"]), tmp_path / "old")
    assert _contents(tmp_path / "old") == old and os.listdir(tmp_path) == ["old"]


@pytest.mark.parametrize("failing", BOARD_FILES)
def test_a_write_that_fails_midway_keeps_the_old_board(failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.write_text

    def write_text(self: Path, text: str, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
        if self.name == failing:
            raise OSError(28, "No space left on device")
        return real(self, text, *args, **kwargs)

    old = _old_board(tmp_path / "board")
    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(HarnessError, match=r"board: writing the board failed \(No space left on device\); the files there are unchanged"):
        write_board(_board(["control", "better"]), tmp_path / "board")
    with pytest.raises(HarnessError, match="writing the board failed"):
        write_board(_board(["control", "better"]), tmp_path / "fresh")
    monkeypatch.undo()
    assert _contents(tmp_path / "board") == old
    assert os.listdir(tmp_path) == ["board"]  # no half-written new board, no staging folder


def test_an_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(HarnessError, match="taken: is a file, not a directory"):
        write_board(_board(["control"]), tmp_path / "taken")
    assert (tmp_path / "taken").read_text() == "x"
