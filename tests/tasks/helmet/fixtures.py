"""Small HELMET files of the published schemas (field names as HELMET's data.py reads them), written by the tests
under `<root>/helmet/` (HELMET's data/ layout): json_kv rows (`context`, `question`, `answer`, `demos`, `num_kvs`),
KILT rows (`question`, `answers`, `ctxs` of `title`/`text`/`has_answer`, `positive_ctxs`; popqa with `id` and
`s_pop`) with each question repeated at several gold depths, MS MARCO rows (`qid`, `query`, `ctxs` of
`id`/`title`/`text`/`label`)."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from tests.tasks.longdoc_fixtures import prose


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def key(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def kv_context(pairs: list[tuple[str, str]]) -> str:
    """lost-in-the-middle's layout: `{"k": "v",\\n "k": "v"}`, after a "JSON data:" line."""
    records = [f'"{k}": "{v}"' for k, v in pairs]
    return "JSON data:\n{" + ",\n ".join(records) + "}"


def json_kv_rows(n: int = 6, pairs: int = 120, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kv = [(key(rng), key(rng)) for _ in range(pairs)]
        gold = [0, pairs // 2, pairs - 1][i % 3]
        rows.append({"context": kv_context(kv), "question": kv[gold][0], "answer": kv[gold][1],
                     "demos": [[key(rng), key(rng)] for _ in range(4)], "num_kvs": pairs})
    return rows


def write_json_kv(root: Path, **kwargs: Any) -> Path:
    write_jsonl(root / "helmet" / "json_kv" / "test_k1800_dep6.jsonl", json_kv_rows(**kwargs))
    return root


def passage(rng: random.Random, title: str, words: int = 40) -> dict[str, Any]:
    return {"id": str(rng.randrange(10**6)), "title": title, "text": prose(rng, 3)[: words * 6], "score": "1.0",
            "has_answer": False}


def kilt_row(rng: random.Random, q: int, depth: float, passages: int, popqa: bool) -> dict[str, Any]:
    """Question `q` with its gold passage at relative `depth` among `passages`."""
    answer = f"Answer{q}"
    gold = {"title": f"Gold {q}", "text": f"The answer to question {q} is {answer}.", "has_answer": True, "id": f"g{q}"}
    ctxs = [passage(rng, f"Distractor {q}-{i}") for i in range(passages - 1)]
    ctxs.insert(round(depth * (passages - 1)), gold)
    row: dict[str, Any] = {"question": f"What is the answer to question {q}?", "answers": [answer, f"the {answer}"],
                           "ctxs": ctxs}
    if popqa:
        row = {"id": q, "s_pop": [50, 5000][q % 2], **row}
        for ctx in ctxs:  # popqa: no positive_ctxs; has_answer marks the gold
            ctx.pop("id")
    else:
        row["positive_ctxs"] = [{"title": gold["title"], "text": gold["text"], "passage_id": gold["id"]}]
        gold["has_answer"] = False  # the match goes by positive_ctxs
        row["hard_negative_ctxs"] = []
    return row


def kilt_rows(questions: int, passages: int, depths: tuple[float, ...] = (0.0, 0.5, 1.0), popqa: bool = False,
              seed: int = 0, start: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [kilt_row(rng, start + q, depth, passages, popqa) for q in range(questions) for depth in depths]


def write_kilt(root: Path, questions: int = 4, passages: int = 60) -> Path:
    kilt = root / "helmet" / "kilt"
    for test, demo, popqa in (
        ("nq-dev-multikilt_1000_k1000_dep6.jsonl", "nq-train-multikilt_1000_k3_dep6.jsonl", False),
        ("hotpotqa-dev-multikilt_1000_k1000_dep3.jsonl", "hotpotqa-train-multikilt_1000_k3_dep3.jsonl", False),
        ("popqa_test_1000_k1000_dep6.jsonl", "popqa_test_1000_k3_dep6.jsonl", True),
    ):
        write_jsonl(kilt / test, kilt_rows(questions, passages, popqa=popqa))
        write_jsonl(kilt / demo, kilt_rows(8, 3, depths=(0.5,), popqa=popqa, seed=1, start=100 if not popqa else 0))
    return root


def msmarco_row(rng: random.Random, q: int, passages: int, titled: bool = True) -> dict[str, Any]:
    ctxs = []
    for i in range(passages):
        ctx = {"id": str(1000 * q + i), "text": prose(rng, 2)[:200], "label": [3, 0, 1, 0, 2, 0][i % 6] if i < 12 else 0}
        if titled:
            ctx = {"id": ctx["id"], "title": f"T{i}", "text": ctx["text"], "label": ctx["label"]}
        ctxs.append(ctx)
    return {"qid": f"q{q}", "query": f"what is query {q}", "ctxs": ctxs}


def write_msmarco(root: Path, queries: int = 3, passages: int = 60, titled: bool = True) -> Path:
    rng = random.Random(0)
    folder = root / "helmet" / "msmarco"
    write_jsonl(folder / "test_reranking_data_k1000_dep3.jsonl",
                [msmarco_row(rng, q, passages, titled) for q in range(queries) for _ in range(2)])
    write_jsonl(folder / "test_reranking_data_k10_dep3.jsonl", [msmarco_row(rng, q, 4, titled) for q in range(queries + 3)])
    return root
