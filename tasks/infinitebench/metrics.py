"""InfiniteBench's per-task metrics, as `src/compute_scores.py` @88b3daa computes them (0 or 1, or a
fraction), on string targets: labels from the published files are written as text (numbers too,
which is also what the hub dataset's string features give), and compared as the official typed
label would be.

Quirks kept on purpose, because they are the benchmark's: math_calc reads only unsigned integers
from the output (a negative intermediate value never matches), and with the chat template set
(the official GPT-4 prompts) it ignores the first number of the output; choice questions accept
the first standalone word found in "ABCD" (so "AB" counts as a letter).
"""

from __future__ import annotations

import re
from typing import Sequence

from harness.tasks.textmetrics import first_int, qa_f1, qa_f1_zh_chars, rouge_lsum

_RETRIEVAL_SEPARATORS = ("\n", ":", '"', "'", ".", ",", "?", "!", "{", "}")


def _words(text: str, separators: Sequence[str]) -> list[str]:
    for c in separators:
        text = text.replace(c, " ")
    return text.split()


def passkey(pred: str, targets: Sequence[str]) -> float:
    """passkey and number_string: the first integer in the output equals the label."""
    return float(first_int(pred) == targets[0])


def kv_retrieval(pred: str, targets: Sequence[str]) -> float:
    """The value is one of the output's words (split on punctuation)."""
    return float(targets[0] in _words(pred, _RETRIEVAL_SEPARATORS))


def longdialogue_qa_eng(pred: str, targets: Sequence[str]) -> float:
    """The first label (a character's name) is one of the output's upper-cased words."""
    return float(targets[0] in [w.upper() for w in _words(pred.strip(), _RETRIEVAL_SEPARATORS)])


def code_run(pred: str, targets: Sequence[str]) -> float:
    """The last word of the output is the integer label."""
    words = _words(pred.strip(), ("\n", ".", "`", "'", '"', ":"))
    if not words:
        return 0.0
    try:
        return float(int(words[-1]) == int(targets[0]))
    except ValueError:
        return 0.0


def math_find(pred: str, targets: Sequence[str]) -> float:
    """The first number of the output equals the label (integer or float, as the label is)."""
    match = re.search(r"\d+\.\d+|\d+", pred)
    if match is None:
        return 0.0
    found, label = match.group(0).strip(), targets[0].strip()
    try:
        if re.fullmatch(r"-?\d+", label):
            return float(int(found) == int(label))
        return float(float(found) == float(label))
    except ValueError:  # a float found for an integer label: the official int() raises; it is wrong either way
        return 0.0


def math_calc(pred: str, targets: Sequence[str], skip_first: bool = False) -> float:
    """The share of the labels' intermediate values matched, in order, before the first mistake."""
    numbers = [int(piece) for piece in re.split("[^0-9]", pred) if piece]
    if skip_first:
        numbers = numbers[1:]
    labels = [int(t) for t in targets]
    correct = 0
    for label, number in zip(labels, numbers):
        if label != number:
            break
        correct += 1
    return correct / len(labels) if labels else 0.0


def _squeeze(text: str, separators: Sequence[str]) -> str:
    """Separators to spaces, then runs of spaces to one."""
    for c in separators:
        text = text.replace(c, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    return text


def _after_prefix(pred: str, prefixes: Sequence[str]) -> str | None:
    """The text after the first of `prefixes` found (in their order) and one more character;
    '' when the output ends there; None when no prefix occurs."""
    for prefix in prefixes:
        idx = pred.find(prefix)
        if idx == -1:
            continue
        return pred[idx + len(prefix) + 1:] if len(pred) >= idx + len(prefix) + 1 else ""
    return None


def longbook_choice_eng(pred: str, targets: Sequence[str]) -> float:
    """Option letter or option text: first character, an answer prefix, or the first letter word.
    `targets` is (option text, letter)."""
    label = list(targets)
    pred = pred.strip()
    if pred == "":
        return 0.0
    if pred[0] in "ABCD":
        return float(pred[0] in label)
    if pred in label:
        return 1.0
    pred = _squeeze(pred, ["\n", '"', "'", ".", ",", "?", "!", "{", "}"])
    after = _after_prefix(pred, ["answer is:", "answer:", "answer is", "option is"])
    if after is not None:
        return float(any(after.startswith(s) for s in label))
    for word in pred.split():
        if word in "ABCD":
            return float(word in label)
    return 0.0


def code_debug(pred: str, targets: Sequence[str]) -> float:
    """The option letter at the start, or the letter or function name after an answer prefix.
    `targets` is (function name, letter)."""
    fn_name, letter = targets[0], targets[1]
    pred = pred.strip()
    if pred[:2] in (f"{letter}.", f"{letter}:"):
        return 1.0
    after = _after_prefix(_squeeze(pred, ["\n", "`", "'", '"', "-", "*", "Option", "option"]),
                          ["answer is:", "is:", "answer:", "correct option is:"])
    return float(after is not None and any(after.startswith(s) for s in (letter, fn_name)))


def longbook_qa_eng(pred: str, targets: Sequence[str]) -> float:
    """The best SQuAD-normalised token F1 over the answers."""
    return max((qa_f1(pred, t) for t in targets), default=0.0)


def longbook_qa_chn(pred: str, targets: Sequence[str]) -> float:
    """The best character-level F1 over the answers."""
    return max((qa_f1_zh_chars(pred, t) for t in targets), default=0.0)


def longbook_sum_eng(pred: str, targets: Sequence[str]) -> float:
    """ROUGE-Lsum F against the reference summary (the best over several)."""
    return rouge_lsum(pred, targets)
