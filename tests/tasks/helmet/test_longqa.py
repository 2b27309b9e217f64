"""HELMET's long-document QA tasks on small files of the published schemas: HELMET's templates and demos, the
start of the document kept with HELMET's postfix so that prompts fit each length exactly, the shuffled test
order, the metrics on hand-checked outputs (and HELMET's quirks), and the GPT-4 judge's prompt and parser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.judge import Judge
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.helmet.fit import shuffled
from harness.tasks.helmet.qa_metrics import choice_exact_match, default_score, rouge_l_f1
from tests.fakes import ScriptedBackend
from tests.tasks.helmet.icl_fixtures import write_jsonl
from tests.tasks.helmet.longqa_fixtures import write_infbench, write_narrativeqa

POSTFIX = " ... [the rest of the text is omitted]"
NQA_HEAD = ("You are given a story, which can be either a novel or a movie script, and a question. Answer the question as "
            "concisely as you can, using a single phrase if possible.\n\nFor example:\n\nQuestion: ")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("helmet-longqa")
    return write_infbench(write_narrativeqa(base))


def task(root: Path, name: str, **args: str):  # type: ignore[no-untyped-def]
    return get_task(name, TaskOptions(data_dir=root, args=dict(args)))


def test_narrativeqa_prompt_demos_and_order(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root, "helmet_narrativeqa")
    rows = [json.loads(line) for line in (root / "helmet/narrativeqa/test.jsonl").read_text().splitlines()]
    for index in range(3):
        sample = t.make_sample(fmt, 8192, index, 42)
        row = rows[shuffled(len(rows), 42)[index]]  # HELMET's test.shuffle(seed=42)
        assert sample.targets == tuple(a["text"] for a in row["answers"]) and sample.truncated_from == 0
        assert sample.prompt.startswith(NQA_HEAD)
        demos = re.findall(r"Question: (Train question \d\?)\nAnswer: (train answer \d)\n\n", sample.prompt)
        assert len(demos) == 2 and demos[0] != demos[1] and all(q[-2] == a[-1] for q, a in demos)
        assert ("\n\nNow, use the following story to answer the question:\n\n" + row["document"]["text"] +
                f"\n\nQuestion: {row['question']['text']}\nAnswer:") in sample.prompt
        assert sample.prompt.endswith("\nAnswer:") and sample.meta["chat"] is False
    assert t.size() == 9 and t.num_samples == 100 and t.max_new_tokens == 100 and t.metric.name == "rougeL_f1"
    assert t.make_sample(fmt, 8192, 4, 42) == task(root, "helmet_narrativeqa").make_sample(fmt, 8192, 4, 42)


def test_chat_prompt_has_no_answer_prefix(root, chat_tokenizer) -> None:
    fmt = PromptFormat(chat_tokenizer, chat=True)
    sample = task(root, "helmet_narrativeqa").make_sample(fmt, 4096, 0, 42)
    assert sample.meta["chat"] is True and sample.prompt.endswith("?") and sample.answer_prefix == ""
    assert fmt.count(sample.prompt) <= 4096 - 100


@pytest.mark.parametrize("name", ["helmet_narrativeqa", "helmet_infbench_qa", "helmet_infbench_choice"])
def test_documents_keep_their_start_and_fit_each_length(root, tokenizer, name) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root, name)
    for length in (512, 1024, 2048):
        for index in range(t.size()):
            sample = t.make_sample(fmt, length, index, 42)
            count = fmt.count(sample.prompt)
            assert count <= t.prompt_budget(length) == length - t.max_new_tokens
            if sample.truncated_from:
                assert POSTFIX + "\n\nQuestion: " in sample.prompt
                assert count >= t.prompt_budget(length) - 3  # lands next to the budget
                whole = t.make_sample(fmt, 65536, index, 42).prompt
                kept = sample.prompt[:sample.prompt.index(POSTFIX)]
                assert whole.startswith(kept) and sample.truncated_from == fmt.count(whole)


def test_other_truncation_modes(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    middle = task(root, "helmet_infbench_qa", truncate="middle").make_sample(fmt, 512, 1, 42)
    assert POSTFIX not in middle.prompt and middle.truncated_from and fmt.count(middle.prompt) <= 502
    assert middle.prompt.endswith("\n\nQuestion: What did the falcon carry?\n\nAnswer:")
    assert task(root, "helmet_narrativeqa", truncate="skip").make_sample(fmt, 512, 0, 42).skipped
    with pytest.raises(HarnessError, match="truncate"):
        task(root, "helmet_narrativeqa", truncate="top")
    short = task(root, "helmet_narrativeqa").make_sample(fmt, 160, 0, 42)
    assert short.max_new_tokens == 80 and short.skipped  # generation at most half the length; the template alone overflows


def test_infbench_templates_and_demos_are_helmets(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    rows = [json.loads(line) for line in (root / "infinitebench/longbook_choice_eng.jsonl").read_text().splitlines()]
    t = task(root, "helmet_infbench_choice")
    sample = t.make_sample(fmt, 65536, 0, 42)
    me = rows[shuffled(len(rows), 42)[0]]
    letter = "ABCD"[me["options"].index(me["answer"][0])]
    assert sample.targets == (letter, f"{letter}. {me['answer'][0]}")
    others = [r for r in rows if r["id"] != me["id"]]
    demo_letters = ["ABCD"[others[j]["options"].index(others[j]["answer"][0])] for j in shuffled(len(others), 42)[:2]]
    options = "A. river_walk\nB. lantern_fix\nC. harbor_map\nD. meadow_sum"
    demo = "\n\n".join(f"[story text]\nQuestion: Which one is right?\nOptions:\n{options}\nAnswer: {x}" for x in demo_letters)
    assert sample.prompt == (
        "You are given a story and a question with multiple choices. Choose the best answer from the options provided. "
        "Only one of the following options is correct, output the answer using one single letter (A, B, C, or D). "
        f"Don't say anything else.\n\nFor example:\n\n{demo}\n\nNow, read the following story:\n\n{me['context']}"
        f"\n\nQuestion: Which one is right?\nOptions:\n{options}\n\nAnswer:")
    qa = task(root, "helmet_infbench_qa")
    assert (qa.max_new_tokens, t.max_new_tokens, qa.metric.name, t.metric.name) == (10, 10, "rougeL_f1", "exact_match")
    assert "[story text]\nQuestion: What did the falcon carry?\nAnswer: a copper lantern across the meadow\n\n" in \
        qa.make_sample(fmt, 65536, 0, 42).prompt


def test_metrics_on_hand_checked_outputs(root, tokenizer) -> None:
    answers = ("a copper lantern across the meadow",)
    # LCS 2 of 2 predicted and 6 reference tokens: P 1, R 1/3, F 0.5; "Answer:" adds a token to the raw output
    assert rouge_l_f1("copper lantern", answers) == pytest.approx(0.5)
    assert rouge_l_f1("Answer: copper lantern", answers) == pytest.approx(2 * (2 / 3) * (1 / 3) / 1)
    assert default_score("rougeL_f1", "Answer: copper lantern", answers) == pytest.approx(0.5)  # parsed wins
    assert rouge_l_f1("Copper lanterns", answers) == pytest.approx(0.5)  # stemmed
    assert default_score("substring_exact_match", "Answer: it was A copper lantern, across the meadow!", answers) == 1.0
    assert choice_exact_match("Answer: B", ("B", "B. harbor_map")) == 1.0
    assert choice_exact_match("Answer: the answer is b. HARBOR_MAP", ("B", "B. harbor_map")) == 1.0
    assert choice_exact_match("Answer: C", ("B", "B. harbor_map")) == 0.0
    # HELMET's quirk, kept: "A" normalises to "" (an article), so an empty answer matches option A
    assert choice_exact_match("Answer:", ("A", "A. river_walk")) == 1.0
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root, "helmet_infbench_qa")
    sample = t.make_sample(fmt, 4096, 0, 42)
    assert t.score(sample, " copper lantern") == pytest.approx(50.0)
    assert t.score(sample, " A copper lantern across the meadow.") == 100.0


def test_judge_prompt_and_parser(root, tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    t = task(root, "helmet_narrativeqa")
    assert t.judge is not None and not t.judge.required and t.judge.max_tokens == 2048
    sample = t.make_sample(fmt, 4096, 0, 42)
    [message] = t.judge.prompt(sample, " The falcon did.\nIt flew away.")
    assert message["role"] == "user"
    text = message["content"]
    assert text.startswith("Please act as an impartial judge and evaluate the quality of the provided answer")
    assert 'json format: {"fluency": 0, "correctness": 1}.' in text
    assert text.endswith(f"Question: {sample.meta['question']}\nCorrect answers: {list(sample.targets)!r}\n"
                         "Answer: The falcon did. It flew away.\n")
    parse = t.judge.parse
    assert parse('Reasoning... {"fluency": 1, "correctness": 3}') == pytest.approx(100.0)
    assert parse('{"fluency": 0, "correctness": 3} then {"fluency": 1, "correctness": 2}') == pytest.approx(200 / 3)
    assert parse("no verdict") is None and parse('{"fluency": 1}') is None and parse("{not json}") is None
    assert parse('{"fluency": true, "correctness": 3}') == pytest.approx(100.0)  # HELMET multiplies it as 1
    assert parse('{"fluency": "1", "correctness": 3}') is None


def test_judged_and_unjudged_runs_say_which_scored(root, tokenizer, tmp_path) -> None:
    config = EvalConfig(model="scripted", tasks=["helmet_narrativeqa"], lengths=[1024], data_dir=str(root), limit=2)
    model = ScriptedBackend(tokenizer, answer=lambda r: " the falcon 0")
    _, plain = evaluate(config, model, tmp_path / "plain", None)
    judge = Judge(ScriptedBackend(tokenizer, answer=lambda r: '{"fluency": 1, "correctness": 2}'), "fake", tmp_path / "j.db")
    _, judged = evaluate(config, model, tmp_path / "judged", None, judge)
    assert judged.results["helmet_narrativeqa"]["1024"]["score"] == pytest.approx(200 / 3)
    assert plain.results["helmet_narrativeqa"]["1024"]["score"] == pytest.approx(
        plain.extra["reports"]["helmet_narrativeqa"]["1024"]["rougeL_f1"])
    assert plain.extra["reports"]["helmet_narrativeqa"]["1024"]["scored_by"] == "rougeL_f1"
    assert judged.extra["reports"]["helmet_narrativeqa"]["1024"]["scored_by"].startswith("judge")


def test_bad_files_name_file_and_field(tmp_path) -> None:
    base = write_narrativeqa(tmp_path)
    write_jsonl(base / "helmet/narrativeqa/test.jsonl", [{"document": {"id": "d", "text": "x"}, "question": {"text": "q"},
                                                         "answers": [{"txt": "a"}]}])
    with pytest.raises(HarnessError, match=r"test.jsonl:1 answers\[0\]: missing field 'text'"):
        task(base, "helmet_narrativeqa").preflight()
    write_jsonl(base / "helmet/narrativeqa/test.jsonl", [{"document": {"id": "d"}, "question": {"text": "q"}, "answers": []}])
    with pytest.raises(HarnessError, match=r"test.jsonl:1: missing field 'document.text'"):
        task(base, "helmet_narrativeqa").preflight()
    (base / "helmet/narrativeqa/train.jsonl").write_text("{not json\n")
    write_narrativeqa(tmp_path / "other")
    (tmp_path / "other/helmet/narrativeqa/train.jsonl").write_text("{not json\n")
    with pytest.raises(HarnessError, match=r"train.jsonl:1: not valid JSON"):
        task(tmp_path / "other", "helmet_narrativeqa").preflight()
    write_jsonl(tmp_path / "ib/infinitebench/longbook_choice_eng.jsonl",
                [{"id": 3, "context": "c", "input": "q", "answer": ["x"], "options": ["a", "b", "c", "d"]}])
    with pytest.raises(HarnessError, match=r"longbook_choice_eng id 3: answer 'x' is not one of its options"):
        task(tmp_path / "ib", "helmet_infbench_choice").preflight()
