"""The plugin contract: a `SynthPlugin` has a `name`, a typed `Config` dataclass, and
`run(ctx) -> Iterator[Record]`. Plugins, built-in or from other packages, register through the
Python entry point group `lc_harness.synth` (`name = "package.module:PluginClass"`).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

from harness.core.errors import HarnessError
from harness.core.registry import unknown_field, unknown_name

if TYPE_CHECKING:
    from harness.synth.context import SynthContext

ENTRY_POINT_GROUP = "lc_harness.synth"


@dataclass(frozen=True)
class Record:
    """One training example in chat form, what `harness train` reads."""

    id: str
    messages: tuple[dict[str, str], ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """One JSON line, keys sorted (byte-stable)."""
        return json.dumps({"id": self.id, "messages": list(self.messages), "meta": self.meta}, sort_keys=True, ensure_ascii=False)


class SynthPlugin:
    """Base class of synthesis plugins: set `name` and `Config`, implement `run`."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = object
    description: ClassVar[str] = ""
    uses_generator: ClassVar[bool] = True  # False: the plugin calls no model (no --generator is loaded)

    def __init__(self) -> None:
        self._stats: dict[str, Any] = {}  # a run fills it: the plugin's own statistics

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        raise NotImplementedError

    def check(self, config: Any, corpus: list[dict[str, Any]]) -> None:
        """Refuse what is knowable wrong before the generator is loaded and any work starts (files
        missing, sizes that cannot fit), raising HarnessError that names the config field to fix.
        `corpus`: the corpus sources as configured (not loaded). Default: nothing to check."""

    def planned(self, config: Any) -> int | None:
        """How many records a run of `config` should yield (the progress bar's total); None: unknown."""
        return None

    def stats(self) -> dict[str, Any]:
        """The plugin's own statistics of the last run (under `plugin` in stats.json)."""
        return self._stats

    @classmethod
    def output_stats(cls, out: Path) -> dict[str, Any]:
        """Statistics recomputed from a finished output directory (for `harness synth stats`)."""
        return {}


def _type_ok(value: Any, annotation: Any) -> bool:
    """Whether a config value (from YAML/JSON) fits a field's annotation (str, int, float, bool,
    lists and dicts of those, unions, Optional)."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple):
        args = typing.get_args(annotation)
        return isinstance(value, (list, tuple)) and all(_type_ok(v, args[0]) for v in value) if args else isinstance(value, (list, tuple))
    if origin is dict:
        key, val = typing.get_args(annotation) or (Any, Any)
        return isinstance(value, dict) and all(_type_ok(k, key) and _type_ok(v, val) for k, v in value.items())
    return isinstance(value, annotation) if isinstance(annotation, type) else True


def load_config(config_class: type, data: dict[str, Any], source: str) -> Any:
    """Build a plugin's config dataclass from a mapping; an unknown or ill-typed field is an error
    naming the file, the field and the value."""
    if not dataclasses.is_dataclass(config_class):
        raise HarnessError(f"{config_class.__name__} is not a dataclass")
    hints = typing.get_type_hints(config_class)
    fields = {f.name for f in dataclasses.fields(config_class)}
    for key, value in data.items():
        if key not in fields:
            raise unknown_field(source, key, fields)
        if not _type_ok(value, hints[key]):
            raise HarnessError(f"{source}: field {key!r} = {value!r} is not a valid {getattr(hints[key], '__name__', hints[key])}")
    try:
        config = config_class(**data)
    except TypeError as error:  # a required field missing
        raise HarnessError(f"{source}: {error}") from error
    check = getattr(config, "validate", None)
    if callable(check):
        problem = check()
        if problem:
            raise HarnessError(f"{source}: {problem}")
    return config


def discover() -> tuple[dict[str, type[SynthPlugin]], dict[str, str]]:
    """The installed plugins by name (entry point group `lc_harness.synth`), and the broken ones: name
    -> why (an entry point that fails to import, or is not a SynthPlugin). A broken third-party plugin
    is named, never allowed to hide the others."""
    found: dict[str, type[SynthPlugin]] = {}
    broken: dict[str, str] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
        except Exception as error:  # any import-time failure of someone else's package
            message = str(error).splitlines()[0] if str(error).strip() else ""
            broken[entry.name] = f"{entry.value} failed to load ({type(error).__name__}: {message})"
            continue
        if not (isinstance(cls, type) and issubclass(cls, SynthPlugin)):
            broken[entry.name] = f"{entry.value} is not a SynthPlugin subclass"
            continue
        found[entry.name] = cls
    return found, broken


def plugins() -> dict[str, type[SynthPlugin]]:
    """Every installed plugin that loads, by name (see `discover` for the broken ones)."""
    return discover()[0]


def get_plugin(name: str) -> type[SynthPlugin]:
    """The plugin registered as `name`; a broken or unknown one is an error (with "did you mean")."""
    found, broken = discover()
    if name in broken:
        raise HarnessError(f"synth plugin {name!r} is installed but broken: {broken[name]}")
    if name not in found:
        raise unknown_name("synth plugin", name, [*found, *broken])
    return found[name]
