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
"""

from __future__ import annotations

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
    kind: str  # task | group | delta
    lengths: tuple[int, ...] | None = None
    avg: bool = False


@dataclass(frozen=True)
class BoardConfig:
    name: str
    sweep: Path
    baseline: str | None
    alpha: float
    columns: tuple[Column, ...]
    source: str
    correction: str = "holm"  # harness.core.stats.multiple.CORRECTIONS


def _column(raw: Any, index: int, source: str) -> Column:
    where = f"{source}: columns[{index}]"
    if isinstance(raw, str):
        raw = {"task": raw}
    if not isinstance(raw, dict):
        raise HarnessError(f"{where}: expected a mapping such as {{task: niah_single_1}}")
    unknown = sorted(set(raw) - {"task", "group", "delta", "lengths", "avg"})
    if unknown:
        raise unknown_field(where, unknown[0], ("task", "group", "delta", "lengths", "avg"))
    kinds = [k for k in ("task", "group", "delta") if k in raw]
    if len(kinds) != 1:
        raise HarnessError(f"{where}: give exactly one of task, group or delta")
    lengths = raw.get("lengths")
    parsed = tuple(parse_lengths(",".join(str(x) for x in lengths))) if lengths else None
    return Column(str(raw[kinds[0]]), kinds[0], parsed, bool(raw.get("avg", False)))


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
    return BoardConfig(str(data["name"]), Path(str(data["sweep"])), data.get("baseline"), float(alpha),
                       tuple(_column(c, i, source) for i, c in enumerate(data["columns"])), source, correction)


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
