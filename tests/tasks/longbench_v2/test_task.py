"""LongBench v2 on local files of the published schema: each mode's prompt is the reference's template
filled as `pred.py` fills it, the document is cut in the middle to each length's budget (both cot calls
fit), rag reads retrieved chunks, bad files fail naming file and field, and the eval runs end to end."""

import json
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.runner import EvalConfig, evaluate
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.longbench_v2.task import ANSWER_TOKENS, THOUGHT_SLACK, answer_prompt, prompts
from tests.clirun import run_cli
from tests.fakes import ScriptedBackend
from tests.tasks.longbench_v2.fixtures import ROWS, row, write_data

# The reference's prompts/*.txt @2e00731, as files (not read from our prompts.toml).
DIRECT = ("Please read the following text and answer the question below.\n\n<text>\n$DOC$\n</text>\n\n"
          "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
          'Format your response as follows: "The correct answer is (insert answer here)".')
COT = ("Please read the following text and answer the questions below.\n\n<text>\n$DOC$\n</text>\n\n"
       "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
       "Let\u2019s think step by step:")
COT_ANS = ("Please read the following text and answer the questions below.\n\nThe text is too long and omitted here.\n\n"
           "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
           "Let\u2019s think step by step: $COT$\n\nBased on the above, what is the single, most likely answer choice? "
           'Format your response as follows: "The correct answer is (insert answer here)".')
NO_CONTEXT = ("What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
              'What is the single, most likely answer choice? Format your response as follows: '
              '"The correct answer is (insert answer here)".')
RAG = ("Please read the following retrieved text chunks and answer the question below.\n\n<text>\n$DOC$\n</text>\n\n"
       "What is the correct answer to this question: $Q$\nChoices:\n(A) $C_A$\n(B) $C_B$\n(C) $C_C$\n(D) $C_D$\n\n"
       'Format your response as follows: "The correct answer is (insert answer here)".')
