"""What `harness tasks [NAME]` and `harness eval --tasks list` print: the task table, a group's tasks, one task."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from tabulate import tabulate

from harness.core.errors import HarnessError

LIST_VALUES = ("list", "list_tasks", "list_groups")  # lm-eval's `--tasks list` (and its narrower forms)


def _groups_of(name: str) -> str:
    from harness.tasks import groups_of

    return ",".join(groups_of(name))


def task_table(names: list[str]) -> str:
    """One row per task: its groups, metric and generation budget."""
    from harness.tasks import get_task

    rows = []
    for name in names:
        task = get_task(name)
        rows.append([name, _groups_of(name), task.metric.name, task.max_new_tokens])
    table: str = tabulate(rows, headers=["task", "groups", "metric", "max new tokens"])
    return table


def groups_line() -> str:
    from harness.tasks import GROUPS

    return "groups: " + ", ".join(f"{g} ({len(group.tasks)} tasks)" for g, group in GROUPS.items())


def listing(what: str = "list") -> str:
    """Every task and group (`list`), only the tasks (`list_tasks`) or only the groups (`list_groups`)."""
    from harness.tasks import GROUPS, TASKS

    if what == "list_groups":
        groups: str = tabulate([[g, len(group.tasks), group.description] for g, group in GROUPS.items()],
                               headers=["group", "tasks", "what"])
        return groups
    table = task_table(TASKS.names())
    return table if what == "list_tasks" else f"{table}\n\n{groups_line()}"


@contextmanager
def hub_offline() -> Iterator[None]:
    """The Hugging Face hub offline for the block: a listing counts a task's data from local files or the
    datasets cache, and never waits on the network (offline, `datasets` retries a HEAD request for ~20 s)."""
    names = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    saved_env = {key: os.environ.get(key) for key in names}
    os.environ.update(dict.fromkeys(names, "1"))  # read when datasets / huggingface_hub are first imported
    patched = [(module, "HF_HUB_OFFLINE") for module in (sys.modules.get("huggingface_hub.constants"),
                                                            sys.modules.get("datasets.config")) if module is not None]
    saved_attrs = [getattr(module, attr, None) for module, attr in patched]
    for module, attr in patched:  # already imported in this process (the Python API): switch their flag
        setattr(module, attr, True)
    try:
        yield
    finally:
        for (module, attr), value in zip(patched, saved_attrs):
            setattr(module, attr, value)
        for key, env in saved_env.items():
            if env is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = env


def describe(name: str) -> str:
    """A group: its description and its tasks' table. A task: its settings, parameters and version."""
    from harness.core.limit import sample_count
    from harness.run_info import task_version
    from harness.tasks import GROUPS, TASKS, get_task, resolve

    if name in GROUPS:
        group = GROUPS[name]
        scoring = ("size-weighted (mean over samples)" if group.weighted else
                   f"mean of its categories ({', '.join(group.categories)})" if group.categories else "mean over its tasks")
        return f"group {name}: {group.description}; {len(group.tasks)} tasks, scored as the {scoring}\n\n{task_table(group.tasks)}"
    if name not in TASKS:
        resolve([name])  # raises: unknown task or group, with "did you mean"
        raise HarnessError(f"unknown task or group {name!r}")
    task = get_task(name)
    try:
        with hub_offline():
            size = task.size() if task.size is not None else None
        samples = str(sample_count(None, task.num_samples, size)) + (" (all of its data)" if size is not None else "")
    except HarnessError as error:  # data not found here: say so, still show the rest
        samples = f"all of its data ({error})"
    lines = [
        f"task {name}",
        f"groups: {_groups_of(name) or '-'}",
        f"metric: {task.metric.name} ({'higher' if task.metric.higher_is_better else 'lower'} is better)"
        + (", or an LLM judge (--judge)" if task.judge is not None else ""),
        f"max new tokens: {task.max_new_tokens}",
        f"stop: {list(task.stop) or '-'}",
        f"context: {'short (runs once, length 0)' if task.short else 'swept over --lengths'}",
        f"samples per length: {samples}",
        f"version: {task_version(task)}",
        f"parameters: {json.dumps(task.params, sort_keys=True, default=str)}",
    ]
    return "\n".join(lines)
