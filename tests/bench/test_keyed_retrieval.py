"""bench/keyed_retrieval.py's training mix: keyed drills whose answer is the asked key's number, and RULER prompts."""

from __future__ import annotations

import re

from bench.keyed_retrieval import records


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
