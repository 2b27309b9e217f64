"""Small QA files in the original SQuAD 2.0 and HotpotQA (distractor) formats, written by tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = ("river stone market garden window letter engine harbor village station summer winter "
         "paper silver forest bridge lantern meadow castle valley").split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def write_squad(path: Path, articles: int = 12, paragraphs: int = 6, seed: int = 0) -> None:
    rng = random.Random(seed)
    data = []
    for a in range(articles):
        paras = []
        for p in range(paragraphs):
            context = " ".join(_sentence(rng, rng.randint(4, 18)) for _ in range(rng.randint(1, 9)))
            context += f" The keeper of hall {a}-{p} is Keeper{a}x{p}."
            qas = [
                {"id": f"{a}-{p}", "question": f"Who is the keeper of hall {a}-{p}?",
                 "answers": [{"text": f"Keeper{a}x{p}", "answer_start": 0}], "is_impossible": False},
                {"id": f"{a}-{p}-x", "question": "Who is nobody?", "answers": [], "plausible_answers": [],
                 "is_impossible": True},
            ]
            paras.append({"context": context, "qas": qas})
        data.append({"title": f"Hall_{a}", "paragraphs": paras})
    path.write_text(json.dumps({"version": "v2.0", "data": data}))


def write_hotpotqa(path: Path, questions: int = 40, seed: int = 1) -> None:
    rng = random.Random(seed)
    rows = []
    for q in range(questions):
        context = [[f"Place {q}.{k}", [_sentence(rng, rng.randint(3, 20)) + " " for _ in range(rng.randint(1, 4))]]
                   for k in range(10)]
        context[3][1].append(f"Its founder was Founder{q}.")
        rows.append({"_id": f"q{q}", "question": f"Who founded place {q}.3?", "answer": f"Founder{q}",
                     "supporting_facts": [[f"Place {q}.3", 0]], "context": context, "type": "bridge", "level": "easy"})
    path.write_text(json.dumps(rows))
