"""Typed per-task options: which `--task-args` key reaches which task, and what is refused."""

import pytest

from harness.core.errors import HarnessError
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.mmlu.task import MmluOptions
from harness.tasks.niah.task import NiahOptions
from harness.tasks.options import Options, own_args, resolve_task_args
from harness.tasks.ruler.common import EssayOptions, QAOptions


def test_each_task_declares_its_own_typed_options() -> None:
    options = resolve_task_args(["niah", "niah_single_1", "niah_single_2", "qa_1", "mmlu_anatomy"], {})
    assert type(options["niah"]) is NiahOptions and options["niah"].depth_steps == 11
    assert type(options["niah_single_1"]) is Options  # a noise haystack reads no option
    assert type(options["niah_single_2"]) is EssayOptions
    assert type(options["qa_1"]) is QAOptions and type(options["mmlu_anatomy"]) is MmluOptions
    assert all(o.given == {} for o in options.values())


def test_an_unqualified_key_reaches_only_the_tasks_that_declare_it() -> None:
    options = resolve_task_args(["niah", "niah_multi", "niah_single_1"], {"depth_steps": 5})
    assert options["niah"].given == options["niah_multi"].given == {"depth_steps": 5}
    assert options["niah_single_1"].given == {}


def test_a_qualified_key_reaches_only_its_task_or_group() -> None:
    options = resolve_task_args(["niah", "niah_multi"], {"niah.depth_steps": 5})
    assert options["niah"].depth_steps == 5 and options["niah_multi"].depth_steps == 11  # niah is a task, not a family
    options = resolve_task_args(["mmlu_anatomy", "mmlu_virology", "gsm8k"], {"mmlu.num_fewshot": 2})
    assert options["mmlu_anatomy"].num_fewshot == options["mmlu_virology"].num_fewshot == 2
    assert options["gsm8k"].given == {}
    # the task's own spelling wins over its group's, which wins over the bare key
    args = {"num_fewshot": 1, "mmlu.num_fewshot": 2, "mmlu_anatomy.num_fewshot": 3}
    assert own_args("mmlu_anatomy", ["mmlu", "mmlu_stem"], args) == {"num_fewshot": 3}
    assert own_args("mmlu_virology", ["mmlu", "mmlu_other"], args) == {"num_fewshot": 2}
    assert get_task("mmlu_virology", TaskOptions(args=args)).options.num_fewshot == 2


def test_a_shared_key_reaches_tasks_with_different_options() -> None:
    options = resolve_task_args(["niah", "niah_single_2"], {"haystack_dir": "/essays"})
    assert options["niah"].haystack_dir == options["niah_single_2"].haystack_dir == "/essays"
    options = resolve_task_args(["longbench_qasper", "infinitebench_passkey"], {"truncate": "left"})
    assert {o.truncate for o in options.values()} == {"left"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("tasks", "raw", "message"), [
    (["niah", "niah_single_1"], {"depth_step": 5}, "no selected task .* did you mean depth_steps"),
    (["niah_single_1"], {"depth_steps": 5}, "--task-args depth_steps: no selected task \\(niah_single_1\\)"),
    (["niah", "niah_single_1"], {"niahh.depth_steps": 5}, "'niahh' is not a selected task or group.*did you mean niah"),
    (["niah"], {"niah.depth_stepz": 5}, "niah has no option 'depth_stepz'.*did you mean niah.depth_steps"),
    (["qa_1", "fwe"], {"data": "x", "placement": "sideways"}, "placement='sideways': expected one of ruler, per_sample"),
    (["niah"], {"depth_steps": "many"}, "depth_steps='many'"),
    (["mmlu_anatomy"], {"num_fewshot": 7}, "num_fewshot=7"),
])
def test_bad_keys_and_values_are_named(tasks, raw, message) -> None:
    with pytest.raises(HarnessError, match=message):
        resolve_task_args(tasks, raw)


def test_an_unqualified_key_declared_differently_is_ambiguous() -> None:
    from dataclasses import dataclass

    from harness.tasks.options import check_task_args

    @dataclass(frozen=True)
    class Other(Options):
        depth_steps: int = 3

    with pytest.raises(HarnessError, match="depth_steps is ambiguous.*niah.depth_steps, helmet.depth_steps"):
        check_task_args({"niah": NiahOptions, "helmet": Other}, {}, {"depth_steps": 5})
    check_task_args({"niah": NiahOptions, "helmet": Other}, {}, {"niah.depth_steps": 5})
