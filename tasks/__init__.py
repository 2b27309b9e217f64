"""Benchmarks: the task registry and task groups. `get_task("niah_single_1")`, `resolve(["ruler"])`."""

from __future__ import annotations

from typing import Callable

from harness.errors import HarnessError
from harness.registry import Registry
from tasks.base import Task

TASKS: Registry[Callable[[], Task]] = Registry("task")
GROUPS: dict[str, list[str]] = {}


def _register_ruler() -> None:
    from functools import partial

    from tasks.ruler.tasks import NIAH_ROWS, niah_task

    for name in NIAH_ROWS:
        TASKS.register(name, partial(niah_task, name))
    GROUPS["ruler"] = list(NIAH_ROWS)


_register_ruler()


def get_task(name: str) -> Task:
    """Build the task registered as `name`."""
    return TASKS.get(name)()


def resolve(names: list[str]) -> list[str]:
    """Expand group names into task names, keeping order and dropping repeats."""
    out: list[str] = []
    for name in names:
        members = GROUPS.get(name, [name])
        for member in members:
            if member not in TASKS:
                TASKS.get(member)  # raises with suggestions
            if member not in out:
                out.append(member)
    if not out:
        raise HarnessError("no tasks given")
    return out
