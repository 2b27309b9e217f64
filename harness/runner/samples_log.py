"""`OUTPUT/samples/<task>.jsonl`: finished samples, streamed as they complete.

Each batch is appended, flushed and fsynced, so a kill -9 loses at most the batch in flight; a
torn last line (the process died mid-write) is dropped on read and rewritten by the rerun.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from harness.types import ScoredSample


class SampleLog:
    """Append-only JSONL of scored samples for one task."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[ScoredSample]:
        """All complete records; repairs a torn final line left by a crash."""
        if not self.path.exists():
            return []
        records: list[ScoredSample] = []
        good_bytes = 0
        with open(self.path, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break
                try:
                    records.append(ScoredSample.from_dict(json.loads(raw)))
                except (json.JSONDecodeError, KeyError, ValueError):
                    break
                good_bytes += len(raw)
        if good_bytes != self.path.stat().st_size:
            with open(self.path, "r+b") as f:
                f.truncate(good_bytes)
        return records

    def append(self, records: Iterable[ScoredSample]) -> None:
        """Write records durably (flush + fsync) before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(r.to_json() + "\n" for r in records)
        if not lines:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
