"""Small BABILong files in the published schema (`input`, `question`, `target`), written by the tests:
`<root>/babilong/<length config>/<qaN>.jsonl`, as `datasets` exports the hub's splits."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.tasks.longdoc_fixtures import prose

FACTS = {
    "qa1": ("Mary moved to the bathroom. John went to the hallway.", "Where is Mary?", "bathroom"),
    "qa2": ("Daniel got the apple there. Daniel went to the kitchen.", "Where is the apple?", "kitchen"),
    "qa3": ("Sandra took the milk. Sandra went to the garden. Sandra went to the office.",
            "Where was the milk before the office?", "garden"),
    "qa4": ("The kitchen is west of the garden. The office is east of the garden.", "What is west of the garden?", "kitchen"),
    "qa5": ("Fred picked up the football there. Fred gave the football to Bill.", "Who received the football?", "Bill"),
}


def row(task: str, sentences: int, rng: random.Random) -> dict[str, str]:
    """One example: the task's facts in the middle of `sentences` of filler (none: the facts alone)."""
    facts, question, target = FACTS[task]
    if sentences == 0:
        return {"input": facts, "question": question, "target": target}
    return {"input": f"{prose(rng, sentences)} {facts} {prose(rng, sentences)}", "question": question, "target": target}


def write_babilong(root: Path, configs: dict[str, int], n: int = 3, tasks: tuple[str, ...] = tuple(FACTS)) -> Path:
    """`root/babilong/<config>/<task>.jsonl` with `n` rows each; `configs` maps a config to its filler
    sentences per side. Returns root."""
    for config, sentences in configs.items():
        for task in tasks:
            rng = random.Random(f"{task}|{config}")
            path = root / "babilong" / config / f"{task}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(json.dumps(row(task, sentences, rng)) + "\n" for _ in range(n)), encoding="utf-8")
    return root
