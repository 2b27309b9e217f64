"""Config files: YAML or JSON mappings (plugin configs, sweeps, boards), and the typed loader of their sections."""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from harness.core.errors import HarnessError
from harness.core.registry import unknown_field
from harness.core.userfiles import json_type, parse_json, parse_yaml, read_text

T = TypeVar("T")


def read_config_file(path: Path) -> dict[str, Any]:
    """A YAML or JSON config file as a mapping."""
    text = read_text(path, "config file")
    if not text.strip():
        return {}
    data = parse_json(text, str(path)) if path.suffix == ".json" else parse_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: expected a mapping of config fields, got {json_type(data)}")
    return data


def load_dataclass(cls: type[T], data: Mapping[str, Any], source: str,
                   parsers: Mapping[str, Callable[[Any], Any]] | None = None, fixed: Mapping[str, Any] | None = None) -> T:
    """Build the dataclass `cls` from a config mapping: the one typed loader of config sections (sweep sections,
    synth plugin configs, the evaluation `harness eval` builds from its flags).

    An unknown field, or a value of the wrong type, is an error naming `source`, the field and the value.
    `parsers` turn a field's text form into its type first (`"2k:300"` -> stages); a nested dataclass field
    is loaded from a mapping the same way. `fixed` fields are set by the caller, never by the mapping."""
    if not dataclasses.is_dataclass(cls):
        raise HarnessError(f"{cls.__name__} is not a dataclass")
    parsers = parsers or {}
    fixed = dict(fixed or {})
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    allowed = [name for name in names if name not in fixed]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            raise unknown_field(source, str(key), allowed)
        if key in parsers:
            try:
                value = parsers[key](value)
            except HarnessError as error:
                raise HarnessError(f"{source}: field {key!r} = {value!r}: {error}" if source else str(error)) from error
        nested = _dataclass_of(hints[key])
        if nested is not None and isinstance(value, Mapping):
            value = load_dataclass(nested, value, f"{source}.{key}" if source else key)
        if not type_ok(value, hints[key]):
            raise HarnessError(f"{source}: field {key!r} = {value!r} is not a valid {_type_name(hints[key])}")
        values[key] = value
    try:
        return cls(**values, **fixed)
    except TypeError as error:  # a required field missing
        raise HarnessError(f"{source}: {error}") from error
    except HarnessError as error:  # the dataclass's own check of its values
        raise HarnessError(f"{source}: {error}" if source else str(error)) from error


def type_ok(value: Any, annotation: Any) -> bool:
    """Whether a config value (from YAML/JSON) fits a field's annotation (str, int, float, bool, lists, tuples
    and dicts of those, unions, Optional, Literal, dataclasses)."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(type_ok(value, arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if not isinstance(value, (list, tuple)):
            return False
        return all(type_ok(v, args[0]) for v in value) if args else True
    if origin in (dict, collections.abc.Mapping) or annotation is dict:
        key, val = typing.get_args(annotation) or (Any, Any)
        return isinstance(value, Mapping) and all(type_ok(k, key) and type_ok(v, val) for k, v in value.items())
    return isinstance(value, annotation) if isinstance(annotation, type) else True


def _dataclass_of(annotation: Any) -> type | None:
    """The dataclass an annotation names (`JudgeSpec`, `JudgeSpec | None`), else None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _type_name(annotation: Any) -> str:
    return str(getattr(annotation, "__name__", annotation)).replace("typing.", "")
