"""GSM8K (gsm8k_cot): prompt, answer extraction and exact match worked out by hand, a scripted run."""

import json

from harness.core.prompt import PromptFormat
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.gsm8k.task import INVALID, exact_match, extract, flexible, spec, strict, target_of
from tests.fakes import ScriptedBackend

ROWS = [{"question": "Tom has 3 apples and buys 4 more. How many?", "answer": "3 + 4 = <<3+4=7>>7\n#### 7"},
        {"question": "A shop sells 2 hats at $500 each. What is the total?", "answer": "2 * 500 = 1000\n#### 1,000"}]


def test_target_and_extraction() -> None:
    assert target_of(ROWS[1]["answer"]) == "1,000"
    assert extract("So 3 + 4 = 7. The answer is 7.", spec()["strict_regex"], 0) == "7"
    assert extract("no number here", spec()["strict_regex"], 0) == INVALID
    assert extract("first 12 then 7.5", spec()["flexible_regex"], -1) == "7.5"


def test_exact_match_ignores_commas_dollars_and_a_final_dot() -> None:
    assert exact_match("1000", "1,000") == 1.0
    assert strict("The answer is 1,000.", ("1,000",)) == 100.0
    assert strict("The answer is $1,000.", ("1,000",)) == 0.0  # "$" is outside the strict pattern: [invalid]
    assert flexible("The answer is $1,000.", ("1,000",)) == 100.0  # last "$1,000." -> "1000"


def test_prompt_is_eight_shot_q_a(tmp_path, tokenizer) -> None:
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    task = get_task("gsm8k", TaskOptions(data_dir=tmp_path))
    prompt = task.make_sample(PromptFormat(tokenizer, chat=False), 0, 0, 42).prompt
    assert prompt.startswith("Q: There are 15 trees in the grove.") and prompt.count("\n\nQ: ") == 8
    assert prompt.endswith("\n\nQ: Tom has 3 apples and buys 4 more. How many?\nA:")
    assert task.stop == ("Q:", "</s>", "<|im_end|>") and task.short


def test_scripted_run_reports_both_filters(tmp_path, tokenizer) -> None:
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))

    def answer(request) -> str:
        return " 3 + 4 = 7. The answer is 7." if "Tom has" in request.text[-100:] else " It costs $1,000."

    config = EvalConfig(model="scripted", tasks=["gsm8k"], lengths=[4096], data_dir=str(tmp_path))
    # a short-context task runs once, whatever --lengths says (even past the model's maximum)
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=answer, max_len=512), tmp_path / "out", None)
    assert set(result.results["gsm8k"]) == {"0"} and result.results["gsm8k"]["0"]["score"] == 50.0
    assert result.extra["reports"]["gsm8k"] == {"flexible-extract": 100.0, "strict-match": 50.0}
