"""The NIAH grid: mean score per (depth, length), into results.json and a heatmap PNG.

Drawn like the reference (Depth Percent on y, Token Limit on x, red -> yellow -> green).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.core.lengths import format_length
from harness.core.types import ScoredSample

COLORS = ["#F0496E", "#EBB839", "#0CD79F"]  # the reference notebook's red, yellow, green


def needle_depth(meta: dict[str, Any], bin_size: float = 10.0) -> float | None:
    """The depth (0-100) a heatmap draws a sample at, whichever needle generator wrote `meta`.

    The classic niah writes `depth`, a point of its grid, kept exactly; RULER's niah tasks write
    `depths`, one per needle drawn at random: the first needle's, to the nearest `bin_size`.
    None when the sample has no needle depth.
    """
    if meta.get("depth") is not None:
        return float(meta["depth"])
    depths = meta.get("depths")
    if isinstance(depths, (list, tuple)) and depths:
        return float(bin_size * round(float(depths[0]) / bin_size))
    return None


def grid(records: list[ScoredSample]) -> dict[str, Any]:
    """{"depths", "lengths", "scores"[depth][length]} with None where a cell has no sample."""
    cells: dict[tuple[float, int], list[float]] = defaultdict(list)
    for record in records:
        depth = needle_depth(record.meta)
        if depth is not None:
            cells[(depth, record.length)].append(record.score)
    depths = sorted({d for d, _ in cells})
    lengths = sorted({length for _, length in cells})
    scores = [
        [round(sum(cells[(d, length)]) / len(cells[(d, length)]), 2) if cells.get((d, length)) else None
         for length in lengths]
        for d in depths
    ]
    return {"depths": depths, "lengths": lengths, "scores": scores}


def draw(data: dict[str, Any], title: str, path: Path) -> None:
    """Save the heatmap as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    values = np.array([[np.nan if v is None else v for v in row] for row in data["scores"]], dtype=float)
    cmap = LinearSegmentedColormap.from_list("niah", COLORS)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.9 * len(data["lengths"])), max(4.0, 0.45 * len(data["depths"]) + 1.5)))
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(data["lengths"])), [format_length(n) for n in data["lengths"]])
    ax.set_yticks(range(len(data["depths"])), [f"{d:g}" for d in data["depths"]])
    for (i, j), value in np.ndenumerate(values):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color="black")
    ax.set_xlabel("Token Limit")
    ax.set_ylabel("Depth Percent")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="Score")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def grid_report(task: str, records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """The task's grid for results.json; writes `<output>/<task>_heatmap.png`."""
    data = grid(records)
    if not data["scores"]:
        return {}
    path = output / f"{task}_heatmap.png"
    draw(data, f"Needle in a Haystack: {task}", path)
    return {"grid": data, "heatmap": path.name}
