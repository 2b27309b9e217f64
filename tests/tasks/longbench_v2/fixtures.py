"""A small LongBench v2 `data.json` of the published schema (the hub dataset's file), written in a test's folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WORDS = ("the archive records that the northern harbour was rebuilt after the storm and the council paid "
         "for new stone walls while merchants moved their stores inland for three winters").split()


def filler(n_words: int, seed: int) -> str:
    """A deterministic document of `n_words` words in sentences."""
    out = []
    for i in range(n_words):
        out.append(WORDS[(i * 7 + seed) % len(WORDS)])
        if i % 12 == 11:
            out[-1] += "."
    return " ".join(out)


def row(i: int, n_words: int, difficulty: str, length: str, answer: str, **extra: Any) -> dict[str, Any]:
    return {
        "_id": f"66f{i:05d}",
        "domain": ("Single-Document QA", "Multi-Document QA", "Code Repository Understanding")[i % 3],
        "sub_domain": ("Financial", "Academic", "Legal")[i % 3],
        "difficulty": difficulty,
        "length": length,
        "question": f"  Which wall was rebuilt in story {i}?\n",
        "choice_A": " The northern wall ",
        "choice_B": "The southern wall",
        "choice_C": "The harbour gate",
        "choice_D": "None of them",
        "answer": answer,
        "context": f"\n Story {i} begins. " + filler(n_words, i) + f" Story {i} ends.\n\n",
        **extra,
    }


CHUNKS = [{"c_idx": 7, "content": "Later chunk about the gate."}, {"c_idx": 2, "content": "Early chunk about the wall."},
          {"c_idx": 5, "content": "Middle chunk."}]

ROWS = [
    row(0, 40, "easy", "short", "A", retrieved_context=CHUNKS),
    row(1, 3000, "hard", "medium", "B", retrieved_context=CHUNKS[:2]),
    row(2, 6000, "hard", "long", "C", retrieved_context=CHUNKS[1:]),
    row(3, 2500, "easy", "short", "D", retrieved_context=CHUNKS),
]


def write_data(root: Path, rows: list[dict[str, Any]] | None = None) -> Path:
    """`root/longbench_v2/data.json` with `rows` (the four above by default); returns `root` (the --data-dir)."""
    folder = root / "longbench_v2"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.json").write_text(json.dumps(ROWS if rows is None else rows, ensure_ascii=False), encoding="utf-8")
    return root
