"""Needle drills: RULER's generators at the requested lengths, no generator loaded, byte-stable."""

import json

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
])
def test_config_errors(config, message) -> None:
    with pytest.raises(HarnessError, match=message):
        load_config(Needles.Config, config, "needles.yaml")
