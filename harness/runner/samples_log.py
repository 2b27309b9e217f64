"""`OUTPUT/samples/<task>.jsonl`: finished samples, streamed as they complete.

Each batch is appended, flushed and fsynced, so a kill -9 loses at most the batch in flight; a
torn last line (the process died mid-write) is cut off on read and computed again by the rerun. A
bad line anywhere else (garbage, not UTF-8, JSON of the wrong shape) costs that sample only: it is
reported with its line number and computed again, every other line is kept (`harness.core.jsonl`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from harness.core.jsonl import append_jsonl, read_jsonl, stderr_report
from harness.core.types import ScoredSample
from harness.scored_lines import check_scored


class SampleLog:
    """Append-only JSONL of scored samples for one task."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, report: bool = True) -> list[ScoredSample]:
        """All good records; repairs a torn final line left by a crash. Bad lines are reported on
        stderr unless `report` is False (a second read of the same file)."""
        lines = read_jsonl(self.path, self._scored_sample, repair=True, report=stderr_report if report else None)
        return [record for _, record in lines]

    def append(self, records: Iterable[ScoredSample]) -> None:
        """Write records durably (flush + fsync) before returning."""
        append_jsonl(self.path, (r.to_json() for r in records))

    def _scored_sample(self, data: dict[str, Any]) -> ScoredSample:
        """One line's sample (its version checked: a newer one stops the read, naming this file)."""
        return ScoredSample.from_dict(check_scored(data, str(self.path)))
