"""The plugin contract: a `SynthPlugin` has a `name`, a typed `Config` dataclass, and
`run(ctx) -> Iterator[Record]`. Plugins, built-in or from other packages, register through the
Python entry point group `lc_harness.synth` (`name = "package.module:PluginClass"`), each a lazy entry of one
`harness.core.registry.Registry`: a plugin is imported when it is run or listed, not when another is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

from harness.core.configfile import load_dataclass
from harness.core.errors import HarnessError
from harness.core.registry import Registry, describe, unknown_name

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


def load_config(config_class: type[Any], data: dict[str, Any], source: str) -> Any:
    """Build a plugin's config dataclass from a mapping; an unknown or ill-typed field is an error
    naming the file, the field and the value."""
    config = load_dataclass(config_class, data, source)  # the one typed loader (harness.core.configfile)
    check = getattr(config, "validate", None)
    if callable(check):
        problem = check()
        if problem:
            raise HarnessError(f"{source}: {problem}")
    return config


def registry() -> tuple[Registry[type[SynthPlugin]], dict[str, str]]:
    """The installed plugins as lazy entries (nothing imported yet): each entry point of the group
    `lc_harness.synth` is a `"module:attr"` entry. Two packages declaring one name differently make that name
    broken (name -> why, the second result) rather than hide each other or the rest."""
    found: Registry[type[SynthPlugin]] = Registry("synth plugin")
    clashes: dict[str, str] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.register(entry.name, entry.value)
        except HarnessError as error:
            clashes[entry.name] = str(error)
    return found, clashes


def _load(found: Registry[type[SynthPlugin]], name: str) -> type[SynthPlugin]:
    """The plugin class of entry `name`; HarnessError (one line) when it fails to import or is no plugin."""
    target = describe(found.entry(name))
    try:
        cls = found.get(name)
    except Exception as error:  # any import-time failure of someone else's package
        message = str(error).splitlines()[0] if str(error).strip() else ""
        raise HarnessError(f"{target} failed to load ({type(error).__name__}: {message})") from error
    if not (isinstance(cls, type) and issubclass(cls, SynthPlugin)):
        raise HarnessError(f"{target} is not a SynthPlugin subclass")
    return cls


def discover() -> tuple[dict[str, type[SynthPlugin]], dict[str, str]]:
    """The installed plugins by name, every one imported, and the broken ones: name -> why (an entry point
    that fails to import, is not a SynthPlugin, or clashes with another). A broken third-party plugin is
    named, never allowed to hide the others."""
    entries, broken = registry()
    loaded: dict[str, type[SynthPlugin]] = {}
    for name in entries:
        if name in broken:
            continue
        try:
            loaded[name] = _load(entries, name)
        except HarnessError as error:
            broken[name] = str(error)
    return loaded, broken


def plugins() -> dict[str, type[SynthPlugin]]:
    """Every installed plugin that loads, by name (see `discover` for the broken ones)."""
    return discover()[0]


def get_plugin(name: str) -> type[SynthPlugin]:
    """The plugin registered as `name`, importing only that one; a broken or unknown one is an error (with
    "did you mean")."""
    entries, clashes = registry()
    if name in clashes:
        raise HarnessError(f"synth plugin {name!r} is installed but broken: {clashes[name]}")
    if name not in entries:
        raise unknown_name("synth plugin", name, entries)
    try:
        return _load(entries, name)
    except HarnessError as error:
        raise HarnessError(f"synth plugin {name!r} is installed but broken: {error}") from error
