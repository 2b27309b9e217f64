"""Small ALCE files of the published schema (HELMET's `data/alce/*_eval_gtr_top2000.json`) and a fake NLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

WORDS = "The river town grew quickly after the railway arrived and the mills opened their doors . "


def doc(i: int, fact: str = "") -> dict[str, Any]:
    """A retrieved passage as ALCE stores it (id, title, text, score)."""
    return {"id": str(1000 + i), "title": f"page {i}", "text": f"{fact} " + WORDS * 3, "score": 1.0 - i / 1000}


def asqa_row(i: int, docs: int = 100) -> dict[str, Any]:
    return {"question": f"Who built bridge {i}?", "answer": f"Bridge {i} was built by Ann.", "sample_id": f"s{i}",
            "qa_pairs": [{"question": f"Who designed bridge {i}?", "short_answers": ["Ann", "Ann Lee"], "context": "", "wikipage": None},
                         {"question": f"Who paid for bridge {i}?", "short_answers": ["the city"], "context": "", "wikipage": None}],
            "annotations": [{"long_answer": "Ann."}, {"long_answer": "Ann Lee."}],
            "docs": [doc(k, "ALPHA" if k == 0 else "") for k in range(docs)]}


def qampari_row(i: int, docs: int = 100) -> dict[str, Any]:
    return {"id": f"q{i}", "question": f"Which towns lie on river {i}?", "answers": [["Alpha"], ["Beta", "B"], ["Delta"]],
            "docs": [doc(k) for k in range(docs)]}


def write_alce(root: Path, rows: int = 6) -> Path:
    """`root/helmet/alce/` with both files (a JSON list, as HELMET's `load_dataset("json")` reads them)."""
    folder = root / "helmet" / "alce"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "asqa_eval_gtr_top2000.json").write_text(json.dumps([asqa_row(i) for i in range(rows)]))
    (folder / "qampari_eval_gtr_top2000.json").write_text(json.dumps([qampari_row(i) for i in range(rows)]))
    return root


class FactNLI:
    """Entailment by capitalised facts: the premise supports the hypothesis when every all-caps word (3+ letters)
    of the hypothesis is in the premise. Records every pair asked, round by round."""

    name = "fact-nli"

    def __init__(self) -> None:
        self.rounds: list[list[tuple[str, str]]] = []

    @staticmethod
    def facts(text: str) -> set[str]:
        return set(re.findall(r"\b[A-Z]{3,}\b", text))

    def entails(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        self.rounds.append(list(pairs))
        return [self.facts(h) <= self.facts(p) for p, h in pairs]