FILLED_QUESTION = ("What is the correct answer to this question: Which wall was rebuilt in story 0?\nChoices:\n"
                   "(A) The northern wall\n(B) The southern wall\n(C) The harbour gate\n(D) None of them\n\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_data(tmp_path_factory.mktemp("lbv2"))


@pytest.fixture(scope="module")
def fmt(tokenizer) -> PromptFormat:
    return PromptFormat(tokenizer, chat=False)


def task(data: Path, **args: str):  # type: ignore[no-untyped-def]
    return get_task("longbench_v2", TaskOptions(data_dir=data, args=args))


def test_templates_are_the_reference_files() -> None:
    ours = {key: value["template"] for key, value in prompts().items()}
    assert ours == {"direct": DIRECT, "cot": COT, "cot_answer": COT_ANS, "no_context": NO_CONTEXT, "rag": RAG}


@pytest.mark.parametrize(("mode", "doc"), [
    ("direct", ROWS[0]["context"].strip()),
    ("cot", ROWS[0]["context"].strip()),
    ("no_context", None),
    ("rag", "Retrieved chunk 1: Early chunk about the wall.\n\nRetrieved chunk 2: Middle chunk.\n\n"
            "Retrieved chunk 3: Later chunk about the gate."),
])
def test_each_mode_prompt_is_the_template_filled(data, fmt, mode, doc) -> None:
    template = {"direct": DIRECT, "cot": COT, "no_context": NO_CONTEXT, "rag": RAG}[mode]
    sample = task(data, mode=mode).make_sample(fmt, 4096, 0, 42)
    expected = template.replace("$DOC$", doc or "").replace("$Q$", "Which wall was rebuilt in story 0?")
    expected = expected.replace("$C_A$", "The northern wall").replace("$C_B$", "The southern wall")
    expected = expected.replace("$C_C$", "The harbour gate").replace("$C_D$", "None of them")
    assert sample.prompt == expected and FILLED_QUESTION in expected
    assert sample.targets == ("A",) and sample.truncated_from == 0 and not sample.skipped
    assert sample.meta == {"example_id": "66f00000", "domain": "Single-Document QA", "sub_domain": "Financial",
                           "difficulty": "easy", "length_bucket": "short",
                           **({"cot_answer_template": COT_ANS.replace("$Q$", "Which wall was rebuilt in story 0?")
                               .replace("$C_A$", "The northern wall").replace("$C_B$", "The southern wall")
                               .replace("$C_C$", "The harbour gate").replace("$C_D$", "None of them")}
                              if mode == "cot" else {})}


def test_cot_follow_up_is_the_answer_prompt_with_the_thought(data, fmt) -> None:
    cot = task(data, mode="cot")
    sample = cot.make_sample(fmt, 4096, 0, 42)
    prompt, new_tokens = cot.follow_up(sample, "  The walls were rebuilt in the north.\n")
    assert new_tokens == 128 and prompt.startswith("Please read the following text and answer the questions below.\n\n"
                                                   "The text is too long and omitted here.\n\n" + FILLED_QUESTION)
    assert "Let\u2019s think step by step: The walls were rebuilt in the north.\n\nBased on the above" in prompt
    assert task(data).follow_up is None and task(data, mode="rag").follow_up is None


@pytest.mark.parametrize("mode", ["direct", "cot", "rag"])
@pytest.mark.parametrize("length", [1024, 2048, 3000, 4096])
def test_document_cut_in_the_middle_to_the_budget(data, fmt, mode, length) -> None:
    rows = [dict(r, retrieved_context=[{"c_idx": 0, "content": r["context"]}]) for r in ROWS]
    folder = data.parent / f"cut-{mode}"
    write_data(folder, rows)
    lb = task(folder, mode=mode)
    budget = lb.prompt_budget(length)
    assert budget == length - min({"cot": 1024}.get(mode, 128), length // 2)
    for index in (1, 2):
        sample = lb.make_sample(fmt, length, index, 0)
        count = fmt.count(sample.prompt)
        assert budget - 2 <= count <= budget < sample.truncated_from
        head = ("Retrieved chunk 1: \n " if mode == "rag" else "") + f"Story {index} begins."
        assert sample.prompt.split("<text>\n")[1].startswith(head)
        assert sample.prompt.endswith(COT[COT.index("\n\nLet"):] if mode == "cot" else DIRECT[DIRECT.index("\n\nFormat"):])
        assert f"Story {index} ends." in sample.prompt  # the end of the document survives a middle cut


def test_skip_leaves_a_long_document_out(data, fmt) -> None:
    assert task(data, truncate="skip").make_sample(fmt, 2048, 2, 0).skipped
    assert not task(data, truncate="skip").make_sample(fmt, 2048, 0, 0).skipped


def test_cot_caps_the_thought_so_the_answer_call_fits(tmp_path, fmt) -> None:
    long_question = row(9, 3000, "hard", "long", "B")
    long_question["question"] = "Which of these statements holds? " + " ".join(["the harbour wall stood"] * 110)
    write_data(tmp_path, [long_question])
    cot = task(tmp_path, mode="cot")
    sample = cot.make_sample(fmt, 2048, 0, 0)
    fixed = fmt.count(answer_prompt(sample, ""))
    assert sample.max_new_tokens == 2048 - ANSWER_TOKENS - fixed - THOUGHT_SLACK < 1024
    assert fmt.count(sample.prompt) + 1024 <= 2048
    assert cot.make_sample(fmt, 1024, 0, 0).skipped  # the question alone is over the first call's budget


@pytest.mark.parametrize(("output", "letter"), [
    ("The correct answer is (A)", "A"),
    ("The correct answer is B.", "B"),
    ("**The correct answer is (C)**", "C"),
    ("The correct answer is **D**", "D"),
    ("Reasoning...\nThe correct answer is (B) because ...", "B"),
    ("The correct answer is (E)", None),
    ("the correct answer is (A)", None),  # case-sensitive, as pred.py
    ("The correct answer is: (A)", None),
    ("The correct answer is (insert answer here)", None),
    ("The correct answer is (a)", None),
    ("The correct answer is  A", None),
    ("The correct answer is Alpha", "A"),  # the bare pattern takes the first letter, as pred.py
    ("The correct answer is (B). The correct answer is (C)", "B"),
    ("The correct answer is C, not The correct answer is (D)", "D"),  # the bracketed form wins wherever it is
    ("Answer: A", None),
    ("", None),
    ("The correct answer is (*A*)", "A"),
])
def test_extraction_is_pred_py(output, letter) -> None:
    from harness.tasks.longbench_v2.scoring import extract_answer, score

    assert extract_answer(output) == letter
    assert score("A", "  " + output + "\n") == (100.0 if letter == "A" else 0.0)


def test_scores_the_extracted_letter(data, fmt) -> None:
    lb = task(data)
    sample = lb.make_sample(fmt, 4096, 1, 0)
    assert lb.score(sample, "The correct answer is (B)") == 100.0
    assert lb.score(sample, "The correct answer is (A)") == 0.0


def test_report_is_result_py_table_per_length(tmp_path) -> None:
    from harness.core.types import ScoredSample
    from harness.tasks.longbench_v2.scoring import report

    def rec(length: int, difficulty: str, bucket: str, score: float, output: str = "x") -> ScoredSample:
        return ScoredSample(id="i", task="longbench_v2", length=length, index=0, prompt_tokens=1, targets=("A",),
                            output=output, score=score, latency_s=0.0, meta={"difficulty": difficulty, "length_bucket": bucket})

    records = [rec(2048, "easy", "short", 100, "The correct answer is (A)"), rec(2048, "hard", "short", 0),
               rec(2048, "hard", "medium", 100, "The correct answer is A"), rec(2048, "easy", "long", 0),
               rec(4096, "easy", "short", 100, "The correct answer is (A)")]
    table = report(records, tmp_path)
    assert table["2048"] == {"overall": {"acc": 50.0, "n": 4}, "easy": {"acc": 50.0, "n": 2}, "hard": {"acc": 50.0, "n": 2},
                             "short": {"acc": 50.0, "n": 2}, "medium": {"acc": 100.0, "n": 1}, "long": {"acc": 0.0, "n": 1},
                             "no_answer": 2}
    assert table["4096"]["overall"] == {"acc": 100.0, "n": 1} and table["4096"]["hard"] == {"acc": None, "n": 0}


def test_rag_reads_the_top_chunks_in_document_order(data, fmt) -> None:
    sample = task(data, mode="rag", rag_top="2").make_sample(fmt, 4096, 0, 0)
    assert "<text>\nRetrieved chunk 1: Early chunk about the wall.\n\nRetrieved chunk 2: Later chunk about the gate.\n</text>" \
        in sample.prompt


def test_rag_from_a_retrieval_file_and_without_one(tmp_path, fmt) -> None:
    bare = [{k: v for k, v in r.items() if k != "retrieved_context"} for r in ROWS]
    write_data(tmp_path, bare)
    with pytest.raises(HarnessError, match=r"data.json question 0 \(_id '66f00000'\) has no field 'retrieved_context'"):
        task(tmp_path, mode="rag").make_sample(fmt, 4096, 0, 0)
    assert task(tmp_path).make_sample(fmt, 4096, 0, 0).prompt  # the other modes do not need it
    retrieval = tmp_path / "retrieved.jsonl"
    retrieval.write_text(json.dumps({"_id": "66f00000", "retrieved_context": [{"c_idx": 1, "content": "From the file."}]}) + "\n")
    sample = task(tmp_path, mode="rag", retrieval=str(retrieval)).make_sample(fmt, 4096, 0, 0)
    assert "<text>\nRetrieved chunk 1: From the file.\n</text>" in sample.prompt
    with pytest.raises(HarnessError, match="has no line for question _id '66f00001'"):
        task(tmp_path, mode="rag", retrieval=str(retrieval)).make_sample(fmt, 4096, 1, 0)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"_id": "66f00000", "retrieved_context": [{"c_idx": "1", "content": "x"}]}) + "\n")
    with pytest.raises(HarnessError, match=r"bad.jsonl:1: field 'retrieved_context'\[0\]: field 'c_idx': expected"):
        task(tmp_path, mode="rag", retrieval=str(bad)).make_sample(fmt, 4096, 0, 0)


