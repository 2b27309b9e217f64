"""The static HTML page of a board: a sortable table (scores with their intervals, replicates, training-seed
SD, raw and adjusted p-values and MDE on hover, ▲/▼ for differences significant after the board's correction,
an MDE row below), per-length score curves per variant, needle heatmaps
(depth x length) per variant, and each row's data, training and evaluation manifests. One file,
no network: the page is the jinja2 template `templates/board.html.j2`, plots are inline SVG drawn
with matplotlib; every user-supplied string is escaped, for HTML (the template's autoescape, through
`html.escape` as before) and for matplotlib (`plain`: no mathtext)."""

from __future__ import annotations

import functools
import html
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.lengths import format_length
from harness.leaderboards.collect import Board, Cell
from harness.leaderboards.render import CORRECTIONS, column_mde, footer, interval_text, mark, mde_text

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


def plain(text: str) -> str:
    """`text` for matplotlib to draw as written. Matplotlib parses text between two `$` as mathtext:
    a variant named `$x$` would be drawn as math and one named `$\\frac{$` would fail the whole page.
    Escaping every `$` turns that off exactly (matplotlib shows `\\$` as `$`, and `\\\\$` as `\\$`)."""
    return text.replace("$", r"\$")


def _svg(figure: Any) -> str:
    """The figure as inline SVG, the same bytes for the same figure: no date, element ids from a fixed salt."""
    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "lc-harness"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: the SVG is inline


def _cell(cell: Cell | None, alpha: float, delta: bool) -> dict[str, str] | None:
    """One score cell for the template: sort value, css class, hover text and shown text; None: no score."""
    if cell is None or cell.score is None:
        return None
    value = f"{cell.score:+.1f}" if delta else f"{cell.score:.1f}"
    tip = [f"n={cell.n}", f"replicates={cell.replicates}"]
    interval = interval_text(cell)
    if interval != "-":
        tip.append(f"95% CI {interval}")
    if cell.train_sd is not None:
        tip.append(f"training-seed SD {cell.train_sd:.1f}")
    if cell.p_value is not None:
        tip.append(f"vs baseline {cell.diff:+.1f}, p={cell.p_value:.3g}, adjusted p={cell.p_adjusted:.3g} ({cell.test})")
    if cell.mde is not None:
        tip.append(f"MDE {mde_text(cell.mde)}")
    sign = mark(cell, alpha)
    css = "up" if sign == "▲" else "down" if sign == "▼" else ""
    spread = f" ±{cell.train_sd:.1f}" if cell.train_sd is not None else ""
    return {"value": repr(cell.score), "css": css, "tip": "; ".join(tip), "text": value + sign + spread}


def _rows(board: Board) -> list[dict[str, Any]]:
    return [{"variant": run.variant,
             "cells": [_cell(board.cells.get((run.variant, c.id)), board.config.alpha, c.kind == "delta") for c in board.columns]}
            for run in board.runs]


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
            # clipped at 0: a score from results.json may sit a rounding error outside its samples' interval
            below = [max(0.0, score - (low if low is not None else score)) for _, score, low, _ in shown]
            above = [max(0.0, (high if high is not None else score) - score) for _, score, _, high in shown]
            handles.append(axis.errorbar([n for n, *_ in shown], [score for _, score, *_ in shown], yerr=[below, above],
                                         marker="o", capsize=3))
            labels.append(plain(run.variant))
        axis.set_xscale("log", base=2)
        axis.set_xticks(ticks, [format_length(n) for n in ticks])
        axis.set_xlabel("context length (tokens)")
        axis.set_ylabel("score")
        axis.set_title(plain(source))
        axis.legend(handles, labels, fontsize=8)  # given, not by label=: a name starting "_" would be left out
        plots.append((f"{source}: score by context length (95% intervals: Wilson or bootstrap, see the table)", _svg(figure)))
    return plots


def heatmaps(board: Board) -> list[tuple[str, str]]:
    """(caption, svg) per variant and needle task of the board: mean score by needle depth x length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = {c.source for c in board.columns}
    plots = []
    for run in board.runs:
        for task in sorted(t for t in run.heatmaps if t in tasks):
            heatmap = run.heatmaps[task]  # built by the NIAH report's builder (harness.tasks.niah.heatmap)
            lengths, depths = heatmap.lengths, heatmap.depths
            grid = [[float("nan") if v is None else v for v in row] for row in heatmap.means]
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


def _escaped(value: Any) -> Any:
    """The template's autoescape, with the escaping the page always had (`html.escape`: `'` is `&#x27;`,
    where markupsafe writes `&#39;`). Markup (the SVG plots) passes as it is."""
    from markupsafe import Markup

    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


@functools.cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, finalize=_escaped,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.get_template("board.html.j2")


def page(board: Board) -> str:
    """The whole page."""
    from markupsafe import Markup

    config = board.config
    return _template().render(
        name=config.name, sweep=str(config.sweep), baseline=str(config.baseline),
        correction=f"{config.correction}: {CORRECTIONS[config.correction]}", alpha=str(config.alpha),
        columns=[c.label for c in board.columns], rows=_rows(board), notes=footer(board),
        mde=[mde_text(column_mde(board, c)) for c in board.columns] if board.tests else None,
        curves=[(caption, Markup(svg)) for caption, svg in curves(board)],
        heatmaps=[(caption, Markup(svg)) for caption, svg in heatmaps(board)],
        manifests=[(run.variant, _json(run.manifest)) for run in board.runs])
