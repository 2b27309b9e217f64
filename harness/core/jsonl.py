"""JSONL files the harness writes and reads back (the samples log, the sample cache, synthesized
data): appended durably, and read so that one bad line costs that line only.

A line that is not UTF-8, not JSON, not an object or not of the expected shape (the caller's
`check`) is skipped and reported on stderr as `FILE:LINE`; every line before and after it is kept.
A last line with no newline is an interrupted write (a kill -9): a reader that owns the file
(`repair=True`) cuts it off, or ends it with a newline when it holds a whole record, so the next
append starts on a line of its own. Appends and repairs hold an exclusive lock on the file, so a
reader never cuts off a line another process is still writing.

Files a user hands the harness (task data, training data) are read by `harness.core.userfiles.iter_jsonl`
instead: there a bad line is an error, not something to skip.
"""

from __future__ import annotations

import fcntl
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, TypeVar

from harness.core.userfiles import json_type, parse_object_line

T = TypeVar("T")


class BadRecord(ValueError):
    """A JSON object of the wrong shape; the message names the field."""


def stderr_report(message: str) -> None:
    """The default way a skipped line is reported: one line on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def as_object(record: dict[str, Any]) -> dict[str, Any]:
    """The `check` that accepts any JSON object."""
    return record


def read_jsonl(path: Path, check: Callable[[dict[str, Any]], T], repair: bool = False,
               report: Callable[[str], None] | None = stderr_report) -> Iterator[tuple[int, T]]:
    """(line number, `check(object)`) for each good line of `path` (nothing when it does not exist).

    `check` returns what to yield (`as_object`: the object itself) or raises (BadRecord, ValueError,
    KeyError, TypeError) for a record of the wrong shape. Bad lines are skipped and passed to `report`
    (None: silently). With `repair`, a torn last line is mended once the lines are consumed."""
    path = Path(path)
    if not path.exists():
        return
    start = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            line_start, start = start, start + len(raw)
            torn = not raw.endswith(b"\n")
            if not raw.strip():
                continue
            try:
                value = _parse(raw, check)
            except BadLine as bad:
                if report is not None:
                    reason = f"{bad}, in an unfinished last line (an interrupted write)" if torn else str(bad)
                    report(f"{path}:{number}: skipped a bad line ({reason}); the other lines are kept")
                if torn and repair:
                    _mend_tail(path, line_start, len(raw), whole=False)
                continue
            yield number, value
            if torn and repair:
                _mend_tail(path, line_start, len(raw), whole=True)


class BadLine(Exception):
    """Why one line was skipped."""


def _parse(raw: bytes, check: Callable[[dict[str, Any]], T]) -> T:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadLine(f"not UTF-8: byte 0x{raw[error.start]:02x} at column {error.start + 1}") from None
    try:
        data = parse_object_line(text)
    except ValueError as error:
        raise BadLine(str(error)) from None
    try:
        return check(data)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        reason = f"missing field {error}" if isinstance(error, KeyError) else str(error) or type(error).__name__
        raise BadLine(reason) from None


def _mend_tail(path: Path, start: int, size: int, whole: bool) -> None:
    """Under the file's lock: if the file still ends with the `size` bytes at `start` and no newline
    (nobody finished the line meanwhile), end it with a newline (`whole`: it holds a record) or cut it off."""
    with open(path, "r+b") as f, _locked(f):
        end = f.seek(0, os.SEEK_END)
        if end != start + size:
            return
        f.seek(end - 1)
        if f.read(1) == b"\n":
            return
        if whole:
            f.write(b"\n")
        else:
            f.truncate(start)
        f.flush()
        os.fsync(f.fileno())


def append_jsonl(path: Path, lines: Iterable[str]) -> None:
    """Append `lines` (JSON texts, no newlines) durably (flush + fsync) under the file's lock; a file
    whose last line was left unterminated gets a newline first, so no record is glued to it."""
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    if not data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f, _locked(f):
        end = f.seek(0, os.SEEK_END)
        if end:
            f.seek(end - 1)
            if f.read(1) != b"\n":
                data = b"\n" + data
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextmanager
def _locked(f: IO[bytes]) -> Iterator[None]:
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def expect(data: dict[str, Any], field: str, kind: type | tuple[type, ...], required: bool = True) -> Any:
    """`data[field]` when it is of `kind` (a boolean is not a number), else BadRecord naming the field;
    an optional field may be absent or null (returns None)."""
    if field not in data or (not required and data[field] is None):
        if required:
            raise BadRecord(f"missing field {field!r}")
        return None
    value = data[field]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise BadRecord(f"field {field!r} is {json_type(value)}, expected {wanted}")
    return value


def expect_strings(data: dict[str, Any], field: str, required: bool = True) -> list[str] | None:
    """`data[field]` when it is a list of strings, else BadRecord naming the field."""
    value: list[str] | None = expect(data, field, list, required)
    if value is not None and not all(isinstance(v, str) for v in value):
        raise BadRecord(f"field {field!r} must be a list of strings")
    return value


def expect_messages(data: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """`data[field]` when it is a list of chat turns (objects with string `role` and `content`)."""
    value = expect(data, field, list)
    for i, turn in enumerate(value):
        if not isinstance(turn, dict) or not isinstance(turn.get("role"), str) or not isinstance(turn.get("content"), str):
            raise BadRecord(f"{field}[{i}] is not a chat turn (an object with string 'role' and 'content')")
    return list(value)
