"""The task registry's cheap declarations (names and lazy factories in harness/tasks/__init__.py) match the
benchmarks' own tables, and each declared name builds the task of that name."""

from __future__ import annotations

from harness.core.registry import Ref
from harness.tasks import BABILONG, GROUPS, INFINITEBENCH, LONGBENCH, LONGBENCH_E, RULER, TASKS, get_task, mmlu_subjects


def test_declared_names_follow_the_benchmarks_tables() -> None:
    from harness.tasks.babilong.task import TASKS as BABILONG_TASKS
    from harness.tasks.infinitebench.task import TASK_NAMES
    from harness.tasks.longbench.task import DATASETS, E_DATASETS
    from harness.tasks.mmlu.task import subjects
    from harness.tasks.ruler.tasks import ROWS

    assert RULER == tuple(ROWS)
    assert INFINITEBENCH == tuple(TASK_NAMES)
    assert LONGBENCH == tuple(DATASETS) and LONGBENCH_E == tuple(E_DATASETS)
    assert mmlu_subjects() == subjects()
    assert BABILONG == BABILONG_TASKS


def test_groups_in_declaration_order() -> None:
    assert list(GROUPS) == ["ruler", "infinitebench", "longbench", "longbench_e", "mmlu", "mmlu_humanities", "mmlu_other",
                            "mmlu_social_sciences", "mmlu_stem", "babilong", "babilong_all"]
    assert GROUPS["ruler"].tasks == list(RULER) and len(GROUPS["mmlu"].tasks) == 57
    assert GROUPS["longbench_e"].tasks == [f"longbench_e_{n}" for n in LONGBENCH_E]


def test_every_task_is_a_lazy_entry() -> None:
    assert len(TASKS) == 13 + 2 + 12 + 21 + 13 + 57 + 2 + 20
    assert all(isinstance(TASKS.entry(name), Ref) for name in TASKS)


def test_every_declared_name_builds_that_task() -> None:
    assert [get_task(name).name for name in TASKS.names()] == TASKS.names()
