"""The NIAH grid: mean score per (depth, length), into results.json and a heatmap PNG.

Drawn like the reference (Depth Percent on y, Token Limit on x, red -> yellow -> green).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from harness.core.lengths import format_length
from harness.core.types import NeedleDepths, ScoredSample, needle_depths_of

COLORS = ["#F0496E", "#EBB839", "#0CD79F"]  # the reference notebook's red, yellow, green


DEPTH_BIN = 10.0  # heatmap rows: RULER's random needle depths to the nearest 10% (grid depths kept exactly)


def heatmap_depth(depths: NeedleDepths | None, bin_size: float = DEPTH_BIN) -> float | None:
    """The depth (0-100) a heatmap draws a sample at, from its typed needle depths.

    A grid point (classic niah) is kept exactly; depths drawn at random (RULER's niah tasks, one per
    needle) are drawn at the first needle's, to the nearest `bin_size`. None without needles.
    """
    if depths is None or not depths.depths:
        return None
    first = float(depths.depths[0])
    return first if depths.grid else float(bin_size * round(first / bin_size))


def needle_depth(meta: dict[str, Any], bin_size: float = DEPTH_BIN) -> float | None:
    """`heatmap_depth` of the needle depths a persisted sample's `meta` holds (either generator's layout)."""
    return heatmap_depth(needle_depths_of(meta), bin_size)


@dataclass(frozen=True)
class NeedleGrid:
    """Mean score per (depth, length): rows `depths`, columns `lengths`, None where a cell has no sample."""

    depths: list[float]
    lengths: list[int]
    means: list[list[float | None]]

    def to_dict(self, digits: int = 2) -> dict[str, Any]:
        """{"depths", "lengths", "scores"[depth][length]} as results.json records it (means rounded)."""
        scores = [[None if v is None else round(v, digits) for v in row] for row in self.means]
        return {"depths": self.depths, "lengths": self.lengths, "scores": scores}


def needle_grid(points: Iterable[tuple[NeedleDepths | None, int, float]]) -> NeedleGrid:
    """The one heatmap builder (the NIAH report and the boards): (needle depths, length, score) per
    sample into mean scores per heatmap depth and length; samples without needles are left out."""
    cells: dict[tuple[float, int], list[float]] = defaultdict(list)
    for depths, length, score in points:
        depth = heatmap_depth(depths)
        if depth is not None:
            cells[(depth, length)].append(score)
    rows = sorted({d for d, _ in cells})
    lengths = sorted({length for _, length in cells})
    means = [[sum(v) / len(v) if (v := cells.get((d, length))) else None for length in lengths] for d in rows]
    return NeedleGrid(rows, lengths, means)


def grid(records: list[ScoredSample]) -> dict[str, Any]:
    """{"depths", "lengths", "scores"[depth][length]} with None where a cell has no sample."""
    return needle_grid((r.needle_depths, r.length, r.score) for r in records).to_dict()


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
