"""Small NarrativeQA files in the hub's schema (deepmind/narrativeqa exported to jsonl), written by tests:
`<root>/helmet/narrativeqa/{train,test}.jsonl`; InfiniteBench's through `tests.tasks.longdoc_fixtures`."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.tasks.helmet.icl_fixtures import write_jsonl
from tests.tasks.longdoc_fixtures import infinitebench_rows, prose


def nqa_row(doc: str, story: str, question: str, answers: list[str]) -> dict[str, Any]:
    """One question in the hub's nested schema."""
    return {
        "document": {"id": doc, "kind": "gutenberg", "url": f"http://example.org/{doc}", "file_size": len(story),
                     "word_count": len(story.split()), "start": "", "end": "",
                     "summary": {"text": "A summary.", "tokens": ["A", "summary", "."], "url": "", "title": doc},
                     "text": story},
        "question": {"text": question, "tokens": question.split()},
        "answers": [{"text": a, "tokens": a.split()} for a in answers],
    }


def write_narrativeqa(root: Path, stories: int = 3, per_story: int = 3) -> Path:
    """`stories` stories of growing length, `per_story` questions each (test), and 6 train questions."""
    rng = random.Random(1)
    test = []
    for s in range(stories):
        story = f"STORY {s} BEGINS. " + prose(rng, 60 + 120 * s) + f" STORY {s} ENDS."
        for q in range(per_story):
            test.append(nqa_row(f"doc{s}", story, f"Who carried lantern {s}-{q}?", [f"the falcon {q}", f"a falcon {q}"]))
    train = [nqa_row(f"train{i}", "Short train story.", f"Train question {i}?", [f"train answer {i}"]) for i in range(6)]
    write_jsonl(root / "helmet" / "narrativeqa" / "test.jsonl", test)
    write_jsonl(root / "helmet" / "narrativeqa" / "train.jsonl", train)
    return root


def write_infbench(root: Path, n: int = 5) -> Path:
    """longbook_qa_eng and longbook_choice_eng under `root/infinitebench/` (the published files' schema)."""
    for task in ("longbook_qa_eng", "longbook_choice_eng"):
        write_jsonl(root / "infinitebench" / f"{task}.jsonl", infinitebench_rows(task, n))
    return root
