"""Config files: YAML or JSON mappings (plugin configs, sweeps, boards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.userfiles import json_type, parse_json, parse_yaml, read_text


def read_config_file(path: Path) -> dict[str, Any]:
    """A YAML or JSON config file as a mapping."""
    text = read_text(path, "config file")
    if not text.strip():
        return {}
    data = parse_json(text, str(path)) if path.suffix == ".json" else parse_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: expected a mapping of config fields, got {json_type(data)}")
    return data
