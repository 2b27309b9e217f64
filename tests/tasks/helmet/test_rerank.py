"""HELMET Re-rank (MS MARCO) on small files of the published schema: HELMET's prompt and demos, passages in the
file's order up to the budget (prompt + 200 tokens), qrels and gold ranking of the passages shown, NDCG@10."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from tests.tasks.helmet.fixtures import msmarco_row, write_jsonl, write_msmarco

INSTRUCTION = ("You are provided with a list of documents, each indicated by their ID. Rank each document based on "
               "their relevance to the question in descending order from most relelvant to least relevant texts. "
               "Include all documents in the rankings. Write your answer using the unique IDs, with the following "
               "format:\nRanking: ID3 > ID1 > ID2\n\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_msmarco(tmp_path_factory.mktemp("helmet"))


def test_prompt_demos_and_targets(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    import datasets

    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_msmarco", TaskOptions(data_dir=data))
    assert task.size is not None and task.size() == 6 and task.stop == ("\n",) and task.max_new_tokens == 200
    sample = task.make_sample(fmt, 32768, 0, 42)
    assert sample.prompt.startswith(INSTRUCTION) and sample.prompt.endswith("\n\nQuery: what is query 0")
    assert "[ID: 0] Document (Title: T0): " in sample.prompt and sample.answer_prefix == "\nRanking:"
    assert sample.meta["passages"] == 60 and sample.targets[0].startswith("0 > 6 > 4 > 10 > 2 > 8 > 1 > 3 > ")
    assert sample.meta["qrels"]["0"] == 3 and len(sample.meta["qrels"]) == 60
    # demos: the demo file without the row's qid, HELMET's shuffle by sha256(qid), the first two
    demo_rows = [r for r in _demo_rows(data) if r["qid"] != "q0"]
    seed = abs(int(hashlib.sha256(b"q0").hexdigest(), 16) % 2**31)
    order = datasets.Dataset.from_list([{"i": i} for i in range(len(demo_rows))]).shuffle(seed=seed)["i"][:2]
    first = demo_rows[order[0]]
    assert sample.prompt.startswith(INSTRUCTION + f"[ID: {first['ctxs'][0]['id']}] Document (Title: T0): ")
    assert f"Query: {first['query']}\nRanking: " in sample.prompt


def _demo_rows(data: Path) -> list[dict]:  # type: ignore[type-arg]
    import json

    path = data / "helmet" / "msmarco" / "test_reranking_data_k10_dep3.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("length", [1200, 2000, 3500])
def test_every_length_fits_exactly(data: Path, tokenizer, length: int) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_msmarco", TaskOptions(data_dir=data))
    for index in (0, 3):
        sample = task.make_sample(fmt, length, index, 42)
        tokens = fmt.count(sample.prompt, sample.answer_prefix)
        assert tokens == sample.prompt_tokens and tokens + task.max_new_tokens <= length
        kept = sample.meta["passages"]
        assert 1 <= kept < 60 and len(sample.meta["qrels"]) == kept
        assert sample.targets[0].count(">") == kept - 1


def test_scores_ndcg_against_the_passages_shown(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_msmarco", TaskOptions(data_dir=data))
    sample = task.make_sample(fmt, 2000, 0, 42)
    assert task.score(sample, " " + sample.targets[0]) == pytest.approx(100.0)
    assert task.score(sample, " [ID: 1] > [ID: 3]\n") == 0.0
    assert 0 < task.score(sample, "2 > 0") < 100


def test_untitled_passages_and_bad_rows(tmp_path: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    write_msmarco(tmp_path, titled=False)
    sample = get_task("helmet_msmarco", TaskOptions(data_dir=tmp_path)).make_sample(fmt, 2000, 0, 42)
    assert "[ID: 0] Document: " in sample.prompt and "Title" not in sample.prompt
    import random

    rows = [msmarco_row(random.Random(0), q, 5) for q in range(2)]
    rows[1]["ctxs"][2]["label"] = "high"
    write_jsonl(tmp_path / "b" / "helmet" / "msmarco" / "test_reranking_data_k14_dep3.jsonl", rows)
    demos = tmp_path / "b" / "helmet" / "msmarco" / "test_reranking_data_k10_dep3.jsonl"
    write_jsonl(demos, _demo_rows(tmp_path))  # untitled demos for titled rows: named, not a KeyError
    task = get_task("helmet_msmarco", TaskOptions(data_dir=tmp_path / "b"))
    with pytest.raises(HarnessError, match=r"k10_dep3.jsonl: demo 'q\d': ctxs\[0\]: missing field 'title'"):
        task.make_sample(fmt, 2000, 0, 42)
    write_jsonl(demos, [msmarco_row(random.Random(1), q, 4) for q in range(5)])
    task = get_task("helmet_msmarco", TaskOptions(data_dir=tmp_path / "b"))
    with pytest.raises(HarnessError, match=r"k14_dep3.jsonl:2: ctxs\[2\].label: expected an integer"):
        for index in range(2):
            task.make_sample(fmt, 2000, index, 42)


@pytest.mark.slow
def test_eval_through_the_cli(tiny_path: Path, tmp_path: Path) -> None:  # noqa: ARG001 - builds the tiny model
    """The three families end to end on the tiny model: samples sized within each length, NDCG read from the
    persisted qrels."""
    import json
    import subprocess
    import sys

    from tests.tasks.helmet.fixtures import write_json_kv, write_kilt

    data = write_msmarco(write_kilt(write_json_kv(tmp_path / "d")))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "harness", "eval", "--model", "tiny-random", "--tasks",
                           "helmet_json_kv,helmet_nq,helmet_msmarco", "--data-dir", str(data), "--lengths", "1k,2k",
                           "--limit", "2", "--output", str(out), "--model-args", "max_length=2048"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    assert results["helmet_msmarco"]["1024"]["n"] == 2 and results["helmet_msmarco"]["1024"]["metric"] == "NDCG@10"
    for task, new in (("helmet_json_kv", 100), ("helmet_nq", 20), ("helmet_msmarco", 200)):
        for line in (out / "samples" / f"{task}.jsonl").read_text().splitlines():
            record = json.loads(line)
            assert record["prompt_tokens"] + new <= record["length"]