def test_bad_options() -> None:
    with pytest.raises(HarnessError, match="bad --task-args mode='zero_shot': expected one of direct, cot, no_context, rag"):
        get_task("longbench_v2", TaskOptions(args={"mode": "zero_shot"}))
    with pytest.raises(HarnessError, match="retrieval=x is read by mode=rag only"):
        get_task("longbench_v2", TaskOptions(args={"retrieval": "x"}))
    with pytest.raises(HarnessError, match="bad --task-args rag_top"):
        get_task("longbench_v2", TaskOptions(args={"mode": "rag", "rag_top": "-1"}))


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ("{not json", r"data.json:1:2: not valid JSON"),
    ("{}", r"data.json: the list of questions: expected an array, got an object"),
    ("[]", "no questions"),
    ("[1]", r"data.json question 0: expected an object"),
    (json.dumps([{k: v for k, v in ROWS[0].items() if k != "choice_C"}]), r"data.json question 0: missing field 'choice_C'"),
    (json.dumps([dict(ROWS[0], length=3)]), r"data.json question 0: field 'length': expected a string, got a number"),
    (json.dumps([ROWS[0], dict(ROWS[1], answer="E")]), r"data.json question 1: field 'answer' is 'E', expected one of A"),
    (json.dumps([dict(ROWS[0], retrieved_context=[{"c_idx": 1}])]),
     r"question 0: field 'retrieved_context'\[0\]: missing field 'content'"),
])
def test_bad_files_name_file_and_field(tmp_path, content, message) -> None:
    (tmp_path / "longbench_v2").mkdir()
    (tmp_path / "longbench_v2" / "data.json").write_text(content)
    with pytest.raises(HarnessError, match=message):
        task(tmp_path).preflight()


