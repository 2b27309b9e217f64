import json
import subprocess
import sys

import pytest

from harness.core.prompt import PromptFormat
from harness.tasks import get_task, resolve
from harness.tasks.ruler.niah import singularize


@pytest.mark.parametrize("length", [256, 512, 1024, 2048, 4096])
def test_samples_fit_the_budget(tokenizer, length: int) -> None:
    task = get_task("niah_single_1")
    fmt = PromptFormat.create(tokenizer, "auto")
    for sample in task.samples(fmt, length, 3, seed=7):
        total = fmt.count(sample.prompt, sample.answer_prefix) + task.max_new_tokens
        assert total <= length
        # one more noise line (about 22 tokens) would not fit
        assert total > length - 30


def test_chat_template_is_counted(chat_tokenizer) -> None:
    task = get_task("niah_single_1")
    fmt = PromptFormat.create(chat_tokenizer, "on")
    sample = task.samples(fmt, 1024, 1, seed=1)[0]
    assert fmt.count(sample.prompt, sample.answer_prefix) + 128 <= 1024


def test_sample_has_rulers_wording(tokenizer) -> None:
    sample = get_task("niah_single_1").samples(PromptFormat.create(tokenizer, "off"), 512, 1, seed=3)[0]
    assert isinstance(sample.prompt, str)
    assert sample.prompt.startswith("A special magic number is hidden within the following text.")
    assert "What is the special magic number for " in sample.prompt
    assert sample.answer_prefix.startswith(" The special magic number for ")
    assert sample.answer_prefix.endswith(" mentioned in the provided text is")
    (value,) = sample.targets
    assert len(value) == 7 and value.isdigit()
    assert f"is: {value}." in sample.prompt
    assert "The grass is green. The sky is blue." in sample.prompt


def test_singularize_matches_ruler() -> None:
    assert singularize("Some special magic numbers are all there? answers") == "A special magic numbers is there? answer"


def test_ruler_group_resolves() -> None:
    assert "niah_single_1" in resolve(["ruler"])


SCRIPT = """
import json, sys
from harness.core.models import BUILTINS
from harness.core.backends.hf import load_tokenizer
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
fmt = PromptFormat.create(load_tokenizer(str(BUILTINS["tiny-random"].ensure())), "auto")
print(json.dumps([s.to_dict() for s in get_task("niah_single_1").samples(fmt, 1024, 3, seed=11)], sort_keys=True))
"""


@pytest.mark.slow  # starts fresh Python processes
def test_same_seed_same_bytes_across_processes(tiny_path) -> None:
    runs = [subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    samples = json.loads(runs[0])
    assert len({s["id"] for s in samples}) == 3
    assert len({s["targets"][0] for s in samples}) == 3


def test_a_niah_row_with_another_haystack_is_keyed_apart_and_only_niah_rows_take_one() -> None:
    from harness.core.errors import HarnessError
    from harness.tasks.ruler.tasks import ruler_task

    own, alone = ruler_task("niah_single_1"), ruler_task("niah_single_1", haystack="none")
    assert own.params["haystack"] == "noise" and alone.params["haystack"] == "none"
    assert ruler_task("niah_single_1", haystack="noise").params == own.params  # its own haystack: the row itself
    with pytest.raises(HarnessError, match="only the niah rows have a haystack"):
        ruler_task("vt", haystack="none")
