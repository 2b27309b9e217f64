"""One generic registry: names map to objects or lazy `"module:attr"` entries.

Collisions raise; unknown names get "did you mean" suggestions (the shape of lm-eval's `Registry`).
Lazy entries keep heavy imports (vllm, openai) out of `harness --help`.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, Iterable, Iterator, TypeVar

from harness.core.errors import HarnessError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind (backends, tasks, plugins, built-in models)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T | str] = {}

    def register(self, name: str, entry: T | str) -> None:
        """Add `entry` (an object or a lazy `"module:attr"` string) under `name`."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry

    def decorator(self, name: str):  # type: ignore[no-untyped-def]
        """Register the decorated object under `name` and return it unchanged."""

        def wrap(obj: T) -> T:
            self.register(name, obj)
            return obj

        return wrap

    def get(self, name: str) -> T:
        """The entry for `name`, importing it if lazy; an unknown name raises with suggestions."""
        if name not in self._entries:
            raise unknown_name(self.kind, name, self._entries)
        entry = self._entries[name]
        if isinstance(entry, str) and ":" in entry:
            module_name, attr = entry.split(":", 1)
            entry = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = entry
        return entry  # type: ignore[return-value]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)


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