def test_missing_file_and_task_arg_path(tmp_path, data) -> None:
    (tmp_path / "longbench_v2").mkdir()
    with pytest.raises(HarnessError, match=r"longbench_v2/data.json does not exist \(expected the published data.json"):
        task(tmp_path).preflight()
    by_file = get_task("longbench_v2", TaskOptions(args={"longbench_v2": str(data / "longbench_v2" / "data.json")}))
    by_dir = get_task("longbench_v2", TaskOptions(args={"longbench_v2": str(data / "longbench_v2")}))
    assert by_file.size() == by_dir.size() == 4  # type: ignore[misc]
    assert by_file.data().record()["source"] == "file"


def test_cot_runs_two_generations_and_scores_the_second(data, tokenizer, tmp_path) -> None:
    def answer(request) -> str:
        return "The correct answer is (B)" if "omitted here" in request.text else "  The wall in the north, so A.\n"

    backend = ScriptedBackend(tokenizer, answer=answer)
    config = EvalConfig(model="scripted", tasks=["longbench_v2"], lengths=[2048], data_dir=str(data), limit=3,
                        task_args={"mode": "cot"})
    _, result = evaluate(config, backend, tmp_path / "out", None)
    answers = [r for r in backend.requests if "omitted here" in r.text]
    assert sorted(r.max_tokens for r in backend.requests) == [128] * 3 + [1024] * 3
    assert len(answers) == 3 and all(r.max_tokens == 128 for r in answers)
    assert "Let\u2019s think step by step: The wall in the north, so A.\n\nBased on the above" in answers[0].text
    lines = [json.loads(line) for line in (tmp_path / "out" / "samples" / "longbench_v2.jsonl").read_text().splitlines()]
    assert [line["score"] for line in sorted(lines, key=lambda record: record["index"])] == [0.0, 100.0, 0.0]
    assert all(line["meta"]["first_output"] == "  The wall in the north, so A.\n" for line in lines)
    report = result.extra["reports"]["longbench_v2"]["2048"]
    assert report["overall"] == {"acc": 33.3, "n": 3} and report["medium"] == {"acc": 100.0, "n": 1}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["direct", "cot", "no_context", "rag"])
def test_eval_through_the_cli(tiny_path, data, tmp_path, capfd, mode) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(["eval", "--model", "tiny-random", "--tasks", "longbench_v2", "--lengths", "2k,4k",
                                    "--limit", "3", "--data-dir", str(data), "--task-args", f"longbench_v2.mode={mode}",
                                    "--output", str(out)], capfd)
    assert code == 0, stderr
    assert "longbench_v2" in stdout
    saved = json.loads((out / "results.json").read_text())
    cells = saved["results"]["longbench_v2"]
    assert set(cells) == {"2048", "4096"} and all(cells[k]["n"] == 3 for k in cells)
    assert set(saved["reports"]["longbench_v2"]["2048"]) >= {"overall", "easy", "hard", "short", "medium", "long"}
    assert saved["config"]["task_info"]["longbench_v2"]["params"]["mode"] == mode
