"""LongBench and LongBench-E end to end on local files of the published schema."""

from pathlib import Path

import pytest

from harness.core.prompt import PromptFormat
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task, resolve
from harness.tasks.data import TaskOptions
from harness.tasks.longbench.task import bucket_of
from tests.fakes import ScriptedBackend
from tests.tasks.longdoc_fixtures import write_longbench


@pytest.fixture(scope="module")
def lb_dir(tmp_path_factory) -> Path:
    return write_longbench(tmp_path_factory.mktemp("lb"))


def test_groups() -> None:
    assert len(resolve(["longbench"])) == 21 and len(resolve(["longbench_e"])) == 13


def test_chat_template_except_for_the_few_shot_and_code_datasets() -> None:
    assert get_task("longbench_hotpotqa").chat is True
    for name in ("trec", "triviaqa", "samsum", "lsht", "lcc", "repobench-p"):
        assert get_task(f"longbench_{name}").chat is False


def test_prompt_is_the_dataset_template_truncated_in_the_middle(lb_dir, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("longbench_hotpotqa", TaskOptions(data_dir=lb_dir))
    sample = task.make_sample(fmt, 512, 2, 42)
    assert sample.prompt.startswith("Answer the question based on the given passages.")
    assert sample.prompt.endswith("Question: What did the falcon carry?\nAnswer:")
    assert fmt.count(sample.prompt) + 32 <= 512 and sample.truncated_from > 480


def test_buckets() -> None:
    assert [bucket_of(n) for n in (0, 3999, 4000, 7999, 8000)] == ["0-4k", "0-4k", "4-8k", "4-8k", "8k+"]


def test_longbench_e_reports_buckets_per_length(lb_dir, tokenizer, tmp_path) -> None:
    def answer(request) -> str:
        return "Human" if "Human" in request.text[-200:] else "Location"

    config = EvalConfig(model="scripted", tasks=["longbench_e_trec", "longbench_trec"], lengths=[512, 1024], data_dir=str(lb_dir))
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=answer), tmp_path / "out", None)
    report = result.extra["reports"]["longbench_e_trec"]["buckets"]
    assert set(report) == {"512", "1024"} and set(report["512"]) == {"0-4k", "4-8k", "8k+"}
    assert result.results["longbench_trec"]["512"]["n"] == 3
    assert result.groups["longbench"]["tasks"] == ["longbench_trec"]
