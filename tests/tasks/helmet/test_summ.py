"""HELMET's summarization tasks: prompts and budgets on schema-true files, the key-point protocol's arithmetic on
scripted judge replies (re-asks, unreadable verdicts), one batched judge call per runner batch, and the cache."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.judge import Judge
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.helmet.summ import combine, prompts, reader
from tests.fakes import ScriptedBackend

HELMET = Path("/work/.mirror/princeton-nlp+HELMET/repo")
WORDS = "The plaintiffs alleged that the county jail was overcrowded and unsafe for the detainees held there . "


def case(i: int, keypoints: bool = True) -> dict:
    """One Multi-LexSum case in the hub's schema (v20230518), plus HELMET's `summary/short_keypoints`."""
    row = {"id": f"CR-MI-{i:04d}", "sources": [WORDS * 150, f"Order number {i}. " + WORDS * 100],
           "sources_metadata": {"doc_id": [1, 2], "doc_type": ["Complaint", "Order"]},
           "summary/long": f"The long summary of case {i}. It has two sentences.", "summary/short": f"Short summary {i}.",
           "summary/tiny": None, "case_metadata": {"case_name": f"Case {i}"}}
    if keypoints:
        row["summary/short_keypoints"] = [f"Key point A of {i}.", f"Key point B of {i}.", "C.", "D."]
    return row


def lexsum_dir(root: Path, n: int = 2, keypoints: bool = True) -> Path:
    folder = root / "helmet" / "multi_lexsum"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "validation.jsonl").write_text("".join(json.dumps(case(i, keypoints)) + "\n" for i in range(n)))
    train = [case(100 + i) for i in range(3)] + [{**case(200), "summary/short": None}]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train))
    return root


def infbench_dir(root: Path) -> Path:
    (root / "infinitebench").mkdir(parents=True, exist_ok=True)
    rows = [{"id": i, "context": f"Chapter {i}. " + "Jennifer walked to the river and met her sister there . " * 400,
             "input": "", "answer": [f"  Gold summary of book {i}.  "], "options": []} for i in range(3)]
    (root / "infinitebench" / "longbook_sum_eng.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "helmet" / "infbench").mkdir(parents=True, exist_ok=True)
    (root / "helmet" / "infbench" / "longbook_sum_eng_keypoints.jsonl").write_text(
        "".join(json.dumps({"id": i, "keypoints": [f"Book {i} point {k}." for k in range(5)]}) + "\n" for i in range(3)))
    return root


@pytest.mark.skipif(not HELMET.exists(), reason="the HELMET mirror is absent")
def test_judge_prompts_and_templates_are_helmets_verbatim() -> None:
    def strings(path: str) -> dict[str, str]:
        source = subprocess.run(["git", "-C", str(HELMET), "show", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout
        return {n.targets[0].id: n.value.value for n in ast.parse(source).body
                if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)}

    reference = strings("scripts/eval_gpt4_summ.py")
    judge = prompts()["judge"]
    for kind, suffix in (("multi_lexsum", ""), ("infbench_sum", "_book")):
        for call in ("fluency", "recall", "precision"):
            assert judge[kind][call] == reference[f"{call}_prompt{suffix}"], (kind, call)
    data_py = subprocess.run(["git", "-C", str(HELMET), "show", "HEAD:data.py"], capture_output=True, text=True, check=True).stdout
    for kind in ("multi_lexsum", "infbench_sum"):
        assert json.dumps(prompts()["task"][kind]["user"]) in data_py


def test_the_key_point_protocol_arithmetic() -> None:
    from harness.core.types import Sample

    sample = Sample(id="s", task="t", length=1, index=0, prompt="p", targets=("gold",), meta={"keypoints": ["a", "b", "c", "d"]})
    # recall 3/4, precision 5/10: F1 = 2 * .75 * .5 / 1.25 = .6; fluency 1 -> 60
    score, details = combine(sample, {"fluency": {"fluency": 1.0}, "recall": {"recall": 3.0},
                                      "precision": {"precision": 5.0, "sentence_count": 10.0}})
    assert score == pytest.approx(60.0) and details["recall"] == 0.75 and details["precision"] == 0.5
    assert combine(sample, {"fluency": {"fluency": 0.0}, "recall": {"recall": 3.0},
                            "precision": {"precision": 5.0, "sentence_count": 10.0}})[0] == 0.0  # not fluent: 0
    assert combine(sample, {"fluency": {"fluency": 1.0}, "recall": {"recall": 0.0},
                            "precision": {"precision": 0.0, "sentence_count": 0.0}})[0] == 0.0  # zero denominators: 0
    assert combine(sample, {"fluency": {"fluency": 1.0}, "recall": None, "precision": {"precision": 1.0, "sentence_count": 2.0}}) \
        == (None, {"unreadable": ["recall"]})


def test_replies_are_read_as_the_reference_parse_json() -> None:
    assert reader("recall", 'Reasoning: 1 and 3 {are} present.\n\nOutput: {"recall": 2}') == {"recall": 2.0}
    assert reader("precision", 'Output: {"precision": 7, "sentence_count":  20}') == {"precision": 7.0, "sentence_count": 20.0}
    assert reader("fluency", '```json\n{"fluency": 1}\n```') == {"fluency": 1.0}
    assert reader("fluency", "It is fluent.") is None
    assert reader("precision", '{"precision": 7}') is None  # no sentence_count
    assert reader("fluency", '{"fluency": "yes"}') is None


def test_multi_lexsum_prompt_demos_and_budget(tmp_path, tokenizer, chat_tokenizer) -> None:
    task = get_task("helmet_multi_lexsum", TaskOptions(data_dir=lexsum_dir(tmp_path)))
    counter = PromptFormat(tokenizer, chat=False)
    length = 1500
    sample = task.make_sample(counter, length, 1, 42)
    assert task.max_new_tokens == 400 and task.generation_budget(length) == 400
    assert counter.count(sample.prompt) <= length - 400 and sample.truncated_from > length
    assert length - 400 - counter.count(sample.prompt) <= 3  # lands right under the budget
    assert sample.prompt.startswith("You are given the legal documents in a civil rights lawsuit")
    assert sample.prompt.endswith("\n\nNow please summarize the case.\n\nSummary:")  # no chat template: HELMET's prompt_template
    demo = sample.prompt.split("Example summaries:\n\n")[1].split("\n\nNow, write a summary of the following legal documents.\n")[0]
    assert len(demo.split("\n\n")) == 2 and all(d.startswith("Summary: Short summary 10") for d in demo.split("\n\n"))
    assert sample.meta["keypoints"][0] == "Key point A of 1." and sample.meta["expert_summary"].startswith("The long summary of case 1")
    assert sample.targets == ("Short summary 1.",)
    assert task.make_sample(counter, 4096, 1, 42).prompt.count("Summary: Short summary 10") == 2  # same demos at every length
    chat = task.make_sample(PromptFormat(chat_tokenizer, chat=True), length, 1, 42)
    assert chat.prompt.endswith("Now please summarize the case.")  # with a chat template: the user turn alone


def test_infbench_sum_prompt_demos_and_budget(tmp_path, tokenizer) -> None:
    task = get_task("helmet_infbench_sum", TaskOptions(data_dir=infbench_dir(tmp_path)))
    counter = PromptFormat(tokenizer, chat=False)
    sample = task.make_sample(counter, 4096, 0, 42)
    assert task.generation_budget(4096) == 1200 and counter.count(sample.prompt) <= 4096 - 1200
    assert "For example:\n\n[story text]\nSummary: Gold summary of book" in sample.prompt
    assert "Gold summary of book 0" not in sample.prompt  # a book's own summary is never its demo
    assert "\n\nNow, read the following story:\n\nChapter 0." in sample.prompt
    assert sample.prompt.endswith("Now summarize the book.\n\nSummary:")
    assert sample.meta["keypoints"] == [f"Book 0 point {k}." for k in range(5)]
    small = task.make_sample(counter, 2048, 0, 42)
    assert small.max_new_tokens == 1024 and counter.count(small.prompt) <= 1024  # the generation budget halves


def test_key_points_come_from_the_row_or_helmets_file_and_a_missing_one_is_named(tmp_path, tokenizer) -> None:
    data = lexsum_dir(tmp_path, keypoints=False)  # the hub's rows: no key points in them
    task = get_task("helmet_multi_lexsum", TaskOptions(data_dir=data))
    counter = PromptFormat(tokenizer, chat=False)
    with pytest.raises(HarnessError, match="multi_lexsum_val.jsonl"):
        task.make_sample(counter, 2048, 0, 42)
    helmet_rows = [{"id": case(i)["id"], "summary/short_keypoints": [f"From HELMET's file {i}."]} for i in range(2)]
    (data / "helmet" / "multi_lexsum" / "multi_lexsum_val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in helmet_rows))
    assert task.make_sample(counter, 2048, 1, 42).meta["keypoints"] == ["From HELMET's file 1."]
    empty = tmp_path / "empty"
    (empty / "infinitebench").mkdir(parents=True)
    (empty / "helmet").mkdir()  # a local HELMET folder without the file: an error, never a download
    with pytest.raises(HarnessError, match="longbook_sum_eng_keypoints.jsonl"):
        get_task("helmet_infbench_sum", TaskOptions(data_dir=empty)).preflight()


def scripted_judge(seen: list[str]):  # type: ignore[no-untyped-def]
    """Judge replies by call: fluent; 3 key points found (the first recall reply of each summary unreadable, so it is
    asked again); 1 of 2 sentences supported."""

    def answer(request) -> str:  # type: ignore[no-untyped-def]
        text = request.text
        seen.append(text)
        if "evaluate the fluency" in text:
            return 'The text is coherent. {"fluency": 1}'
        if "Recall:" in text:
            return "I am not sure." if sum("Recall:" in s for s in seen) <= 2 else 'Output: {"recall": 3}'
        return 'Output: {"precision": 1, "sentence_count": 2}'

    return answer


def test_judged_end_to_end_with_re_asks_batching_and_cache(tmp_path, tokenizer) -> None:
    data = lexsum_dir(tmp_path / "d")
    config = EvalConfig(model="scripted", tasks=["helmet_multi_lexsum"], lengths=[2048], data_dir=str(data))
    model = ScriptedBackend(tokenizer, answer=lambda r: "The case was about a jail. It settled.", batch=2)
    with pytest.raises(HarnessError, match="--judge"):
        evaluate(config, model, tmp_path / "nojudge", None)

    seen: list[str] = []
    judge_backend = ScriptedBackend(tokenizer, answer=scripted_judge(seen))
    judge = Judge(judge_backend, "scripted-judge", cache_path=tmp_path / "judge.db")
    _, result = evaluate(config, model, tmp_path / "out", None, judge)
    # recall 3/4, precision 1/2: F1 = 2 * .75 * .5 / 1.25 = .6, fluent: 60 for both cases
    cell = result.results["helmet_multi_lexsum"]["2048"]
    assert cell["score"] == pytest.approx(60.0) and cell["n"] == 2 and cell["judge_failed"] == 0
    # three calls per summary, less the fluency prompt both (identical) summaries share, plus two recall re-asks
    assert judge.calls == 2 * 3 - 1 + 2
    assert judge_backend.batches == 2  # the batch's six prompts in one judge call, then the two re-asks in one
    assert result.config["judge"] == "scripted-judge"
    report = result.extra["reports"]["helmet_multi_lexsum"]["2048"]
    assert report["judge_f1"] == pytest.approx(60.0) and report["judge_recall"] == 75.0 and report["judge_fluency"] == 100.0
    line = json.loads((tmp_path / "out" / "samples" / "helmet_multi_lexsum.jsonl").read_text().splitlines()[0])
    assert set(line["meta"]["judge_verdicts"]) == {"fluency", "recall", "precision"}
    assert line["meta"]["judge_verdicts"]["recall"] == {"reading": {"recall": 3.0}, "reply": 'Output: {"recall": 3}'}
    assert line["meta"]["judge_details"]["recall_found"] == 3.0 and line["meta"]["judge_failed"] is False
    recall_prompt = next(s for s in seen if "Recall:" in s)
    assert "1. Key point A of" in recall_prompt and "2. Key point B of" in recall_prompt
    assert "The case was about a jail. It settled." in recall_prompt
    assert any('Expert summary: "The long summary of case' in s for s in seen)  # precision: against summary/long

    again = Judge(ScriptedBackend(tokenizer, answer=lambda r: "garbage"), "scripted-judge", cache_path=tmp_path / "judge.db")
    _, rerun = evaluate(config, model, tmp_path / "out-2", None, again)
    assert rerun.results["helmet_multi_lexsum"]["2048"]["score"] == pytest.approx(60.0)
    assert again.calls == 0 and again.hits == 8


def test_unreadable_verdicts_score_zero_and_are_counted(tmp_path, tokenizer) -> None:
    config = EvalConfig(model="scripted", tasks=["helmet_multi_lexsum"], lengths=[2048], data_dir=str(lexsum_dir(tmp_path / "d", n=1)))
    judge = Judge(ScriptedBackend(tokenizer, answer=lambda r: "no json here"), "mute", cache_path=tmp_path / "judge.db")
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "A summary."), tmp_path / "out", None, judge)
    cell = result.results["helmet_multi_lexsum"]["2048"]
    assert cell["score"] == 0.0 and cell["judge_failed"] == 1
    assert judge.calls == 3 * 3  # each of the three calls asked three times
    line = json.loads((tmp_path / "out" / "samples" / "helmet_multi_lexsum.jsonl").read_text())
    assert line["meta"]["judge_details"] == {"unreadable": ["fluency", "recall", "precision"]}
