"""Every sweep under sweeps/ parses (its plugins' configs too) and its board names a baseline among its variants."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.leaderboards.config import parse_board
from harness.sweep.config import parse_sweep
from harness.synth.plugin import get_plugin, load_config

ROOT = Path(__file__).resolve().parents[3]
SWEEPS = sorted((ROOT / "sweeps").glob("*.yaml"))


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_a_shipped_sweep_and_its_board_agree(path: Path) -> None:
    sweep = parse_sweep(yaml.safe_load(path.read_text()), str(path))
    for variant in sweep.variants:
        if variant.kind == "synth":
            plugin = get_plugin(variant.synth["plugin"])
            load_config(plugin.Config, dict(variant.synth.get("config", {})), f"{path}: {variant.name}")
    board_path = ROOT / "leaderboards" / f"{sweep.name}.yaml"
    board = parse_board(yaml.safe_load(board_path.read_text()), str(board_path))
    assert board.sweep == Path("runs/sweeps") / sweep.name
    assert board.baseline in {v.name for v in sweep.variants}
    assert all(c.kind == "stat" for c in board.columns) == sweep.measures_data
