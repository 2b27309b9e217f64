"""Data derived from a task's source files, kept on disk between processes.

One value per (folder, key) under the cache dir (`HARNESS_CACHE`), where the key names what the value
was derived from (the source's content digest) and how (a version the deriving code bumps when it
changes). Two encodings: JSON entries (small, readable) and marshal values (Python's builtin types,
~3x faster to read than JSON for large text, checked by their sha256, per Python version). Best
effort both ways: an absent, unreadable or damaged entry reads as None (the caller derives again),
and a cache that cannot be written costs only the work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import sys
from pathlib import Path
from typing import Any

from harness.core.paths import cache_dir
from harness.core.records.schema import write_atomic

CHECK_BYTES = 32  # a marshal value's file: the sha256 of its payload, then the payload


def entry_path(folder: str, key: str) -> Path:
    """Where the JSON entry `key` of `folder` lives."""
    return cache_dir() / folder / f"{key}.json"


def read_entry(folder: str, key: str) -> Any | None:
    """The JSON value kept under (folder, key), or None when there is none that parses."""
    try:
        return json.loads(entry_path(folder, key).read_bytes())
    except (OSError, ValueError):  # ValueError: JSONDecodeError and UnicodeDecodeError
        return None


def write_entry(folder: str, key: str, value: Any) -> None:
    """Keep `value` as JSON under (folder, key)."""
    _write(entry_path(folder, key), json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def value_path(folder: str, key: str) -> Path:
    """Where the marshal value `key` of `folder` lives (marshal's format may change between Python versions)."""
    return cache_dir() / folder / f"{key}-py{sys.version_info[0]}{sys.version_info[1]}.marshal"


def read_value(folder: str, key: str) -> Any | None:
    """The value `write_value` kept under (folder, key), or None when absent or damaged (its sha256 differs)."""
    try:
        blob = value_path(folder, key).read_bytes()
    except OSError:
        return None
    check, payload = blob[:CHECK_BYTES], memoryview(blob)[CHECK_BYTES:]  # no copy of the payload
    if hashlib.sha256(payload).digest() != check:
        return None
    try:
        return marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None


def write_value(folder: str, key: str, value: Any) -> None:
    """Keep `value` (builtin types only: tuples, lists, dicts, strings, numbers) under (folder, key)."""
    payload = marshal.dumps(value)
    _write(value_path(folder, key), hashlib.sha256(payload).digest() + payload)


def _write(path: Path, data: bytes) -> None:
    """Write atomically (a reader sees the old file or the whole new one, and no partial file stays);
    give up quietly where it cannot: a full disk, a read-only or misplaced cache dir."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
