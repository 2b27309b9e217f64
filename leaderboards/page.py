"""The static HTML page of a board: a sortable table (scores with their intervals and p-values on
hover, ▲/▼ for significant differences), per-length score curves per variant, needle heatmaps
(depth x length) per variant, and each row's data, training and evaluation manifests. One file,
no network: plots are inline SVG drawn with matplotlib; every user-supplied string is escaped, for
HTML (`html.escape`) and for matplotlib (`plain`: no mathtext)."""

from __future__ import annotations

import io
import json
from html import escape
from typing import Any

from harness.core.lengths import format_length
from harness.leaderboards.collect import Board, Cell
from harness.leaderboards.render import footer, mark

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th{cursor:pointer;background:#f3f3f3;user-select:none}th:first-child,td:first-child{text-align:left}
th[aria-sort=ascending]::after{content:" ↑"}th[aria-sort=descending]::after{content:" ↓"}
.up{color:#087f23}.down{color:#b00020}figure{display:inline-block;margin:.5rem}pre{background:#f7f7f7;padding:.5rem;overflow:auto}
"""

SORT_SCRIPT = """
document.querySelectorAll('#board th').forEach(function (th, index) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (other) { other.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
      var order = (th.dataset.type === 'num') ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def plain(text: str) -> str:
    """`text` for matplotlib to draw as written. Matplotlib parses text between two `$` as mathtext:
    a variant named `$x$` would be drawn as math and one named `$\\frac{$` would fail the whole page.
    Escaping every `$` turns that off exactly (matplotlib shows `\\$` as `$`, and `\\\\$` as `\\$`)."""
    return text.replace("$", r"\$")


def _svg(figure: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: the SVG is inline


def _cell_html(cell: Cell | None, alpha: float, delta: bool) -> str:
    if cell is None or cell.score is None:
        return '<td data-value="-Infinity">-</td>'
    value = f"{cell.score:+.1f}" if delta else f"{cell.score:.1f}"
    tip = [f"n={cell.n}"]
    if cell.low is not None and cell.high is not None:
        tip.append(f"95% CI [{cell.low:.1f}, {cell.high:.1f}]")
    if cell.p_value is not None:
        tip.append(f"vs baseline {cell.diff:+.1f}, p={cell.p_value:.3g} ({cell.test})")
    sign = mark(cell, alpha)
    css = ' class="up"' if sign == "▲" else ' class="down"' if sign == "▼" else ""
    return f'<td data-value="{cell.score!r}"{css} title="{escape("; ".join(tip))}">{escape(value + sign)}</td>'


def table_html(board: Board) -> str:
    head = '<th data-type="text">variant</th>' + "".join(f'<th data-type="num">{escape(c.label)}</th>' for c in board.columns)
    body = []
    for run in board.runs:
        cells = "".join(_cell_html(board.cells.get((run.variant, c.id)), board.config.alpha, c.kind == "delta") for c in board.columns)
        body.append(f'<tr><td data-value="{escape(run.variant)}">{escape(run.variant)}</td>{cells}</tr>')
    return f'<table id="board"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def curves(board: Board) -> list[tuple[str, str]]:
    """(caption, svg) per task or group with more than one length column: score against length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = []
    sources = list(dict.fromkeys(c.source for c in board.columns if c.kind == "length"))
    for source in sources:
        columns = [c for c in board.columns if c.kind == "length" and c.source == source]
        if len(columns) < 2:
            continue
        figure, axis = plt.subplots(figsize=(5, 3.2))
        ticks = [c.length or 0 for c in columns]
        handles, labels = [], []
        for run in board.runs:
            shown = [(c.length or 0, cell.score, cell.low, cell.high) for c in columns
                     if (cell := board.cells.get((run.variant, c.id))) is not None and cell.score is not None]
            if not shown:
                continue
            below = [score - (low if low is not None else score) for _, score, low, _ in shown]
            above = [(high if high is not None else score) - score for _, score, _, high in shown]
            handles.append(axis.errorbar([n for n, *_ in shown], [score for _, score, *_ in shown], yerr=[below, above],
                                         marker="o", capsize=3))
            labels.append(plain(run.variant))
        axis.set_xscale("log", base=2)
        axis.set_xticks(ticks, [format_length(n) for n in ticks])
        axis.set_xlabel("context length (tokens)")
        axis.set_ylabel("score")
        axis.set_title(plain(source))
        axis.legend(handles, labels, fontsize=8)  # given, not by label=: a name starting "_" would be left out
        plots.append((f"{source}: score by context length (95% bootstrap intervals)", _svg(figure)))
    return plots


def heatmaps(board: Board) -> list[tuple[str, str]]:
    """(caption, svg) per variant and needle task of the board: mean score by needle depth x length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = {c.source for c in board.columns}
    plots = []
    for run in board.runs:
        for task in sorted({t for t, _, _ in run.depth_scores if t in tasks}):
            keys = [(n, d) for t, n, d in run.depth_scores if t == task]
            lengths = sorted({n for n, _ in keys})
            depths = sorted({d for _, d in keys})
            grid = [[sum(v) / len(v) if (v := run.depth_scores.get((task, n, d))) else float("nan") for n in lengths] for d in depths]
            figure, axis = plt.subplots(figsize=(1.2 + 0.7 * len(lengths), 1.2 + 0.25 * len(depths)))
            image = axis.imshow(grid, aspect="auto", cmap="RdYlGn", vmin=0, vmax=100)
            axis.set_xticks(range(len(lengths)), [format_length(n) for n in lengths])
            axis.set_yticks(range(len(depths)), [f"{d:.0f}%" for d in depths])
            axis.set_xlabel("context length")
            axis.set_ylabel("needle depth")
            axis.set_title(plain(f"{run.variant}: {task}"), fontsize=9)
            figure.colorbar(image, ax=axis)
            plots.append((f"{run.variant}: {task} by needle depth and length", _svg(figure)))
    return plots


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def page(board: Board) -> str:
    """The whole page."""
    config = board.config
    figures = "".join(f'<figure data-plot="curve">{svg}<figcaption>{escape(caption)}</figcaption></figure>' for caption, svg in curves(board))
    maps = "".join(f'<figure data-plot="heatmap">{svg}<figcaption>{escape(caption)}</figcaption></figure>' for caption, svg in heatmaps(board))
    manifests = "".join(f"<details><summary>{escape(run.variant)}</summary><pre>{escape(_json(run.manifest))}</pre></details>"
                        for run in board.runs)
    notes = "".join(f"<p>{escape(line)}</p>" for line in footer(board))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f"<title>{escape(config.name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(config.name)}</h1><p>sweep <code>{escape(str(config.sweep))}</code>; baseline "
        f"<code>{escape(str(config.baseline))}</code>; hover a score for its interval and test; click a header to sort.</p>"
        f"{table_html(board)}{notes}<h2>Scores by context length</h2>{figures or '<p>one length per column: no curves</p>'}"
        f"<h2>Needle heatmaps</h2>{maps or '<p>no needle task with depths on this board</p>'}"
        f"<h2>What made each row</h2>{manifests}<script>{SORT_SCRIPT}</script></body></html>\n"
    )
