"""Boards from runs with known per-sample scores: cells, intervals, paired marks, renderings, the page."""

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.types import NeedleDepths
from harness.leaderboards.collect import Run, build
from harness.leaderboards.config import parse_board
from harness.leaderboards.page import page
from harness.leaderboards.render import baseline_json, markdown, terminal, to_csv
from harness.tasks.niah.heatmap import needle_grid

EVIL = '<script>alert("x")</script>'


def run(variant: str, right: dict[int, int], n: int = 30) -> Run:
    """A niah_single_1 run: `right[length]` of `n` samples scored 100, with needle depths."""
    samples, points, results = {}, [], {}
    for length, correct in right.items():
        scores = {f"s{length}-{i}": (100.0 if i < correct else 0.0) for i in range(n)}
        samples[("niah_single_1", length)] = scores
        points += [(NeedleDepths((10 * (i % 3),)), length, score) for i, score in enumerate(scores.values())]
        results[str(length)] = {"score": 100.0 * correct / n, "n": n, "stderr": 1.0}
    return Run(variant, {"results": {"niah_single_1": results}, "groups": {}}, samples, {"data": {"note": EVIL}},
               {"niah_single_1": needle_grid(points)})


def board(columns=None, baseline="control"):
    config = parse_board({"name": f"demo {EVIL}", "sweep": "x", "baseline": baseline,
                          "columns": columns or [{"task": "niah_single_1", "avg": True}, {"delta": "niah_single_1"}]}, "board.yaml")
    runs = [run("control", {512: 25, 1024: 5}), run("better", {512: 25, 1024: 20}), run(EVIL, {512: 24, 1024: 5})]
    return build(config, runs, {"broken": "train failed: out of memory"})


def test_cells_carry_intervals_and_paired_marks() -> None:
    built = board()
    assert [c.label for c in built.columns] == ["niah_single_1 512", "niah_single_1 1k", "niah_single_1 avg", "niah_single_1 Δ"]
    better = built.cells[("better", "niah_single_1@1024")]
    assert better.score == pytest.approx(66.667, abs=1e-3) and better.low < better.score < better.high
    assert better.test == "mcnemar-exact" and better.p_value < 0.001 and better.diff == pytest.approx(50.0)
    noise = built.cells[(EVIL, "niah_single_1@512")]
    assert noise.p_value == 1.0  # one sample flipped
    assert built.cells[("better", "niah_single_1:delta")].score == pytest.approx(25.0)
    text = terminal(built)
    assert "66.7▲" in text and "83.3 " in text and "broken: failed (train failed: out of memory)" in text
    assert "| better " in markdown(built)
    rows = list(csv.DictReader(io.StringIO(to_csv(built))))
    assert {r["variant"] for r in rows} == {"control", "better", EVIL} and len(rows) == 12
    cell = next(r for r in rows if r["variant"] == "better" and r["column"] == "niah_single_1 1k")
    assert float(cell["p_value"]) < 0.001 and cell["test"] == "mcnemar-exact"
    assert float(cell["p_value"]) * 8 == pytest.approx(float(cell["p_adjusted"]), rel=1e-3)  # Holm over 8 tests, the smallest p
    assert "MDE " in text and "correction holm" in text and "m = 8 tests" in text
    snapshot = json.loads(baseline_json(built))
    assert snapshot["rows"]["control"]["cells"][0]["samples"]["s512-0"] == 100.0


def test_bad_boards_are_named() -> None:
    with pytest.raises(HarnessError, match="baseline 'nobody' is not a finished variant"):
        board(baseline="nobody")
    with pytest.raises(HarnessError, match=r"columns\[0\]: give exactly one of task, group, delta or stat"):
        parse_board({"name": "b", "sweep": "x", "columns": [{"task": "a", "group": "b"}]}, "board.yaml")
    with pytest.raises(HarnessError, match="unknown field 'colums'"):
        parse_board({"name": "b", "sweep": "x", "colums": []}, "board.yaml")


def test_the_page_escapes_every_user_string() -> None:
    html = page(board())
    assert EVIL not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count('data-plot="curve"') == 1 and html.count('data-plot="heatmap"') == 3
    assert html.count("<script>") == 1  # the page's own sort script only


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("needs Chromium: apt-get install chromium (CI installs it)")
    pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -e '.[dev]')")
    return path


def test_the_page_in_headless_chromium(tmp_path: Path) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    (tmp_path / "index.html").write_text(page(board()))
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        tab = browser.new_page()
        tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
        tab.goto((tmp_path / "index.html").as_uri())
        first_column = lambda: tab.eval_on_selector_all("#board tbody tr", "rows => rows.map(r => r.cells[0].textContent)")  # noqa: E731
        assert first_column() == ["control", "better", EVIL]
        tab.click("#board th:nth-child(3)")  # niah_single_1 1k, ascending
        assert first_column()[-1] == "better"
        tab.click("#board th:nth-child(3)")  # descending
        assert first_column()[0] == "better"
        tab.click("#board th:nth-child(1)")  # by name
        assert first_column() == sorted(first_column())
        mde_row = tab.eval_on_selector_all("#board tfoot tr", "rows => rows.map(r => Array.from(r.cells, c => c.textContent))")
        assert mde_row == [["MDE", "35.7", "35.7", "18.4", "18.4"]]  # below the sorted rows, never among them
        tip = tab.get_attribute("#board tbody tr:has(td[data-value=better]) td:nth-child(3)", "title")
        assert tip is not None and "adjusted p=" in tip and "MDE 35.7" in tip and "95% CI [48.8, 80.8] wilson" in tip
        assert tab.locator("figure[data-plot=curve] svg").count() == 1
        assert tab.locator("figure[data-plot=heatmap] svg").count() == 3
        assert tab.title() == f"demo {EVIL}"  # shown as text, not run
        browser.close()
    assert problems == []


def test_the_template_escapes_as_html_escape_does() -> None:
    """The page is a jinja2 template with autoescape; its escaping stays `html.escape`'s (`'` as `&#x27;`, where
    markupsafe writes `&#39;`), so a page renders byte for byte as before for the same board."""
    from html import escape

    name = """it's "x" & <y>"""
    built = build(parse_board({"name": name, "sweep": name, "baseline": "control", "columns": [{"task": "niah_single_1"}]},
                              "board.yaml"), [run("control", {512: 25}), run(name, {512: 20})], {})
    html = page(built)
    assert name not in html and "&#39;" not in html
    assert f"<title>{escape(name)}</title>" in html and f"<code>{escape(name)}</code>" in html
    assert f'<tr><td data-value="{escape(name)}">{escape(name)}</td>' in html and f"<summary>{escape(name)}</summary>" in html
    assert html.startswith('<!doctype html><html lang="en"><head>') and html.endswith("</script></body></html>\n")


def test_the_page_is_the_same_bytes_every_time() -> None:
    """The plots carry no date and their SVG ids come from a fixed salt, so a board rebuilt from the same runs is
    the same file (a page can be compared by hash)."""
    first = page(board())
    assert "<svg" in first and "dc:date" not in first
    assert page(board()) == first
