"""bench/keyed_retrieval.py's training mix (keyed drills whose answer is the asked key's number, and RULER prompts)
and its deeper random start."""

from __future__ import annotations

import json
import re

from bench.keyed_retrieval import deeper_init, records


def test_the_mix_is_deterministic_and_each_drill_asks_one_of_its_distinct_keys(tokenizer) -> None:
    mix = records(tokenizer, 12)
    assert mix == records(tokenizer, 12)
    for i, record in enumerate(mix):
        if i % 4 < 2:  # a drill: 2-6 keys, then 2-12 keys
            lines = dict(re.findall(r"special magic numbers for (\S+) is: (\d+)\.", record["prompt"]))
            asked = re.search(r"number for (\S+) mentioned in the provided text is$", record["prompt"])
            assert asked is not None and 2 <= len(lines) <= (6 if i % 4 == 0 else 12)
            assert record["completion"] == f" {lines[asked.group(1)]}."
            assert len(re.findall(r"special magic numbers for ", record["prompt"])) == len(lines)  # keys distinct
        else:  # niah_multikey_2 (other needles around it), then niah_single_1
            assert record["completion"].strip(" .").isdigit() and len(tokenizer(record["prompt"]).input_ids) <= 512


def test_the_deeper_start_is_tiny_random_with_more_layers_and_the_same_tokenizer(tiny_path, tmp_path) -> None:
    target = deeper_init(3, tmp_path / "init")
    config, original = (json.loads((p / "config.json").read_text()) for p in (target, tiny_path))
    assert config["num_hidden_layers"] == 3 and original["num_hidden_layers"] == 2
    assert {k: v for k, v in config.items() if k != "num_hidden_layers"} == {k: v for k, v in original.items()
                                                                              if k != "num_hidden_layers"}
    assert (target / "tokenizer.json").read_bytes() == (tiny_path / "tokenizer.json").read_bytes()
