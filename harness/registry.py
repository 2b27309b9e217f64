"""One generic registry: names map to objects or lazy `"module:attr"` entries.

Collisions raise; unknown names get "did you mean" suggestions (the shape of lm-eval's `Registry`).
Lazy entries keep heavy imports (vllm, openai) out of `harness --help`.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, Iterator, TypeVar

from harness.errors import HarnessError

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
            close = difflib.get_close_matches(name, list(self._entries), n=3)
            names = sorted(self._entries)
            shown = ", ".join(names) if len(names) <= 20 else f"{', '.join(names[:20])}, ... ({len(names)} in all)"
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {shown}"
            raise HarnessError(f"unknown {self.kind} {name!r}{hint}")
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
