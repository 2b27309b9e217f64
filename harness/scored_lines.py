"""The lines of `OUTPUT/samples/<task>.jsonl` (one `ScoredSample` each), read by the runner on a rerun,
by `harness check`, `harness show --sample` and the leaderboards: each line's shape is checked, and a
bad line is skipped and reported (`harness.core.jsonl`) while every good line is kept. A line of a version this
lc-harness does not read (`harness.core.records.SAMPLES`: a newer one) stops the read with an error naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

from harness.core.jsonl import expect, expect_strings, read_jsonl, stderr_report
from harness.core.records import sample_line_version
from harness.core.types import ScoredSample


def check_scored(data: dict[str, Any], source: str = "samples line") -> dict[str, Any]:
    """`data` when it has every field of a `ScoredSample` line with its JSON type, else BadRecord; a line of a
    version this lc-harness does not read is a RecordVersionError naming `source`."""
    expect(data, "version", int, required=False)  # garbage there is a bad line; a newer version refuses the file
    sample_line_version(data, source)  # before the fields: a newer line may have others
    for name in ("id", "task", "output"):
        expect(data, name, str)
    for name in ("length", "index", "prompt_tokens"):
        expect(data, name, int)
    for name in ("score", "latency_s"):
        expect(data, name, (int, float))
    expect_strings(data, "targets")
    expect(data, "meta", dict, required=False)
    expect(data, "sample_cache", str, required=False)
    expect(data, "error", str, required=False)
    expect(data, "failed", bool, required=False)
    ScoredSample.from_dict(data)  # and it builds
    return data


def scored_rows(path: Path, repair: bool = False,
                report: Callable[[str], None] | None = stderr_report) -> Iterator[dict[str, Any]]:
    """The good lines of one samples file, as dicts, in file order (failed samples included)."""
    for _, row in read_jsonl(path, lambda data: check_scored(data, str(path)), repair, report):
        yield row
