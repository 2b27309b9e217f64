"""A board config:

```yaml
name: tiny-demo
sweep: runs/sweeps/tiny-demo     # a `harness sweep` directory (relative to the working directory)
baseline: control                # the variant every row is compared with (paired tests, deltas)
alpha: 0.05                      # significance level of the marks (after the correction)
correction: holm                 # holm (default) | bh | none: how the board's many tests are corrected
columns:                         # a task or a group, at some or all of its evaluated lengths
  - {task: niah_single_1}
  - {group: ruler, lengths: [512, 1k], avg: true}
  - {delta: mmlu}                # the variant's score minus the baseline's (short-context tasks: the MMLU cost)
```

A sweep that only synthesizes (no `eval:`) has a board of its data's statistics instead: `{stat:
plugin.paths.distinct, scale: 100, label: distinct paths %}` reads that number (a dotted path) from each
replicate's `stats.json`, times `scale`; the cells compare the replicates' values with Welch's t-test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.lengths import parse_lengths
from harness.core.pathnames import safe_component
from harness.core.registry import Registry, unknown_field, unknown_name
from harness.core.stats.multiple import check_correction

BOARD_DIR = Path(__file__).parent


@dataclass(frozen=True)
class Column:
    """`name` is a task or group; `kind` cells (one per length), `avg` (their mean) or `delta`."""

    name: str
    kind: str  # task | group | delta | stat
    lengths: tuple[int, ...] | None = None
    avg: bool = False
    scale: float = 1.0  # stat: the value shown is the statistic times this
    label: str | None = None  # stat: the column's heading (default: the statistic's path)


@dataclass(frozen=True)
class BoardConfig:
    name: str
    sweep: Path
    baseline: str | None
    alpha: float
    columns: tuple[Column, ...]
    source: str
    correction: str = "holm"  # harness.core.stats.multiple.CORRECTIONS

    @property
    def measures_data(self) -> bool:
        """Stat columns: the board of a sweep that only synthesizes (a board has only these, or none)."""
        return any(c.kind == "stat" for c in self.columns)


def _column(raw: Any, index: int, source: str) -> Column:
    where = f"{source}: columns[{index}]"
    if isinstance(raw, str):
        raw = {"task": raw}
    if not isinstance(raw, dict):
        raise HarnessError(f"{where}: expected a mapping such as {{task: niah_single_1}}")
    allowed = ("task", "group", "delta", "stat", "lengths", "avg", "scale", "label")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise unknown_field(where, unknown[0], allowed)
    kinds = [k for k in ("task", "group", "delta", "stat") if k in raw]
    if len(kinds) != 1:
        raise HarnessError(f"{where}: give exactly one of task, group, delta or stat")
    if kinds == ["stat"]:
        return _stat_column(raw, where)
    extra = sorted(set(raw) & {"scale", "label"})
    if extra:
        raise HarnessError(f"{where}: {extra[0]!r} is for stat columns only")
    lengths = raw.get("lengths")
    parsed = tuple(parse_lengths(",".join(str(x) for x in lengths))) if lengths else None
    return Column(str(raw[kinds[0]]), kinds[0], parsed, bool(raw.get("avg", False)))


def _stat_column(raw: dict[str, Any], where: str) -> Column:
    """A data statistic's column: its dotted path in stats.json, a scale and a heading."""
    path, scale, label = raw["stat"], raw.get("scale", 1), raw.get("label")
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise HarnessError(f"{where}: stat = {path!r}: expected a dotted path into stats.json, e.g. plugin.paths.distinct")
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise HarnessError(f"{where}: scale = {scale!r}: expected a positive number")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise HarnessError(f"{where}: label = {label!r}: expected a non-empty string")
    if set(raw) & {"lengths", "avg"}:
        raise HarnessError(f"{where}: a stat column has no lengths (and no avg)")
    return Column(path, "stat", scale=float(scale), label=label)


def parse_board(data: dict[str, Any], source: str) -> BoardConfig:
    fields = ("name", "sweep", "baseline", "alpha", "correction", "columns")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise unknown_field(source, unknown[0], fields)
    for key in ("name", "sweep", "columns"):
        if key not in data:
            raise HarnessError(f"{source}: '{key}' is required")
    if not isinstance(data["columns"], list) or not data["columns"]:
        raise HarnessError(f"{source}: 'columns' must be a non-empty list")
    alpha = data.get("alpha", 0.05)
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise HarnessError(f"{source}: alpha = {alpha!r} must be between 0 and 1")
    correction = check_correction(data.get("correction", "holm"), f"{source}: correction")
    columns = tuple(_column(c, i, source) for i, c in enumerate(data["columns"]))
    if len({c.kind == "stat" for c in columns}) > 1:
        raise HarnessError(f"{source}: columns: stat columns (a data sweep's statistics) and score columns (task, group, "
                           "delta) cannot share a board")
    return BoardConfig(str(data["name"]), Path(str(data["sweep"])), data.get("baseline"), float(alpha), columns, source,
                       correction)


def boards() -> Registry[Path]:
    """The boards that ship with lc-harness: each YAML file under `leaderboards/`, by its name."""
    found: Registry[Path] = Registry("board")
    for path in sorted(BOARD_DIR.glob("*.yaml")):
        found.register(path.stem, path)
    return found


def find_board(name_or_path: str) -> Path:
    """A board config by path, or by name under `leaderboards/`."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        if not path.exists():
            raise HarnessError(f"board config {path} does not exist")
        if path.is_dir():
            raise HarnessError(f"board config {path} is a directory: give a board YAML or a board name")
        return path
    name = safe_component(name_or_path, "board name")
    known = boards()
    if name not in known:
        raise HarnessError(f"{unknown_name('board', name, known)}; boards are the YAML files in {BOARD_DIR}, or give a board YAML path")
    return known.get(name)


def default_output(config: BoardConfig) -> Path:
    """`runs/leaderboards/NAME`, once NAME is known to be a safe directory name (a board's name is also its title)."""
    return Path("runs") / "leaderboards" / safe_component(config.name, "'name'", config.source)


def read_board(name_or_path: str) -> BoardConfig:
    from harness.core.configfile import read_config_file

    path = find_board(name_or_path)
    return parse_board(read_config_file(path), str(path))
