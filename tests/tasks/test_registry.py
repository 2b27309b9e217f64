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
    from harness.tasks import HELMET_RAG
    from harness.tasks.helmet.rag import DATASETS as RAG_DATASETS

    assert HELMET_RAG == RAG_DATASETS


def test_groups_in_declaration_order() -> None:
    assert list(GROUPS) == ["ruler", "infinitebench", "longbench", "longbench_e", "mmlu", "mmlu_humanities", "mmlu_other",
                            "mmlu_social_sciences", "mmlu_stem", "babilong", "babilong_all", "helmet_recall", "helmet_rag",
                            "helmet_rerank", "helmet_cite", "helmet_longqa", "helmet_summ", "helmet_icl", "helmet"]
    assert GROUPS["ruler"].tasks == list(RULER) and len(GROUPS["mmlu"].tasks) == 57
    assert GROUPS["longbench_e"].tasks == [f"longbench_e_{n}" for n in LONGBENCH_E]


def test_helmet_groups_are_its_categories() -> None:
    from harness.tasks import HELMET_CATEGORIES

    assert len(HELMET_CATEGORIES) == 7 and GROUPS["helmet"].categories == tuple(f"helmet_{c}" for c in HELMET_CATEGORIES)
    assert GROUPS["helmet_recall"].tasks == ["helmet_json_kv", "niah_multikey_2", "niah_multikey_3", "niah_multivalue"]
    assert GROUPS["helmet"].tasks == [t for c in HELMET_CATEGORIES for t in GROUPS[f"helmet_{c}"].tasks]
    assert all(t in TASKS for t in GROUPS["helmet"].tasks)


def test_helmet_overall_is_the_mean_of_its_categories() -> None:
    from harness.results import group_scores

    cell = {"n": 2, "metric": "m", "higher_is_better": True}
    table = {"helmet_json_kv": {"1024": {**cell, "score": 90.0}}, "niah_multikey_2": {"1024": {**cell, "score": 70.0}},
             "helmet_nq": {"1024": {**cell, "score": 20.0}}, "helmet_msmarco": {"1024": {**cell, "score": 10.0}}}
    groups = group_scores(table, dict(GROUPS.items()))
    assert groups["helmet_recall"]["lengths"]["1024"]["score"] == 80.0
    overall = groups["helmet"]["lengths"]["1024"]
    assert overall["score"] == round((80.0 + 20.0 + 10.0) / 3, 4) and overall["macro"] == 47.5  # categories, not tasks
    assert overall["categories"] == {"helmet_recall": 80.0, "helmet_rag": 20.0, "helmet_rerank": 10.0}
    assert groups["helmet"]["partial"] and groups["helmet"]["avg"] == overall["score"]


def test_every_task_is_a_lazy_entry() -> None:
    # + longbench_v2, helmet_infbench_sum, helmet_multi_lexsum; 5 helmet_icl_* and 3 HELMET LongQA
    # + helmet_alce_asqa, helmet_alce_qampari (Cite); + helmet_json_kv, 4 HELMET RAG, helmet_msmarco
    assert len(TASKS) == 13 + 2 + 12 + 21 + 13 + 57 + 2 + 20 + 1 + 2 + 8 + 2 + 6
    assert all(isinstance(TASKS.entry(name), Ref) for name in TASKS)


def test_every_declared_name_builds_that_task() -> None:
    assert [get_task(name).name for name in TASKS.names()] == TASKS.names()
