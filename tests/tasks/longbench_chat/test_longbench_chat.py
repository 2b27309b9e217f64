"""LongBench-Chat: the judge prompt from the benchmark's files, rating parsing, re-asks, judge required."""

import json

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.judge import Judge
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.longbench_chat.task import parse_rating
from tests.fakes import ScriptedBackend


def write_cases(path, n=2):
    cases = [{"idx": i + 1, "query": f"Question {i}?", "prompt": ("Some document text. " * 200) + f"Question {i}?",
              "answer": f"Reference answer {i}."} for i in range(n)]
    path.write_text(json.dumps(cases))
    return path


def test_rating_is_the_first_number_of_the_last_double_brackets() -> None:
    assert parse_rating("Rating: [[7]]") == 7.0
    assert parse_rating("example [[6]] ... mine: [[8.5 out of 10]]") == 8.5
    assert parse_rating("no rating") is None and parse_rating("[[n/a]]") is None


def test_judge_prompt_uses_the_benchmarks_files(shared_data, tmp_path, tokenizer) -> None:
    options = TaskOptions(data_dir=shared_data, args={"longbench_chat": str(write_cases(tmp_path / "cases.json"))})
    task = get_task("longbench_chat", options)
    sample = task.make_sample(PromptFormat(tokenizer, chat=False), 1024, 0, 42)
    assert sample.truncated_from > 0 and sample.prompt.endswith("Question 0?")
    messages = task.judge.prompt(sample, "My answer.")
    assert messages[0] == {"role": "system", "content": "You're a good assistant at evaluating the quality of texts."}
    user = messages[1]["content"]
    few_shots = json.loads((shared_data / "longbench_chat" / "few_shots.json").read_text())
    assert "[Question]\nQuestion 0?" in user and "Reference answer 0." in user
    assert few_shots[0][0]["answer"] in user and user.count("[Assistant's answer begins]") == 4
    assert user.rstrip().endswith("My answer.\n[Assistant's answer ends]\n\nRating:")


def test_unreadable_verdicts_are_asked_again_and_judge_is_required(shared_data, tmp_path, tokenizer) -> None:
    cases = write_cases(tmp_path / "cases.json")
    config = EvalConfig(model="scripted", tasks=["longbench_chat"], lengths=[2048], data_dir=str(shared_data),
                        task_args={"longbench_chat": str(cases)})
    with pytest.raises(HarnessError, match="longbench_chat is scored by an LLM judge"):
        evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "An answer\nover two lines."), tmp_path / "a", None)

    replies = iter(["I think it is fine.", "Rating: [[6]]", "Rating: [[9]]"])
    judge_backend = ScriptedBackend(tokenizer, answer=lambda r: next(replies))
    judge = Judge(judge_backend, "scripted-judge", cache_path=tmp_path / "judge.db")
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "An answer\nover two lines."),
                         tmp_path / "b", None, judge)
    assert result.results["longbench_chat"]["2048"]["score"] == 7.5  # one case re-asked (then 6), one 9
    assert result.extra["reports"]["longbench_chat"]["2048"] == {"mean": 7.5, "sum": 15.0, "cases": 2, "judge_failed": 0}
    assert judge.calls == 3 and "An answer over two lines." in judge_backend.requests[0].text
    assert result.config["judge"] == "scripted-judge"
