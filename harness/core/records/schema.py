"""How a persisted record carries its version, and how a reader treats one it did not write.

Every file the harness writes and reads back holds a `version` (a whole number, 1 for the first shape of
the file). A reader brings an older version up to date step by step (`Schema.migrations`), refuses one
it has no step for, and refuses a newer one: each refusal is one `RecordVersionError` naming the file,
its version and the versions this lc-harness reads. A record written before it carried a `version` is
read as `Schema.unversioned` (1: the field was added later and the shape did not change).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Self

from harness.core.errors import HarnessError
from harness.core.userfiles import check_type, json_type, read_json

Migration = Callable[[dict[str, Any]], dict[str, Any]]  # one step: a record of version v -> the same record at v + 1
REQUIRED: Any = object()  # `field_of`'s default: the field must be present


class RecordVersionError(HarnessError):
    """A record of a version this lc-harness does not read (older with no path up, or newer)."""


@dataclass(frozen=True)
class Schema:
    """One kind of persisted record: what messages call it, the version written now, the version a record
    without a `version` field is read as (None: such a record is refused), the steps up from older versions,
    and what to do about a record too old to read."""

    kind: str
    version: int
    unversioned: int | None = 1
    migrations: Mapping[int, Migration] = field(default_factory=dict)
    too_old: str = "write it again with this lc-harness"

    @property
    def readable(self) -> list[int]:
        """The versions read: the current one, and each older one with a chain of steps up to it."""
        versions = [self.version]
        while versions[0] - 1 in self.migrations:
            versions.insert(0, versions[0] - 1)
        return versions

    def _reads(self) -> str:
        low, high = self.readable[0], self.readable[-1]
        return f"version {high}" if low == high else f"versions {low} to {high}"

    def version_of(self, data: Mapping[str, Any], source: str) -> int:
        """The record's version, checked: one this lc-harness reads, else RecordVersionError naming `source`."""
        if "version" not in data:
            if self.unversioned is None:
                raise RecordVersionError(f"{source}: a {self.kind} without a 'version' field; this lc-harness reads "
                                         f"{self._reads()} ({self.too_old})")
            version: Any = self.unversioned
        else:
            version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise RecordVersionError(f"{source}: 'version' {version!r} is not a {self.kind} version (a whole number)")
        if version > self.version:
            raise RecordVersionError(f"{source}: a {self.kind} of version {version}, written by a newer lc-harness; this one "
                                     f"reads {self._reads()}: upgrade lc-harness to read it")
        if version not in self.readable:
            raise RecordVersionError(f"{source}: a {self.kind} of version {version}, which this lc-harness no longer reads "
                                     f"(it reads {self._reads()}); {self.too_old}")
        return version

    def upgrade(self, data: Mapping[str, Any], source: str) -> dict[str, Any]:
        """`data` brought to the current version (each step applied in turn), with `version` set to it."""
        version = self.version_of(data, source)
        record = dict(data)
        for step in range(version, self.version):
            record = self.migrations[step](record)
        record["version"] = self.version
        return record


def field_of(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], source: str, default: Any = REQUIRED) -> Any:
    """`data[name]` checked to be of `kind` (JSON types: a boolean is not a number); an absent or null optional
    field is `default`. An error names `source` and the field."""
    value = data.get(name)
    if value is None:
        if default is REQUIRED:
            raise HarnessError(f"{source}: missing field {name!r} (not a record the harness wrote, or a damaged one)")
        return default
    check_type(value, kind, f"{source}: {name!r}")
    return value


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (UTF-8) or bytes to `path` whole or not at all: a temporary file beside it, then a rename."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(text, bytes):
            tmp.write_bytes(text)
        else:
            tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def dumps(data: Any, indent: int = 2, newline: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """The harness's JSON text for a record: keys sorted, so the same record is the same bytes."""
    return json.dumps(data, indent=indent, sort_keys=True, default=default) + ("\n" if newline else "")


class JsonRecord:
    """A record kept as one JSON object in one file: `SCHEMA` says its kind and version; a subclass builds
    itself from a dict at the current version (`_from`), and turns back into one (`to_dict`) and into the
    file's text (`text`)."""

    SCHEMA: ClassVar[Schema]

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> Self:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def text(self) -> str:
        """The file's text."""
        return dumps(self.to_dict())

    @classmethod
    def parse(cls, data: Any, source: str) -> Self:
        """The record in the parsed JSON `data` (from `source`, named in errors), brought to the current version."""
        if not isinstance(data, dict):
            raise HarnessError(f"{source}: expected a JSON object ({cls.SCHEMA.kind}), got {json_type(data)}")
        return cls._from(cls.SCHEMA.upgrade(data, source), source)

    @classmethod
    def read(cls, path: Path) -> Self:
        """The record in the file at `path`; any way it cannot be read is a HarnessError naming the file."""
        return cls.parse(read_json(path, cls.SCHEMA.kind), str(path))

    def write(self, path: Path) -> None:
        """Write the record to `path` atomically."""
        write_atomic(path, self.text())


def extra_fields(data: Mapping[str, Any], known: set[str] | frozenset[str]) -> dict[str, Any]:
    """The fields of `data` a record does not name (kept, so a record read and written again loses nothing)."""
    return {k: v for k, v in data.items() if k not in known and k != "version"}
