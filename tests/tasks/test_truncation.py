"""Fitting prompts to a token budget: middle, left, skip; the budget counts the chat template."""

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks.truncation import check_mode, cut, fit, generation_budget

TEXT = "START " + " ".join(f"word{i}" for i in range(400)) + " END"


def test_cut_keeps_halves_or_the_tail() -> None:
    ids = list(range(10))
    assert cut(ids, 4, "middle") == ([0, 1], [8, 9])
    assert cut(ids, 5, "middle") == ([0, 1], [8, 9])  # as the reference: 2 x (budget // 2)
    assert cut(ids, 3, "left") == ([], [7, 8, 9])
    assert cut(ids, 0, "middle") == ([], [])


@pytest.mark.parametrize("mode", ["middle", "left"])
def test_fit_respects_the_budget(tokenizer, mode) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    fitted = fit(fmt, TEXT, lambda body: "Question first.\n" + body, 100, mode)
    assert fitted.tokens_before == fmt.count("Question first.\n" + TEXT) > 100
    assert 90 <= fmt.count("Question first.\n" + fitted.text) <= 100
    assert fitted.text.endswith("END")
    assert fitted.text.startswith("START") == (mode == "middle")


def test_fit_counts_the_chat_template(chat_tokenizer) -> None:
    fmt = PromptFormat(chat_tokenizer, chat=True)
    fitted = fit(fmt, TEXT, lambda body: [{"role": "system", "content": "Be brief."}, {"role": "user", "content": body}], 120, "middle")
    assert fmt.count([{"role": "system", "content": "Be brief."}, {"role": "user", "content": fitted.text}]) <= 120


def test_short_prompts_are_untouched_and_skip_only_marks(tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    assert fit(fmt, "short", lambda b: b, 100, "middle").tokens_before == 0
    skipped = fit(fmt, TEXT, lambda b: b, 100, "skip")
    assert skipped.text == TEXT and "budget is 100" in skipped.skipped
    assert "without its document" in fit(fmt, TEXT, lambda b: TEXT + b, 100, "middle").skipped


def test_generation_budget_and_modes() -> None:
    assert generation_budget(40, 4096) == 40
    assert generation_budget(30000, 4096) == 2048
    assert check_mode("left") == "left"
    with pytest.raises(HarnessError, match="--truncate 'right'"):
        check_mode("right")
