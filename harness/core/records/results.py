"""A run's records: `results.json` (`Result`), the lines of `samples/<task>.jsonl` (`ScoredSample`, one per
line; its dataclass lives with the other sample types in `harness.core.types`) and `run.json` (`RunRecord`:
the config fingerprint that guards the samples beside it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from harness.core.errors import HarnessError
from harness.core.records.schema import JsonRecord, Schema, dumps, extra_fields, field_of
from harness.core.userfiles import json_type, read_json

RESULTS = Schema("results file", 1, too_old="run the evaluation again")
SAMPLES = Schema("samples line", 1, too_old="run the evaluation again into a new --output")
RUN = Schema("run file", 1, too_old="choose another --output")


@dataclass
class Result(JsonRecord):
    """Aggregated scores of one run: `results[task][length] = {score, stderr, n, ...}`, group averages, the
    run's config, and any other top-level fields (`reports`) kept as they are."""

    SCHEMA = RESULTS

    results: dict[str, dict[str, dict[str, Any]]]
    groups: dict[str, dict[str, Any]]
    config: dict[str, Any]
    version: int = RESULTS.version
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "results": self.results, "groups": self.groups, "config": self.config, **self.extra}

    def text(self) -> str:
        return dumps(self.to_dict(), newline=True)

    @classmethod
    def read(cls, path: Path) -> "Result":
        """The results.json at `path`; a file that is not one is an error naming it."""
        data = read_json(path, "results file")
        if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
            got = f"{json_type(data)}, not an object" if not isinstance(data, dict) else "no 'results' object"
            raise HarnessError(f"{path}: not a results.json of harness eval ({got})")
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "results record") -> "Result":
        """The result in a results.json's object (or a results database's copy of one), at the current version."""
        return cls.parse(dict(data), source)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "Result":
        return cls(field_of(data, "results", dict, source), field_of(data, "groups", dict, source, {}),
                   field_of(data, "config", dict, source, {}), data["version"],
                   extra_fields(data, {"results", "groups", "config"}))


def sample_line_version(data: Mapping[str, Any], source: str = "samples line") -> int:
    """The version of one samples line (`ScoredSample.to_json`), checked before its fields: a line without one
    is version 1, a newer one is a RecordVersionError naming `source`. Lines are read as they are (there is no
    older version to bring up yet), so their bytes never change."""
    return SAMPLES.version_of(data, source)


@dataclass(frozen=True)
class RunRecord(JsonRecord):
    """`OUTPUT/run.json`: the config fingerprint of the run whose samples lie beside it."""

    SCHEMA = RUN

    fingerprint: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"version": RUN.version, "fingerprint": self.fingerprint}

    @classmethod
    def read(cls, path: Path) -> "RunRecord":
        """The run file at `path`; one that is not a run file is an error naming it (the samples beside it are left alone)."""
        data = read_json(path, "run file")
        fingerprint = data.get("fingerprint") if isinstance(data, dict) else None
        if not isinstance(fingerprint, dict):
            got = "no 'fingerprint' object" if isinstance(data, dict) else f"{json_type(data)}, not an object"
            raise HarnessError(f"{path}: not a run file of harness eval ({got}); it records which config wrote the samples "
                               f"beside it: restore or delete it to resume there, or choose another --output")
        return cls.parse(data, str(path))

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "RunRecord":
        return cls(field_of(data, "fingerprint", dict, source))
