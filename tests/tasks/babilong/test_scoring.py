"""BABILong's answer check, case by case from the reference's rules (babilong/metrics.py compare_answers)."""

import pytest

from harness.tasks.babilong.scoring import first_sentence, is_correct, score
from harness.tasks.babilong.task import prompts

LOCATIONS = prompts()["qa1"]["labels"]


@pytest.mark.parametrize(("target", "output", "question", "task", "right"), [
    ("bathroom", "The most recent location of Mary is bathroom.", "Where is Mary?", "qa1", True),
    ("bathroom", "BATHROOM", "Where is Mary?", "qa1", True),  # lowercased
    ("bathroom", "bathroom or kitchen", "Where is Mary?", "qa1", False),  # two labels: not the only one
    ("bathroom", "Mary is in the kitchen. Earlier: bathroom.", "Where is Mary?", "qa1", False),  # first sentence only
    ("garden", "Before the office the milk was in the garden", "Where was the milk before the office?", "qa3", True),
    ("office", "Before the office the milk was in the garden", "Where was the milk before the office?", "qa3", False),
    ("kitchen", "kitchen <example> garden", "What is west of the garden?", "qa4", True),  # cut at an echoed example
    ("apple,milk", "apple, milk", "What is Daniel carrying?", "qa8", True),
    ("apple,milk", "apple", "What is Daniel carrying?", "qa8", False),
    ("apple,milk", "apple, milk, football", "What is Daniel carrying?", "qa8", False),
    ("n,w", "n,w", "How do you go from the kitchen to the hallway?", "qa19", True),
    ("yes", "yes", "Is John in the garden?", "qa6", True),
    ("no", "nope", "Is John in the garden?", "qa6", True),  # "no" is in "nope": the reference's substring match
    ("Bill", "bill", "Who received the football?", "qa5", True),
])
def test_reference_rules(target: str, output: str, question: str, task: str, right: bool) -> None:
    assert is_correct(target, output, question, prompts()[task]["labels"]) is right
    assert score(target, output, question, prompts()[task]["labels"]) == (100.0 if right else 0.0)


def test_the_question_cut_never_fires_after_lowercasing() -> None:
    assert first_sentence("Kitchen Question: where") == "kitchen question: where"


def test_prompts_cover_the_twenty_tasks() -> None:
    assert list(prompts()) == [f"qa{i}" for i in range(1, 21)]
    assert all({"instruction", "examples", "post_prompt", "labels"} <= set(p) for p in prompts().values())
