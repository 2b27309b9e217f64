"""BABILong's answer check (the reference's `compare_answers`, babilong/metrics.py @7a6efee).

The output's first sentence, lowercased, is searched for the task's answer labels; labels that the
question itself names never count. A sample is right when the target is the only label left (for a
multi-item target of qa8, "apple,milk": exactly its items are left).
"""

from __future__ import annotations

from typing import Iterable


def first_sentence(output: str) -> str:
    """The reference's `preprocess_output`: lowercased, up to the first '.', and cut before an echoed
    `<context>` or `<example>`. (The reference also cuts at 'Question', after lowercasing: that cut
    never fires, and it is kept as a no-op here.)"""
    text = output.lower().split(".")[0]
    for marker in ("<context>", "<example>", "Question"):
        text = text.split(marker)[0]
    return text


def is_correct(target: str, output: str, question: str, labels: Iterable[str]) -> bool:
    """True when the reference would accept `output` for `target` (see the module docstring)."""
    said = first_sentence(output)
    known = {label.lower() for label in labels}
    asked = {label for label in known if label in question.lower()}
    named = {label for label in known if label in said} - asked
    wanted = target.lower()
    if "," in wanted and len(wanted) > 3:  # several items (qa8); qa19's "n,w" is one label
        items = wanted.split(",")
        return all(item in named for item in items) and len(named) == len(items)
    return wanted in named and len(named) == 1


def score(target: str, output: str, question: str, labels: Iterable[str]) -> float:
    """100 when the reference's comparison accepts the answer, else 0."""
    return 100.0 if is_correct(target, output, question, labels) else 0.0
