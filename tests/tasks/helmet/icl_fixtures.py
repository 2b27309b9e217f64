"""Small HELMET ICL files in the hub datasets' schemas (as `datasets` exports a split to jsonl), written by tests:
`<root>/helmet/icl/<folder>/<split>.jsonl`."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

WORDS = ("river", "lantern", "harbor", "meadow", "copper", "violet", "thunder", "orchard", "candle", "glacier",
         "falcon", "marble", "willow", "ember", "saffron", "quarry", "pebble", "cobalt", "tundra", "maple")


def text(rng: random.Random, i: int) -> str:
    return f"What is the {rng.choice(WORDS)} {rng.choice(WORDS)} of item {i}?"


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_icl(root: Path) -> Path:
    """trec (train 120, test 12), banking77 (train 154, test 600 over 5 labels), clinic150 (train 302,
    validation 20) and nlu (train 300) under `root/helmet/icl/`. Returns root."""
    rng = random.Random(0)
    icl = root / "helmet" / "icl"
    write_jsonl(icl / "trec" / "train.jsonl",
                [{"text": text(rng, i), "coarse_label": i % 6, "fine_label": i % 50} for i in range(120)])
    write_jsonl(icl / "trec" / "test.jsonl",
                [{"text": text(rng, 1000 + i), "coarse_label": i % 6, "fine_label": (7 * i) % 50} for i in range(12)])
    write_jsonl(icl / "banking77" / "train.jsonl", [{"text": text(rng, i), "label": i % 77} for i in range(154)])
    write_jsonl(icl / "banking77" / "test.jsonl", [{"text": text(rng, 2000 + i), "label": i % 5} for i in range(600)])
    write_jsonl(icl / "clinic150" / "train.jsonl", [{"text": text(rng, i), "intent": i % 151} for i in range(302)])
    write_jsonl(icl / "clinic150" / "validation.jsonl", [{"text": text(rng, 3000 + i), "intent": i} for i in range(20)])
    write_jsonl(icl / "nlu" / "train.jsonl",
                [{"text": text(rng, i), "label": i % 68, "scenario": "alarm"} for i in range(300)])
    return root
