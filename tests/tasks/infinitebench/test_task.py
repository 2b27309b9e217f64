"""InfiniteBench end to end on local files of the published schema: templates, truncation across
lengths, counts in the results, data errors."""

import json
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task, resolve
from harness.tasks.data import TaskOptions
from tests.fakes import ScriptedBackend
from tests.tasks.longdoc_fixtures import write_infinitebench


@pytest.fixture(scope="module")
def ib_dir(tmp_path_factory) -> Path:
    return write_infinitebench(tmp_path_factory.mktemp("ib"))


def test_group_has_the_twelve_tasks() -> None:
    assert len(resolve(["infinitebench"])) == 12


def test_completion_style_uses_the_base_model_template(ib_dir, tokenizer) -> None:
    task = get_task("infinitebench_passkey", TaskOptions(data_dir=ib_dir))
    sample = task.make_sample(PromptFormat(tokenizer, chat=False), 100_000, 0, 42)
    assert isinstance(sample.prompt, str) and sample.prompt.endswith("What is the pass key?\n\nThe pass key is")
    assert sample.truncated_from == 0 and sample.targets[0].isdigit()


def test_chat_style_has_the_system_message_and_math_calc_example(ib_dir, chat_tokenizer) -> None:
    fmt = PromptFormat(chat_tokenizer, chat=True)
    sample = get_task("infinitebench_kv_retrieval", TaskOptions(data_dir=ib_dir)).make_sample(fmt, 100_000, 0, 42)
    assert sample.prompt[0] == {"role": "system", "content": "You are a helpful assistant."}
    assert sample.prompt[1]["content"].startswith("Extract the value corresponding to the specified key")
    calc = get_task("infinitebench_math_calc", TaskOptions(data_dir=ib_dir)).make_sample(fmt, 100_000, 0, 42)
    assert [m["role"] for m in calc.prompt] == ["system", "user", "assistant", "user"]
    assert calc.prompt[-1]["content"] == "1 + 2 + 3 - 1"
    forced = get_task("infinitebench_kv_retrieval", TaskOptions(data_dir=ib_dir, args={"prompt_style": "completion"}))
    assert forced.chat is False


def test_prompts_fit_each_length_and_generation_is_capped(ib_dir, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("infinitebench_longbook_sum_eng", TaskOptions(data_dir=ib_dir))
    for length in (256, 512, 1024):
        sample = task.make_sample(fmt, length, 2, 42)
        new_tokens = task.max_new_tokens_for(sample)
        assert new_tokens == min(1200, length // 2)
        assert fmt.count(sample.prompt) + new_tokens <= length
        assert sample.truncated_from > length - new_tokens
        assert sample.prompt.startswith("Summarize the book below.") and sample.prompt.endswith("Summary:")


def _answer_passkey(request) -> str:
    return "The pass key is 0."


def test_run_reports_truncated_and_skipped_counts(ib_dir, tokenizer, tmp_path) -> None:
    config = EvalConfig(model="scripted", tasks=["infinitebench_passkey", "infinitebench_math_find"], lengths=[256, 2048],
                        limit=5, data_dir=str(ib_dir))
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=_answer_passkey), tmp_path / "out", None)
    cell = result.results["infinitebench_passkey"]["256"]
    assert cell["n"] == 3 and cell["truncated"] == 3 and cell["skipped"] == 0  # the files hold 3 examples
    assert result.results["infinitebench_passkey"]["2048"]["truncated"] < 3
    config = EvalConfig(model="scripted", tasks=["infinitebench_passkey"], lengths=[256], limit=3, data_dir=str(ib_dir),
                        task_args={"truncate": "skip"})
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=_answer_passkey), tmp_path / "skip", None)
    assert result.results["infinitebench_passkey"]["256"] == {
        "score": None, "stderr": None, "n": 0, "metric": "first_int_match", "higher_is_better": True, "truncated": 0, "skipped": 3}


def test_scores_come_from_the_official_metric(ib_dir, tokenizer, tmp_path) -> None:
    rows = [json.loads(line) for line in (ib_dir / "infinitebench" / "passkey.jsonl").read_text().splitlines()]

    def answer(request) -> str:  # the key of examples 0 and 2 (untruncated at 16k), a wrong one for example 1
        key = next(r["answer"][0] for r in rows if r["answer"][0] in request.text)
        return "The pass key is 12." if key == rows[1]["answer"][0] else f"The pass key is {key}."

    config = EvalConfig(model="scripted", tasks=["infinitebench_passkey"], lengths=[16384], limit=3, data_dir=str(ib_dir))
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=answer, max_len=16384), tmp_path / "out", None)
    cell = result.results["infinitebench_passkey"]["16384"]
    assert cell["score"] == pytest.approx(200 / 3, abs=1e-4) and cell["truncated"] == 0


def test_data_errors_name_the_file_and_field(tmp_path) -> None:
    with pytest.raises(HarnessError, match="passkey.jsonl does not exist"):
        (tmp_path / "infinitebench").mkdir()
        get_task("infinitebench_passkey", TaskOptions(data_dir=tmp_path)).size()
    (tmp_path / "infinitebench" / "kv_retrieval.jsonl").write_text('{"context": "x", "input": "y"}\n')
    with pytest.raises(HarnessError, match=r"kv_retrieval.jsonl:1: missing field 'answer'"):
        get_task("infinitebench_kv_retrieval", TaskOptions(data_dir=tmp_path)).size()
    (tmp_path / "infinitebench" / "code_run.jsonl").write_text('{"context": "x"\n')
    with pytest.raises(HarnessError, match="code_run.jsonl:1: not valid JSON"):
        get_task("infinitebench_code_run", TaskOptions(data_dir=tmp_path)).size()


def test_hub_failure_says_how_to_use_local_files(monkeypatch) -> None:
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(HarnessError, match="pass --data-dir D with D/infinitebench/passkey.jsonl"):
        get_task("infinitebench_passkey", TaskOptions()).size()


def test_hub_rows_are_used_when_no_local_files(monkeypatch, tokenizer) -> None:
    import datasets

    from tests.tasks.longdoc_fixtures import infinitebench_rows

    calls = []

    def fake_load(hub_id, features=None, split=None, revision=None):
        calls.append((hub_id, split, revision))
        rows = [{**r, "answer": [str(a) for a in r["answer"]], "options": []} for r in infinitebench_rows("code_run", 2)]
        return datasets.Dataset.from_list(rows, features=features)

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    task = get_task("infinitebench_code_run", TaskOptions())
    assert task.size() == 2 and calls == [("xinrongzhang2022/InfiniteBench", "code_run", None)]  # no pinned revision yet: the hub's main
    sample = task.make_sample(PromptFormat(tokenizer, chat=False), 4096, 0, 42)
    assert sample.targets == ("4",) and task.score(sample, "The value of func_1(3) is 4") == 100.0
    assert len(calls) == 1  # loaded once per process
