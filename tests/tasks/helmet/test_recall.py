"""HELMET JSON KV on small files of the published schema: the published object kept as written, HELMET's prompt,
demos and rows, any length fit exactly (prompt + 100 generated tokens), the gold pair always in, at its depth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.helmet import fit
from harness.tasks.helmet.recall import parse_object
from tests.tasks.helmet.fixtures import json_kv_rows, kv_context, write_json_kv, write_jsonl


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_json_kv(tmp_path_factory.mktemp("helmet"))


def test_the_published_object_round_trips() -> None:
    row = json_kv_rows(1)[0]
    kv = parse_object(row["context"], row["question"], "row")
    assert kv.render(len(kv.records)) == row["context"] and kv.prefix == "JSON data:\n" and kv.sep == ",\n "
    one_line = json.dumps({"a": "1", "b": "2", "c": "3"})
    kv = parse_object(one_line, '"b"', "row")  # another layout, a quoted key
    assert kv.gold == 1 and kv.render(2) == one_line and kv.render(0) == '{"b": "2"}'


def test_bad_contexts_name_the_row_and_field() -> None:
    with pytest.raises(HarnessError, match="row: field 'context' holds no JSON object"):
        parse_object("no object", "k", "row")
    with pytest.raises(HarnessError, match="row: field 'question': key 'zz'"):
        parse_object(kv_context([("a", "1"), ("b", "2")]), "zz", "row")
    with pytest.raises(HarnessError, match="string values"):
        parse_object('{"a": 1}', "a", "row")


def test_prompt_is_helmets(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_json_kv", TaskOptions(data_dir=data))
    sample = task.make_sample(fmt, 16384, 0, 42)
    row = json_kv_rows()[sample.meta["row"]]
    demos = "".join(f"Key: {k}\nCorresponding value: {v}\n\n" for k, v in row["demos"][:2])
    assert sample.prompt == (f"{row['context']}\n\nExtract the value corresponding to the specified key in the JSON "
                             f"object below.\n\n{demos}Key: {row['question']}")
    assert sample.answer_prefix == "\nCorresponding value:" and sample.targets == (row["answer"],)
    assert sample.meta["pairs"] == sample.meta["published_pairs"] == 120  # everything fits at 16k
    assert task.max_new_tokens == 100 and task.stop == () and not task.chat


def test_rows_follow_helmets_shuffle(data: Path) -> None:
    import datasets

    task = get_task("helmet_json_kv", TaskOptions(data_dir=data))
    reference = datasets.Dataset.from_list([{"i": i} for i in range(6)]).shuffle(seed=42)["i"]
    assert fit.shuffled_subset(6, 6) == list(reference)
    assert task.size is not None and task.size() == 6


@pytest.mark.parametrize("length", [700, 1000, 1500, 2500, 4000])
def test_every_length_fits_exactly_with_the_gold_pair(data: Path, tokenizer, length: int) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_json_kv", TaskOptions(data_dir=data))
    for index in range(3):
        sample = task.make_sample(fmt, length, index, 42)
        row = json_kv_rows()[sample.meta["row"]]
        tokens = fmt.count(sample.prompt, sample.answer_prefix)
        assert tokens == sample.prompt_tokens and tokens + task.max_new_tokens <= length
        assert f'"{row["question"]}": "{row["answer"]}"' in sample.prompt
        pairs = sample.meta["pairs"]
        if pairs < 120:  # one more pair would not fit
            kv = parse_object(row["context"], row["question"], "row")
            bigger = sample.prompt.replace(kv.render(pairs - 1), kv.render(pairs))
            assert fmt.count(bigger, sample.answer_prefix) + task.max_new_tokens > length
        depth = sample.meta["published_gold_at"] / 119
        assert sample.meta["gold_at"] == round(depth * (pairs - 1))


def test_samples_are_deterministic_and_score(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_json_kv", TaskOptions(data_dir=data))
    first, again = task.make_sample(fmt, 1500, 2, 42), task.make_sample(fmt, 1500, 2, 42)
    assert first == again
    value = first.targets[0]
    assert task.score(first, f" {value}\n") == 100.0
    assert task.score(first, "Corresponding value: nothing") == 0.0


def test_too_small_a_length_is_skipped_and_bad_rows_fail(tmp_path: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    write_json_kv(tmp_path)
    task = get_task("helmet_json_kv", TaskOptions(data_dir=tmp_path))
    tiny = task.make_sample(fmt, 200, 0, 42)  # template, demos and the gold pair alone are over 100 tokens
    assert "over the budget of 100" in tiny.skipped and tiny.prompt_tokens > 100
    rows = json_kv_rows(2)
    del rows[1]["demos"]
    write_jsonl(tmp_path / "bad" / "helmet" / "json_kv" / "test_k50_dep6.jsonl", rows)
    bad = get_task("helmet_json_kv", TaskOptions(data_dir=tmp_path / "bad"))
    with pytest.raises(HarnessError, match=r"test_k50_dep6.jsonl:2: missing field 'demos'"):
        for index in range(2):
            bad.make_sample(fmt, 2000, index, 42)
