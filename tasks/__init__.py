"""Benchmarks: the task registry and task groups. `get_task("niah_single_1")`, `resolve(["ruler"])`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.core.registry import Registry
from harness.tasks.base import Task
from harness.tasks.data import TaskOptions

TaskFactory = Callable[[TaskOptions], Task]
TASKS: Registry[TaskFactory] = Registry("task")


@dataclass(frozen=True)
class Group:
    """Named tasks reported together; `summarize` turns per-length means into extra aggregates."""

    tasks: list[str]
    summarize: Callable[[dict[int, float]], dict[str, Any]] | None = None
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    weighted: bool = False  # the group score is the mean over samples (lm-eval's size-weighted groups)


GROUPS: dict[str, Group] = {}


def _register_ruler() -> None:
    from harness.tasks.ruler.aggregate import ruler_summary
    from harness.tasks.ruler.tasks import ROWS, ruler_task

    for name in ROWS:
        TASKS.register(name, partial(_call_with_options, ruler_task, name))
    GROUPS["ruler"] = Group(list(ROWS), ruler_summary, "RULER's 13 synthetic tasks")


def _call_with_options(factory: Callable[[str, TaskOptions], Task], name: str, options: TaskOptions) -> Task:
    return factory(name, options)


def _register_niah() -> None:
    from harness.tasks.niah.task import niah_task

    TASKS.register("niah", lambda options: niah_task("niah", "single", options))
    TASKS.register("niah_multi", lambda options: niah_task("niah_multi", "multi", options))


def _register_infinitebench() -> None:
    from harness.tasks.infinitebench.task import TASK_NAMES, infinitebench_task

    for name in TASK_NAMES:
        TASKS.register(f"infinitebench_{name}", partial(_call_with_options, infinitebench_task, name))
    GROUPS["infinitebench"] = Group([f"infinitebench_{n}" for n in TASK_NAMES], None, "InfiniteBench's 12 tasks (real documents)")


def _register_longbench() -> None:
    from harness.tasks.longbench.task import DATASETS, E_DATASETS, longbench_task

    for name in DATASETS:
        TASKS.register(f"longbench_{name}", partial(_call_with_options, longbench_task, name))
    for name in E_DATASETS:
        TASKS.register(f"longbench_e_{name}", partial(_call_with_options, partial(longbench_task, e=True), name))
    GROUPS["longbench"] = Group([f"longbench_{n}" for n in DATASETS], None, "LongBench v1's 21 datasets")
    GROUPS["longbench_e"] = Group([f"longbench_e_{n}" for n in E_DATASETS], None, "LongBench-E's 13 datasets (length buckets)")


def _register_mmlu() -> None:
    from harness.tasks.mmlu.task import mmlu_task, subjects

    names = sorted(subjects())
    for name in names:
        TASKS.register(f"mmlu_{name}", partial(_call_with_options, mmlu_task, name))
    GROUPS["mmlu"] = Group([f"mmlu_{n}" for n in names], None, "MMLU's 57 subjects (size-weighted, as lm-eval)", weighted=True)
    for category in sorted(set(subjects().values())):
        members = [f"mmlu_{n}" for n in names if subjects()[n] == category]
        GROUPS[f"mmlu_{category}"] = Group(members, None, f"MMLU {category.replace('_', ' ')} subjects", weighted=True)


def _register_gsm8k() -> None:
    from harness.tasks.gsm8k.task import gsm8k_task

    TASKS.register("gsm8k", gsm8k_task)


def _register_longbench_chat() -> None:
    from harness.tasks.longbench_chat.task import longbench_chat_task

    TASKS.register("longbench_chat", longbench_chat_task)


_register_ruler()
_register_niah()
_register_infinitebench()
_register_longbench()
_register_mmlu()
_register_gsm8k()
_register_longbench_chat()


def get_task(name: str, options: TaskOptions | None = None) -> Task:
    """Build the task registered as `name`."""
    return TASKS.get(name)(options or TaskOptions())


def check_tasks(names: list[str], options: TaskOptions) -> None:
    """Build each task and read its data files: a missing or malformed file (or a bad task
    argument) is an error now, before a model is loaded for nothing."""
    for name in names:
        get_task(name, options).preflight()


def resolve(names: list[str]) -> list[str]:
    """Expand group names into task names, keeping order and dropping repeats."""
    out: list[str] = []
    for name in names:
        members = GROUPS[name].tasks if name in GROUPS else [name]
        for member in members:
            if member not in TASKS:
                known = Registry[int]("task or group")
                for known_name in [*TASKS.names(), *GROUPS]:
                    known.register(known_name, 0)
                known.get(member)  # raises with suggestions
            if member not in out:
                out.append(member)
    if not out:
        raise HarnessError("no tasks given")
    return out
