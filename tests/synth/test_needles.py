"""Needle drills: RULER's generators at the requested lengths, no generator loaded, byte-stable."""

import json
import re

import pytest

from harness.core.errors import HarnessError
from harness.synth.needles.plugin import Needles
from harness.synth.plugin import load_config
from harness.synth.run import run_plugin


def test_records_are_ruler_prompts_with_answer_sentences(tiny_path, tmp_path) -> None:
    config = load_config(Needles.Config, {"tokenizer": str(tiny_path), "examples": 4, "lengths": [256, 512],
                                          "tasks": ["niah_single_1", "niah_multikey_2"]}, "needles.yaml")
    stats = run_plugin(Needles(), config, None, [], tmp_path / "a", seed=0)
    records = [json.loads(line) for line in (tmp_path / "a" / "data.jsonl").read_text().splitlines()]
    assert stats["records"] == 4 and stats["llm_calls"] == 0
    assert [(r["meta"]["task"], r["meta"]["length"]) for r in records] == [
        ("niah_single_1", 256), ("niah_multikey_2", 256), ("niah_single_1", 512), ("niah_multikey_2", 512)]
    first = records[0]
    answer = first["messages"][1]["content"]
    assert answer.startswith("The special magic number for ") and answer.endswith(".")
    value = answer.rstrip(".").split()[-1]
    assert value in first["messages"][0]["content"]  # the needle is in the haystack
    assert 64 < first["meta"]["prompt_tokens"] <= 256 - 128  # RULER keeps room for the answer, as at evaluation
    run_plugin(Needles(), config, None, [], tmp_path / "b", seed=0)
    assert (tmp_path / "a" / "data.jsonl").read_bytes() == (tmp_path / "b" / "data.jsonl").read_bytes()


@pytest.mark.parametrize(("config", "message"), [
    ({}, "tokenizer: name the model"),
    ({"tokenizer": "tiny", "tasks": ["mmlu"]}, "'mmlu' is not a RULER task"),
    ({"tokenizer": "tiny", "lengths": [32]}, "lengths of at least 64"),
    ({"tokenizer": "tiny", "haystack": "grass"}, "haystack: 'grass' is not one of noise, essay, needle, none"),
    ({"tokenizer": "tiny", "haystack": "none", "tasks": ["niah_single_1", "vt"]}, "only the niah tasks have one; 'vt'"),
])
def test_config_errors(config, message) -> None:
    with pytest.raises(HarnessError, match=message):
        load_config(Needles.Config, config, "needles.yaml")


def _records(tiny_path, tmp_path, haystack, tasks=("niah_single_1",), lengths=(512,)):  # type: ignore[no-untyped-def]
    config = load_config(Needles.Config, {"tokenizer": str(tiny_path), "examples": 4, "lengths": list(lengths),
                                          "tasks": list(tasks), "haystack": haystack}, "needles.yaml")
    run_plugin(Needles(), config, None, [], tmp_path / str(haystack), seed=0)
    return [json.loads(line) for line in (tmp_path / str(haystack) / "data.jsonl").read_text().splitlines()]


def test_haystack_sets_what_surrounds_the_same_needles(tiny_path, tmp_path) -> None:
    """The composition ablation: the same needle and question, with nothing, other needles or noise around it."""
    own = _records(tiny_path, tmp_path, None)
    alone, same, other = (_records(tiny_path, tmp_path, h) for h in ("none", "needle", "noise"))
    for records in (alone, same, other):
        assert [r["messages"][1]["content"] for r in records] == [r["messages"][1]["content"] for r in own]
    prompt = alone[0]["messages"][0]["content"]
    assert prompt.count("One of the special magic numbers") == 1 and alone[0]["meta"]["prompt_tokens"] < 120
    assert same[0]["messages"][0]["content"].count("One of the special magic numbers") > 10
    assert other[0]["messages"][0]["content"] == own[0]["messages"][0]["content"]  # niah_single_1's own is noise
    assert 512 - 128 - 40 < same[0]["meta"]["prompt_tokens"] <= 512 - 128


def test_relevant_only_keeps_every_value_of_the_queried_key_and_no_other_key(tiny_path, tmp_path) -> None:
    for record in _records(tiny_path, tmp_path, "none", tasks=("niah_multikey_1", "niah_multivalue")):
        prompt, answer = record["messages"][0]["content"], record["messages"][1]["content"]
        needles = [line for line in prompt.splitlines() if line.startswith("One of the special magic")]
        values = re.findall(r"\d{7}", answer)
        assert len(values) == (4 if record["meta"]["task"] == "niah_multivalue" else 1)
        assert len(needles) == (4 if record["meta"]["task"] == "niah_multivalue" else 1)
        assert len({line.split(" for ")[1].split(" is:")[0] for line in needles}) == 1
        assert all(any(v in line for line in needles) for v in values)
