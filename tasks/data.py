"""Where tasks find their data: `--data-dir D` (or `HARNESS_DATA_DIR`), then a task's own argument.

Each benchmark documents the files it looks for under D (for example `pg_essays/` for the essay
haystack, `squad.json` and `hotpotqa.json` for RULER's QA tasks).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


@dataclass(frozen=True)
class TaskOptions:
    """Options every task factory receives: the data directory and `--task-args`."""

    data_dir: Path | None = None
    args: dict[str, Any] = field(default_factory=dict)

    def data_root(self) -> Path | None:
        """`--data-dir`, else `HARNESS_DATA_DIR`, else None."""
        if self.data_dir is not None:
            return Path(self.data_dir).expanduser()
        env = os.environ.get("HARNESS_DATA_DIR")
        return Path(env).expanduser() if env else None

    def find(self, arg: str, relative: str, what: str) -> Path:
        """The path given as task arg `arg`, else `<data dir>/<relative>`; a clear error when missing."""
        given = self.args.get(arg)
        if given:
            path = Path(str(given)).expanduser()
            if not path.exists():
                raise HarnessError(f"{what}: --task-args {arg}={given} does not exist")
            return path
        root = self.data_root()
        if root is not None and (root / relative).exists():
            return root / relative
        where = f"{root / relative} does not exist" if root is not None else "no --data-dir given"
        raise HarnessError(f"{what} needs {relative}: {where}; pass --data-dir D (with D/{relative}) or --task-args {arg}=PATH")


def file_digest(paths: list[Path]) -> str:
    """sha256 (first 16 hex) over the names and bytes of `paths` (what sample caches key on)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
