"""Config files: YAML or JSON mappings (plugin configs, sweeps, boards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def read_config_file(path: Path) -> dict[str, Any]:
    """A YAML or JSON config file as a mapping."""
    if not path.exists():
        raise HarnessError(f"config file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise HarnessError(f"{path}: not valid YAML ({error})") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: expected a mapping of config fields, got {type(data).__name__}")
    return data
