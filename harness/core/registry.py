"""One generic registry: names map to objects or to lazy `"module:attr"` entries (the shape of lm-eval's `Registry`).

Every lookup by name in lc-harness goes through one: tasks and task groups (`harness.tasks`), backends
(`harness.core.backends`), built-in models (`harness.core.models`), synth plugins (`harness.synth.plugin`: each
entry point of the group `lc_harness.synth` is a `"module:attr"` entry) and board files (`harness.leaderboards.config`).

An entry is declared without importing it: a `"module:attr"` string, or a `Ref` (the same, optionally bound to
arguments, so one factory serves many names) is imported on the first `get`. That keeps heavy modules (torch, vllm,
scipy, every task module) out of `harness --help` and of task listings. Declaring a name twice with a different
entry raises; an unknown name raises with "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from harness.core.errors import HarnessError

T = TypeVar("T")


@dataclass(frozen=True)
class Ref:
    """A lazy entry: the object at `target` (`"package.module:attr"`, the entry-point syntax), imported when first
    loaded; with `args`/`kwargs`, that object bound to them (`functools.partial`). Calling a `Ref` loads it and
    calls the result, so a `Ref` can stand where a function is expected (a group's summary, a model's builder)."""

    target: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        module, sep, attr = self.target.partition(":")
        if not sep or not module.strip() or not attr.strip():
            raise HarnessError(f"lazy entry {self.target!r} is not of the form 'package.module:attr'")

    def load(self) -> Any:
        """Import the module and return the attribute (bound to `args`/`kwargs` if any)."""
        module_name, _, attr = self.target.partition(":")
        attr = attr.split("[", 1)[0].strip()  # an entry point may name extras: `module:attr [extra]`
        obj: Any = importlib.import_module(module_name.strip())
        for part in attr.split("."):
            obj = getattr(obj, part)
        if self.args or self.kwargs:
            return partial(obj, *self.args, **dict(self.kwargs))
        return obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.load()(*args, **kwargs)

    def __str__(self) -> str:
        bound = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.target}({', '.join(bound)})" if bound else self.target


def ref(target: str, *args: Any, **kwargs: Any) -> Ref:
    """`Ref(target)` bound to `args` and `kwargs`: `ref("harness.tasks.ruler.tasks:ruler_task", "vt")`."""
    return Ref(target, tuple(args), tuple(sorted(kwargs.items())))


class Registry(Generic[T]):
    """Named entries of one kind (`kind` names it in errors: "unknown task 'x'; did you mean ...").

    Entries are objects or lazy entries (a `"module:attr"` string or a `Ref`). Iteration, `items()` and `values()`
    follow declaration order, as a dict's; `names()` is sorted."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | Ref] = {}
        self._loaded: dict[str, T] = {}

    def register(self, name: str, entry: T | str | Ref) -> None:
        """Declare `entry` under `name`. The same entry declared again is a no-op (a package installed twice);
        a different one under a taken name raises."""
        if isinstance(entry, str):
            entry = Ref(entry)
        if name in self._entries:
            if self._entries[name] == entry:
                return
            raise HarnessError(f"{self.kind} {name!r} is already registered ({describe(self._entries[name])}); "
                               f"{describe(entry)} cannot take the same name")
        self._entries[name] = entry

    def decorator(self, name: str) -> Callable[[T], T]:
        """Register the decorated object under `name` and return it unchanged."""

        def wrap(obj: T) -> T:
            self.register(name, obj)
            return obj

        return wrap

    def get(self, name: str) -> T:
        """The entry for `name`, imported if lazy (once); an unknown name raises with suggestions. A lazy entry that
        fails to import raises what the import raised."""
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._entries:
            raise unknown_name(self.kind, name, self._entries)
        entry = self._entries[name]
        loaded: T = entry.load() if isinstance(entry, Ref) else entry
        self._loaded[name] = loaded
        return loaded

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def entry(self, name: str) -> T | Ref:
        """What `name` was declared as, without importing it (a `Ref` for a lazy entry)."""
        if name not in self._entries:
            raise unknown_name(self.kind, name, self._entries)
        return self._entries[name]

    def is_lazy(self, name: str) -> bool:
        """Whether `name` is a lazy entry not imported yet."""
        return isinstance(self._entries.get(name), Ref) and name not in self._loaded

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) in declaration order, every lazy entry imported."""
        return [(name, self.get(name)) for name in self._entries]

    def values(self) -> list[T]:
        """Every entry in declaration order, lazy ones imported."""
        return [self.get(name) for name in self._entries]


def describe(entry: object) -> str:
    """How an entry is named in messages: a lazy one by its target, an object by its repr."""
    return str(entry) if isinstance(entry, Ref) else repr(entry)


def close_matches(name: str, known: Iterable[str]) -> list[str]:
    """Up to three of `known` that are near misses of `name` (ignoring case where nothing else is close)."""
    names = list(known)
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        return close
    spelled = {n.lower(): n for n in names}
    return [spelled[c] for c in difflib.get_close_matches(name.lower(), list(spelled), n=3)]


def did_you_mean(name: str, known: Iterable[str], template: str = "{}") -> str:
    """`"did you mean a, b?"` for the near misses of `name` among `known` (each written through
    `template`, e.g. `"{}:"`), or `""` when none is close."""
    close = close_matches(name, known)
    return f"did you mean {', '.join(template.format(c) for c in close)}?" if close else ""


def unknown_name(kind: str, name: str, known: Iterable[str], template: str = "{}") -> HarnessError:
    """The error for a `kind` named `name` that is not among `known`: the near misses ("did you
    mean"), then the known names (of a long list: the first 20, and only when nothing is close)."""
    names = sorted(known)
    hint = did_you_mean(name, names, template)
    if len(names) > 20 and hint:
        return HarnessError(f"unknown {kind} {name!r}; {hint}")
    shown = ", ".join(template.format(n) for n in names[:20]) or "none"
    if len(names) > 20:
        shown += f", ... ({len(names)} in all)"
    return HarnessError(f"unknown {kind} {name!r}{'; ' + hint if hint else ''} (known: {shown})")


def unknown_field(where: str, key: str, allowed: Iterable[str], noun: str = "field") -> HarnessError:
    """The error for a config key that is not among `allowed`: `WHERE: unknown field 'kye'; did you mean key? (fields: ...)`."""
    names = sorted(allowed)
    hint = did_you_mean(key, names)
    return HarnessError(f"{where}: unknown {noun} {key!r}{'; ' + hint if hint else ''} ({noun}s: {', '.join(names)})")
