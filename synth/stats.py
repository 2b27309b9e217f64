"""Statistics of a synthesized dataset: sizes, lengths, output diversity (distinct-n, and the
embedding dispersion of the instructions, `meta["instruction"]` where a plugin records it).

Plugins add their own (WildLong: graph statistics) under `plugin` in `stats.json`.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any, Iterable

from harness.core.errors import HarnessError
from harness.core.jsonl import expect, expect_messages, read_jsonl
from harness.synth.embed import dispersion, embed


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct n-grams over all n-grams of whitespace tokens (Li et al. 2016); 0 with none."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        words = text.split()
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "mean": 0, "max": 0}
    return {"min": min(values), "median": statistics.median(values), "mean": round(statistics.fmean(values), 1), "max": max(values)}


def instructions(records: list[dict[str, Any]]) -> list[str]:
    """The instructions of the records: `meta["instruction"]` (a string or, for multi-turn
    records, a list), else the last user turn."""
    found: list[str] = []
    for record in records:
        given = record.get("meta", {}).get("instruction")
        if given is None:
            given = [m["content"] for m in record["messages"] if m["role"] == "user"][-1:]
        found += [given] if isinstance(given, str) else [str(g) for g in given]
    return found


def dataset_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, words per record (all turns), turns, distinct-1/2 of the user and assistant turns and
    of the instructions, and the instructions' embedding dispersion (TF-IDF + SVD, seed 0)."""
    users = [m["content"] for r in records for m in r["messages"] if m["role"] == "user"]
    answers = [m["content"] for r in records for m in r["messages"] if m["role"] == "assistant"]
    asked = instructions(records)
    return {
        "instructions": len(asked),
        "distinct_1_instruction": round(distinct_n(asked, 1), 4),
        "distinct_2_instruction": round(distinct_n(asked, 2), 4),
        "embedding_dispersion_instruction": round(dispersion(embed(asked)), 4),
        "records": len(records),
        "words_per_record": _summary([sum(len(m["content"].split()) for m in r["messages"]) for r in records]),
        "turns_per_record": _summary([len(r["messages"]) for r in records]),
        "distinct_1_user": round(distinct_n(users, 1), 4),
        "distinct_2_user": round(distinct_n(users, 2), 4),
        "distinct_1_assistant": round(distinct_n(answers, 1), 4),
        "distinct_2_assistant": round(distinct_n(answers, 2), 4),
    }


def check_record(data: dict[str, Any]) -> dict[str, Any]:
    """`data` when it is a synthesized record (`id`, chat `messages`, optional `meta`), else BadRecord."""
    expect(data, "id", str)
    expect_messages(data, "messages")
    if "meta" in data:
        expect(data, "meta", dict)
    return data


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of `OUT/data.jsonl` (a bad line is skipped and reported, the others kept)."""
    if not path.exists():
        raise HarnessError(f"{path} does not exist (is it the output directory of `harness synth run`?)")
    return [record for _, record in read_jsonl(path, check_record)]
