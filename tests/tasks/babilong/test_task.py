"""BABILong end to end on local files of the published schema: configs per length, the reference's
prompt, the budget rule, the ablation switches, and an eval through the CLI on the tiny model."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks import get_task, resolve
from harness.tasks.babilong.task import config_for
from harness.tasks.data import TaskOptions
from tests.tasks.babilong.fixtures import write_babilong

QA4_PROMPT = (
    "I will give you context with the facts about different people, their location and actions, hidden in some random "
    "text and a question. You need to answer the question based only on the information from the facts.\n\n"
    "<example>\nThe hallway is south of the kitchen. The bedroom is north of the kitchen. What is the kitchen south of?\n"
    "Answer: bedroom\n</example>\n<example>\nThe garden is west of the bedroom. The bedroom is west of the kitchen. "
    "What is west of the bedroom?\nAnswer: garden\n</example>\n\n"
    "Your answer should contain only one word - location. Do not write anything else after that.\n\n"
    "<context>\nThe kitchen is west of the garden. The office is east of the garden.\n</context>\n\n"
    "Question: What is west of the garden?"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_babilong(tmp_path_factory.mktemp("babilong"), {"0k": 0, "1k": 60})


def test_groups() -> None:
    assert resolve(["babilong"]) == [f"babilong_qa{i}" for i in range(1, 6)]
    assert len(resolve(["babilong_all"])) == 20


def test_each_length_reads_the_largest_config_that_fits() -> None:
    assert [config_for(n) for n in (256, 1023, 1024, 3000, 4096, 131072, 2_000_000)] == \
        ["0k", "0k", "1k", "2k", "4k", "128k", "1M"]


def test_prompt_is_the_references(data, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    sample = get_task("babilong_qa4", TaskOptions(data_dir=data)).make_sample(fmt, 512, 0, 42)
    assert sample.prompt == QA4_PROMPT
    assert sample.targets == ("kitchen",) and sample.meta["config"] == "0k" and sample.truncated_from == 0


def test_ablations_drop_the_task_parts(data, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    args = {"use_instruction": "false", "use_examples": "false", "use_post_prompt": "false"}
    sample = get_task("babilong_qa4", TaskOptions(data_dir=data, args=args)).make_sample(fmt, 512, 0, 42)
    assert sample.prompt == QA4_PROMPT[QA4_PROMPT.index("<context>"):]
    only_examples = get_task("babilong_qa4", TaskOptions(data_dir=data, args={"use_examples": "false"}))
    assert "<example>" not in only_examples.make_sample(fmt, 512, 0, 42).prompt


def test_nominal_config_is_cut_in_the_middle_to_the_budget(data, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("babilong_qa1", TaskOptions(data_dir=data, args={"config": "nominal"}))
    sample = task.make_sample(fmt, 1024, 1, 42)
    assert sample.meta["config"] == "1k" and sample.truncated_from > 1024
    assert fmt.count(sample.prompt) <= task.prompt_budget(1024) == 1024 - 20
    assert sample.prompt.startswith("I will give you context") and sample.prompt.endswith("Question: Where is Mary?")
    skipping = get_task("babilong_qa1", TaskOptions(data_dir=data, args={"truncate": "skip", "config": "nominal"}))
    assert skipping.make_sample(fmt, 1024, 1, 42).skipped


def test_fit_takes_the_largest_config_that_fits_uncut(data, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("babilong_qa1", TaskOptions(data_dir=data))
    cut = task.make_sample(fmt, 1024, 1, 42)  # the 1k haystack and the prompt overflow 1k: the 0k row, whole
    assert cut.meta["config"] == "0k" and cut.truncated_from == 0
    roomy = task.make_sample(fmt, 4096, 1, 42)  # no 2k/4k files here: the 1k row fits a 4k window uncut
    assert roomy.meta["config"] == "1k" and roomy.truncated_from == 0
    assert fmt.count(roomy.prompt) <= task.prompt_budget(4096)


def test_generated_haystack_fits_any_length_exactly(data, shared_data, tokenizer, tmp_path) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    (tmp_path / "pg_essays").symlink_to(shared_data / "pg_essays")
    (tmp_path / "babilong").symlink_to(data / "babilong")
    task = get_task("babilong_qa3", TaskOptions(data_dir=tmp_path, args={"haystack": "generated"}))
    task.preflight()
    facts = ["Sandra took the milk.", "Sandra went to the garden.", "Sandra went to the office."]
    for length in (1000, 3000, 6000):
        sample = task.make_sample(fmt, length, 0, 42)
        assert not sample.skipped, sample.skipped
        tokens = fmt.count(sample.prompt)
        assert sample.prompt_tokens == tokens <= task.prompt_budget(length)
        assert task.prompt_budget(length) - tokens < 80  # one background sentence at most is left out
        context = sample.prompt[sample.prompt.index("<context>"):]
        positions = [context.index(f) for f in facts]
        assert positions == sorted(positions)  # the facts in their order, among the sentences
        assert sample.meta["config"] == "generated" and sample.needle_depths is not None
    assert task.make_sample(fmt, 3000, 0, 42) == task.make_sample(fmt, 3000, 0, 42)
    assert task.make_sample(fmt, 3000, 0, 42).prompt != task.make_sample(fmt, 3000, 0, 43).prompt  # other positions
    tiny = task.make_sample(fmt, 512, 0, 42)  # qa3's prompt (instruction, examples) without haystack is over 492 tokens
    assert tiny.skipped and "too small" in tiny.skipped


def test_bad_haystack_option(data) -> None:
    with pytest.raises(HarnessError, match="haystack"):
        get_task("babilong_qa1", TaskOptions(data_dir=data, args={"haystack": "pg19"}))
    with pytest.raises(HarnessError, match="pg_essays"):
        get_task("babilong_qa1", TaskOptions(data_dir=data, args={"haystack": "generated"})).preflight()


def test_scores_with_the_sample_question(data, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("babilong_qa3", TaskOptions(data_dir=data))
    sample = task.make_sample(fmt, 512, 0, 42)
    assert task.score(sample, " Before the office the milk was in the garden.") == 100.0
    assert task.score(sample, "office") == 0.0  # named in the question: never the answer


def test_size_and_missing_files(data, tmp_path) -> None:
    assert get_task("babilong_qa2", TaskOptions(data_dir=data)).size() == 3  # type: ignore[misc]
    (tmp_path / "babilong").mkdir()
    with pytest.raises(HarnessError, match="no .*babilong/<length>/qa1.jsonl"):
        get_task("babilong_qa1", TaskOptions(data_dir=tmp_path)).preflight()


def _harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True)


def test_tasks_lists_the_group() -> None:
    done = _harness("tasks", "babilong")
    assert done.returncode == 0, done.stderr
    assert all(f"babilong_qa{i}" in done.stdout for i in range(1, 6))


@pytest.mark.slow
def test_eval_through_the_cli_at_two_lengths(tiny_path, data, tmp_path) -> None:
    out = tmp_path / "out"
    done = _harness("eval", "--model", "tiny-random", "--tasks", "babilong", "--data-dir", str(data),
                    "--lengths", "512,1k", "--limit", "2", "--output", str(out), "--model-args", "max_length=1024")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    assert set(results) >= {f"babilong_qa{i}" for i in range(1, 6)}
    assert set(results["babilong_qa1"]) == {"512", "1024"} and results["babilong_qa1"]["512"]["n"] == 2
    assert results["babilong_qa1"]["1024"]["truncated"] == 0  # the 0k rows fit whole (config=fit)
