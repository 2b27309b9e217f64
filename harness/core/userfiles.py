"""Reading the files a user hands the harness (data, configs, seeds): every way a file can be
unreadable becomes one `HarnessError` naming the path, and the line where there is one.

A missing file, a directory where a file was expected, a file that is not UTF-8, JSON or YAML
that does not parse, and JSONL lines that are not JSON objects all end here; the callers check
what the parsed values mean (their fields and types) and name the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError


def read_bytes(path: Path, what: str = "file") -> bytes:
    """The bytes of `path`; every way it cannot be read is an error naming it."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise HarnessError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise HarnessError(f"{what} {path} is a directory, not a file") from None
    except NotADirectoryError:
        raise HarnessError(f"{what} {path}: a parent of it is a file, not a directory") from None
    except PermissionError:
        raise HarnessError(f"{what} {path}: permission denied") from None
    except OSError as error:
        raise HarnessError(f"{what} {path}: cannot be read ({error.strerror or error})") from None


def decode_text(data: bytes, path: Path, translate_newlines: bool = True) -> str:
    """`data` (read from `path`) as UTF-8 text, newlines translated as Python's text mode does unless
    `translate_newlines` is False; an error names the path, the line and the byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise HarnessError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save the file as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if translate_newlines else text


def read_text(path: Path, what: str = "file", translate_newlines: bool = True) -> str:
    """The text of `path` as UTF-8 (newlines translated as Python's text mode does, unless
    `translate_newlines` is False: CSV readers want them as they are)."""
    return decode_text(read_bytes(path, what), path, translate_newlines)


def parse_json(text: str, source: str) -> Any:
    """`text` parsed as JSON; an error names `source`, the line and the column."""
    if not text.strip():
        raise HarnessError(f"{source}: the file is empty (expected JSON)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HarnessError(f"{source}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})") from None


def read_json(path: Path, what: str = "file") -> Any:
    """The JSON value in `path`."""
    return parse_json(read_text(path, what), str(path))


def read_json_object(path: Path, what: str = "file", keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON object in `path`, which must have `keys`: how the harness reads back the state files it wrote
    (run.json, stage.json, sweep.json, manifests), so one damaged by hand or by a full disk is named, not a traceback."""
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: expected a JSON object ({what}), got {json_type(data)}")
    missing = [key for key in keys if key not in data]
    if missing:
        raise HarnessError(f"{path}: missing field {missing[0]!r} (not a {what} the harness wrote, or a damaged one)")
    return data


def parse_yaml(text: str, source: str) -> Any:
    """`text` parsed as YAML (safe: no tags that build objects); an error names `source` and the line."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise HarnessError(f"{where}: not valid YAML ({problem})") from None


def read_yaml(path: Path, what: str = "file") -> Any:
    """The YAML value in `path` (None for an empty file)."""
    return parse_yaml(read_text(path, what), str(path))


def parse_object_line(line: str) -> dict[str, Any]:
    """One JSONL line's JSON object, else ValueError saying what is wrong with it (both JSONL readers'
    line rule: this one, strict, and `harness.core.jsonl.read_jsonl`, which skips the line)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {json_type(record)}")
    return record


def iter_jsonl(path: Path, what: str = "file") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file; a line that is not a JSON
    object is an error naming the file and the line."""
    for number, line in enumerate(read_text(path, what).split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = parse_object_line(line)
        except ValueError as error:
            raise HarnessError(f"{path}:{number}: {error}") from None
        yield number, record


_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (for messages): an object, an array, a string, ..."""
    return _JSON_NAMES.get(type(value), type(value).__name__)


def check_type(value: Any, expected: type | tuple[type, ...], where: str) -> None:
    """Raise naming `where` when `value` is not of `expected` (a boolean is not a number here)."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return
    wanted = " or ".join(dict.fromkeys(_JSON_NAMES.get(k, k.__name__) for k in kinds))
    raise HarnessError(f"{where}: expected {wanted}, got {json_type(value)}")
