"""Small InfiniteBench and LongBench files in the published schemas, written by the tests.

Documents are a few hundred to a few thousand tokens of varied sentences, so that truncation
happens at short lengths; answers are planted in them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

WORDS = ("river", "lantern", "harbor", "meadow", "copper", "violet", "thunder", "orchard", "candle", "glacier",
         "falcon", "marble", "willow", "ember", "saffron", "quarry", "pebble", "cobalt", "tundra", "maple")


def prose(rng: random.Random, sentences: int) -> str:
    """Deterministic filler prose."""
    return " ".join(
        f"The {rng.choice(WORDS)} near the {rng.choice(WORDS)} was {rng.choice(WORDS)} and {rng.choice(WORDS)}."
        for _ in range(sentences)
    )


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def infinitebench_rows(task: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` examples of one InfiniteBench task in the published jsonl schema."""
    rng = random.Random(f"{task}|{seed}")
    rows = []
    for i in range(n):
        body = prose(rng, 40 + 40 * i)
        row: dict[str, Any] = {"id": i, "context": body, "input": "", "answer": [], "options": []}
        if task in ("passkey", "number_string"):
            key = str(rng.randint(10**4, 10**5 - 1) if task == "passkey" else rng.randint(10**9, 10**10 - 1))
            row.update(context=f"{body} The pass key is {key}. Remember it. {key} is the pass key. {body}",
                       input="What is the pass key?" if task == "passkey" else "What is the sequence number?", answer=[key])
        elif task == "kv_retrieval":
            pairs = {f"{rng.getrandbits(32):08x}-key": f"{rng.getrandbits(32):08x}-value" for _ in range(20)}
            key = sorted(pairs)[i % 20]
            row.update(context=json.dumps(pairs), input=f'Key: "{key}"\nThe value associated with the specified key is: ',
                       answer=pairs[key])
        elif task in ("longbook_qa_eng", "longbook_sum_eng"):
            row.update(input="What did the falcon carry?", answer=["a copper lantern across the meadow"])
        elif task == "longbook_qa_chn":
            row.update(context="从前有一座山，山里有一座庙。" * (20 + 10 * i), input="山里有什么？", answer=["一座庙"])
        elif task in ("longbook_choice_eng", "code_debug"):
            options = ["river_walk", "lantern_fix", "harbor_map", "meadow_sum"]
            row.update(input="Which one is right?", options=options, answer=[options[i % 4]])
        elif task == "longdialogue_qa_eng":
            row.update(context=f"ALICE: {body}\n$$MASK$$: I am here.\nBOB: {body}", answer=["ALICE", "ALICE SMITH"])
        elif task == "code_run":
            row.update(context="def func_1(x):\n    return x + 1\n" * (5 + i), input="What is func_1(3)?", answer=[4])
        elif task == "math_calc":
            row.update(context="1 + 2 + 3 - 1", answer=[[3, 6, 5]])
        elif task == "math_find":
            numbers = [rng.randint(0, 99) for _ in range(50 + 50 * i)]
            row.update(context=str(numbers), input="The largest number of the list is", answer=[max(numbers)])
        rows.append(row)
    return rows


def write_infinitebench(root: Path, n: int = 3) -> Path:
    """`root/infinitebench/<task>.jsonl` for all 12 tasks; returns root."""
    from harness.tasks.infinitebench.task import TASK_NAMES

    for task in TASK_NAMES:
        _write(root / "infinitebench" / f"{task}.jsonl", infinitebench_rows(task, n))
    return root


def longbench_rows(dataset: str, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` examples of one LongBench dataset in the published schema."""
    rng = random.Random(f"{dataset}|{seed}")
    zh = dataset.endswith("_zh") or dataset in ("dureader", "vcsum", "lsht")
    rows = []
    for i in range(n):
        context = ("会议讨论了预算和计划。" * (30 + 30 * i)) if zh else prose(rng, 30 + 60 * i)
        answers: list[str] = ["the copper lantern"]
        classes = None
        if dataset in ("trec", "lsht"):
            classes = ["Location", "Number", "Description", "Human"]
            answers = [classes[i % 4]]
        elif dataset.startswith("passage_retrieval"):
            answers = ["段落3"] if zh else ["Paragraph 3"]
        elif dataset == "passage_count":
            answers = [str(5 + i)]
        elif dataset in ("lcc", "repobench-p"):
            context = "def add(a, b):\n    return a + b\n" * (10 + 10 * i)
            answers = ["    return a + b"]
        elif zh:
            answers = ["预算和计划"]
        words = len(context) if zh else len(context.split())
        rows.append({"input": "什么被讨论了？" if zh else "What did the falcon carry?", "context": context, "answers": answers,
                     "length": words, "dataset": dataset, "language": "zh" if zh else "en", "all_classes": classes,
                     "_id": f"{dataset}-{i}"})
    return rows


def write_longbench(root: Path, n: int = 3) -> Path:
    """`root/longbench/<dataset>.jsonl` for the 21 datasets and `<dataset>_e.jsonl` for LongBench-E's 13."""
    from harness.tasks.longbench.task import DATASETS, E_DATASETS

    for dataset in DATASETS:
        _write(root / "longbench" / f"{dataset}.jsonl", longbench_rows(dataset, n))
    for dataset in E_DATASETS:
        rows = longbench_rows(dataset, n, seed=1)
        for row, length in zip(rows, (1000, 5000, 9000)):
            row["length"] = length  # one example per LongBench-E bucket
        _write(root / "longbench" / f"{dataset}_e.jsonl", rows)
    return root
