"""Data files that ship beside a module (templates and prompts as TOML), read once per process."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=None)
def toml_beside(module_file: str, name: str) -> dict[str, Any]:
    """The TOML file `name` in the directory of `module_file` (pass `__file__`)."""
    with open(Path(module_file).with_name(name), "rb") as f:
        return tomllib.load(f)
