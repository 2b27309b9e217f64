"""Benchmarks: the task registry and task groups. `get_task("niah_single_1")`, `resolve(["ruler"])`.

Every task and group is declared here by name, its factory a lazy `"module:attr"` entry (`harness.core.registry`):
listing or resolving task names imports no task module, and `get_task` imports only the benchmark it builds. A
factory takes the run's `TaskOptions` (bound first to the task's own name where one factory serves many tasks).
The name lists below follow the benchmarks' own tables (RULER's `ROWS`, InfiniteBench's scorers, LongBench's
metrics, MMLU's `subjects.toml`); tests/tasks/test_registry.py keeps them in step.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from harness.core.errors import HarnessError
from harness.core.registry import Ref, Registry, ref, unknown_name

if TYPE_CHECKING:
    from harness.tasks.base import Task
    from harness.tasks.data import TaskOptions

TaskFactory = Callable[["TaskOptions"], "Task"]
TASKS: Registry[TaskFactory] = Registry("task")


@dataclass(frozen=True)
class Group:
    """Named tasks reported together; `summarize` turns per-length means into extra aggregates."""

    tasks: list[str]
    summarize: Callable[[dict[int, float]], dict[str, Any]] | None = None
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    weighted: bool = False  # the group score is the mean over samples (lm-eval's size-weighted groups)
    categories: tuple[str, ...] = ()  # groups whose per-length scores this group averages (HELMET's overall), not its tasks


GROUPS: Registry[Group] = Registry("group")

RULER = ("niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
         "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2")
INFINITEBENCH = ("passkey", "number_string", "kv_retrieval", "longbook_sum_eng", "longbook_qa_eng", "longbook_choice_eng",
                 "longdialogue_qa_eng", "longbook_qa_chn", "code_debug", "code_run", "math_calc", "math_find")
LONGBENCH = ("narrativeqa", "qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "musique", "triviaqa", "multifieldqa_zh",
             "dureader", "vcsum", "gov_report", "qmsum", "multi_news", "samsum", "trec", "lsht", "passage_retrieval_en",
             "passage_retrieval_zh", "passage_count", "lcc", "repobench-p")
LONGBENCH_E = ("qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "gov_report", "multi_news", "trec", "triviaqa",
               "samsum", "passage_count", "passage_retrieval_en", "lcc", "repobench-p")
BABILONG = tuple(f"qa{i}" for i in range(1, 21))  # bAbI's 20 tasks; the group `babilong` holds qa1-qa5
HELMET_ICL = ("trec_coarse", "trec_fine", "nlu", "banking77", "clinic150")  # HELMET's ICL datasets (icl.SETS)
HELMET_RAG = ("nq", "triviaqa", "hotpotqa", "popqa")  # HELMET's RAG datasets (rag.DATASETS)
# HELMET's categories (scripts/collect_results.py `custom_avgs`); Recall takes three of our RULER tasks as HELMET does
HELMET_CATEGORIES = {
    "recall": ("json_kv", "niah_multikey_2", "niah_multikey_3", "niah_multivalue"),
    "rag": tuple(HELMET_RAG),
    "rerank": ("msmarco",),
    "cite": ("alce_asqa", "alce_qampari"),
    "longqa": ("narrativeqa", "infbench_qa", "infbench_choice"),
    "summ": ("infbench_sum", "multi_lexsum"),
    "icl": tuple(f"icl_{name}" for name in HELMET_ICL),
}
HELMET_LABELS = {"recall": "Recall (JSON KV and RULER MK-2, MK-3, MV)", "rag": "RAG (NQ, TriviaQA, HotpotQA, PopQA)",
                 "rerank": "Re-rank (MS MARCO, NDCG@10)", "cite": "Cite (ALCE ASQA, QAMPARI)",
                 "longqa": "LongQA (NarrativeQA, InfiniteBench QA and MC)",
                 "summ": "Summ (InfiniteBench Sum, Multi-LexSum; judged)", "icl": "ICL (TREC coarse/fine, NLU, Banking77, Clinic150)"}


def mmlu_subjects() -> dict[str, str]:
    """MMLU subject -> lm-eval category, from `mmlu/subjects.toml` (read without importing the MMLU task)."""
    with open(Path(__file__).with_name("mmlu") / "subjects.toml", "rb") as f:
        return {k: str(v) for k, v in tomllib.load(f).items()}


def _family(prefix: str, names: tuple[str, ...], target: str, **bound: Any) -> list[str]:
    """Register `prefix + name` for each name as `target(name, options, **bound)`; the registered names."""
    for name in names:
        TASKS.register(prefix + name, ref(target, name, **bound))
    return [prefix + name for name in names]


def _declare() -> None:
    ruler = _family("", RULER, "harness.tasks.ruler.tasks:ruler_task")
    GROUPS.register("ruler", Group(ruler, Ref("harness.tasks.ruler.aggregate:ruler_summary"), "RULER's 13 synthetic tasks"))
    TASKS.register("niah", ref("harness.tasks.niah.task:niah_task", "niah", "single"))
    TASKS.register("niah_multi", ref("harness.tasks.niah.task:niah_task", "niah_multi", "multi"))
    infinitebench = _family("infinitebench_", INFINITEBENCH, "harness.tasks.infinitebench.task:infinitebench_task")
    GROUPS.register("infinitebench", Group(infinitebench, None, "InfiniteBench's 12 tasks (real documents)"))
    longbench = _family("longbench_", LONGBENCH, "harness.tasks.longbench.task:longbench_task")
    longbench_e = _family("longbench_e_", LONGBENCH_E, "harness.tasks.longbench.task:longbench_task", e=True)
    GROUPS.register("longbench", Group(longbench, None, "LongBench v1's 21 datasets"))
    GROUPS.register("longbench_e", Group(longbench_e, None, "LongBench-E's 13 datasets (length buckets)"))
    subjects = mmlu_subjects()
    mmlu = _family("mmlu_", tuple(sorted(subjects)), "harness.tasks.mmlu.task:mmlu_task")
    GROUPS.register("mmlu", Group(mmlu, None, "MMLU's 57 subjects (size-weighted, as lm-eval)", weighted=True))
    for category in sorted(set(subjects.values())):
        members = [f"mmlu_{n}" for n in sorted(subjects) if subjects[n] == category]
        GROUPS.register(f"mmlu_{category}", Group(members, None, f"MMLU {category.replace('_', ' ')} subjects", weighted=True))
    TASKS.register("gsm8k", "harness.tasks.gsm8k.task:gsm8k_task")
    TASKS.register("longbench_chat", "harness.tasks.longbench_chat.task:longbench_chat_task")
    TASKS.register("longbench_v2", "harness.tasks.longbench_v2.task:longbench_v2_task")
    babilong = _family("babilong_", BABILONG, "harness.tasks.babilong.task:babilong_task")
    GROUPS.register("babilong", Group(babilong[:5], None, "BABILong qa1-qa5 (bAbI facts in PG-19 haystacks)"))
    GROUPS.register("babilong_all", Group(babilong, None, "BABILong's 20 bAbI tasks"))
    TASKS.register("helmet_infbench_sum", "harness.tasks.helmet.summ:infbench_sum_task")  # HELMET Summ (judged)
    TASKS.register("helmet_multi_lexsum", "harness.tasks.helmet.summ:multi_lexsum_task")
    _family("helmet_icl_", HELMET_ICL, "harness.tasks.helmet.icl:icl_task")  # HELMET ICL (shots fill the length)
    TASKS.register("helmet_narrativeqa", "harness.tasks.helmet.longqa:narrativeqa_task")  # HELMET LongQA
    _family("helmet_", ("infbench_qa", "infbench_choice"), "harness.tasks.helmet.longqa:infbench_task")
    _family("helmet_alce_", ("asqa", "qampari"), "harness.tasks.helmet.cite:cite_task")  # HELMET Cite (NLI-scored)
    _family("helmet_", ("json_kv",), "harness.tasks.helmet.recall:recall_task")  # HELMET Recall (with RULER's)
    _family("helmet_", HELMET_RAG, "harness.tasks.helmet.rag:rag_task")  # HELMET RAG (KILT passages fill the length)
    _family("helmet_", ("msmarco",), "harness.tasks.helmet.rerank:rerank_task")  # HELMET Re-rank (NDCG@10)
    categories = {name: [t if t in ruler else f"helmet_{t}" for t in members] for name, members in HELMET_CATEGORIES.items()}
    for name, members in categories.items():
        GROUPS.register(f"helmet_{name}", Group(members, None, f"HELMET {HELMET_LABELS[name]}"))
    GROUPS.register("helmet", Group([t for members in categories.values() for t in members], None,
                                    "HELMET's seven categories",
                                    categories=tuple(f"helmet_{name}" for name in categories)))


_declare()


def get_task(name: str, options: TaskOptions | None = None) -> Task:
    """Build the task registered as `name` (importing its benchmark's module on first use)."""
    from harness.tasks.data import TaskOptions

    options = options or TaskOptions()
    if any("." in key for key in options.args):  # `niah.depth_steps=5`: only this task's (or its group's) keys
        from dataclasses import replace

        from harness.tasks.options import own_args

        options = replace(options, args=own_args(name, groups_of(name), options.args))
    return TASKS.get(name)(options)


def groups_of(name: str) -> list[str]:
    """The groups holding task `name` (a `--task-args` key qualified by one of them reaches it)."""
    return [group for group in GROUPS if name in GROUPS.get(group).tasks]


def check_tasks(names: list[str], options: TaskOptions) -> None:
    """Build each task and read its data files: a missing or malformed file (or a bad task
    argument) is an error now, before a model is loaded for nothing."""
    from harness.tasks.options import resolve_task_args

    resolve_task_args(names, options.args)  # a key no task declares, or an ambiguous one, is an error
    for name in names:
        get_task(name, options).preflight()


def resolve(names: list[str]) -> list[str]:
    """Expand group names into task names, keeping order and dropping repeats; an unknown name raises with
    "did you mean" over the tasks and the groups."""
    out: list[str] = []
    for name in names:
        members = GROUPS[name].tasks if name in GROUPS else [name]
        for member in members:
            if member not in TASKS:
                raise unknown_name("task or group", member, [*TASKS, *GROUPS])
            if member not in out:
                out.append(member)
    if not out:
        raise HarnessError("no tasks given")
    return out
