"""HELMET RAG on small KILT files of the published schema: HELMET's prompt, demos (its per-question shuffle) and
rows (its seeded question sample, popqa's popularity filter), any length fit exactly (prompt + 20 tokens) with the
gold passage always in, at its published depth."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.helmet import fit
from tests.tasks.helmet.fixtures import kilt_rows, write_jsonl, write_kilt

INSTRUCTION = ("Use the given documents to write a concise and short answer to the question. Write your answer in "
               "the following format:\nAnswer: [answer]\n\n")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kilt(tmp_path_factory.mktemp("helmet"))


def doc(ctx: dict) -> str:  # type: ignore[type-arg]
    return f"Document (Title: {ctx['title']}): {ctx['text']}"


def test_prompt_holds_every_passage_when_they_fit(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_nq", TaskOptions(data_dir=data))
    sample = task.make_sample(fmt, 32768, 2, 42)  # question 0, gold at the end
    row = kilt_rows(4, 60)[sample.meta["row"]]
    context = "\n\n".join(doc(c) for c in row["ctxs"])
    assert sample.prompt.startswith(INSTRUCTION) and sample.prompt.endswith(f"{context}\n\nQuestion: {row['question']}")
    assert sample.answer_prefix == "\nAnswer:" and sample.targets == tuple(row["answers"])
    assert sample.meta["gold_at"] == sample.meta["published_gold_at"] == [59]
    assert task.stop == ("\n",) and task.max_new_tokens == 20 and not task.chat


def test_demos_are_helmets_per_question_shuffle(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    import datasets

    fmt = PromptFormat(tokenizer, chat=False)
    demos = kilt_rows(8, 3, depths=(0.5,), seed=1, start=100)
    for index in (0, 4):
        sample = get_task("helmet_nq", TaskOptions(data_dir=data)).make_sample(fmt, 32768, index, 42)
        question = kilt_rows(4, 60)[sample.meta["row"]]["question"]
        seed = int(hashlib.sha256(question.encode("utf-8")).hexdigest(), 16) % 2**31
        order = datasets.Dataset.from_list([{"i": i} for i in range(len(demos))]).shuffle(seed=seed)["i"][:2]
        text = "\n\n".join("\n\n".join(doc(c) for c in demos[i]["ctxs"]) + f"\n\nQuestion: {demos[i]['question']}\n"
                           f"Answer: {demos[i]['answers'][0]}" for i in order) + "\n\n"
        assert sample.prompt.startswith(INSTRUCTION + text)


def test_rows_are_helmets_question_sample(data: Path) -> None:
    keys = [row["question"] for row in kilt_rows(4, 60)]
    random.seed(42)
    drawn = set(random.sample(sorted(set(keys)), 2))
    assert fit.helmet_subset(keys, 2) == [i for i, k in enumerate(keys) if k in drawn]
    task = get_task("helmet_hotpotqa", TaskOptions(data_dir=data))
    assert task.size is not None and task.size() == 12  # 4 questions x 3 depths, all under HELMET's 100


@pytest.mark.parametrize("length", [900, 1500, 2500, 4000])
def test_every_length_fits_exactly_with_the_gold(data: Path, tokenizer, length: int) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_nq", TaskOptions(data_dir=data))
    rows = kilt_rows(4, 60)
    for index in range(0, 12, 4):
        sample = task.make_sample(fmt, length, index, 42)
        row = rows[sample.meta["row"]]
        tokens = fmt.count(sample.prompt, sample.answer_prefix)
        assert tokens == sample.prompt_tokens and tokens + task.max_new_tokens <= length
        gold = row["ctxs"][sample.meta["published_gold_at"][0]]
        assert doc(gold) in sample.prompt
        shown = sample.meta["passages"]
        depth = sample.meta["published_gold_at"][0] / 59
        assert sample.meta["gold_at"] == [round(depth * (shown - 1))]
        if shown < 60:  # the next distractor would not fit
            others = [c for c in row["ctxs"] if c is not gold]
            more = sample.prompt.replace(doc(others[shown - 2]), doc(others[shown - 2]) + "\n\n" + doc(others[shown - 1]))
            assert fmt.count(more, sample.answer_prefix) + task.max_new_tokens > length


def test_deterministic_and_scored(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_nq", TaskOptions(data_dir=data))
    sample = task.make_sample(fmt, 1500, 1, 42)
    assert sample == task.make_sample(fmt, 1500, 1, 42)
    assert task.score(sample, " The Answer0") == 100.0
    assert task.score(sample, " Answer1") == 0.0


def test_popqa_filters_popularity_and_uses_has_answer(data: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    fmt = PromptFormat(tokenizer, chat=False)
    task = get_task("helmet_popqa", TaskOptions(data_dir=data))
    assert task.size is not None and task.size() == 6  # ids 0 and 2 (s_pop 50); 1 and 3 have s_pop 5000
    rows = kilt_rows(4, 60, popqa=True)
    for index in range(6):
        sample = task.make_sample(fmt, 2000, index, 42)
        row = rows[sample.meta["row"]]
        assert row["s_pop"] == 50 and f"The answer to question {row['id']} is" in sample.prompt
        assert f"Question: What is the answer to question {row['id']}?\nAnswer:" not in sample.prompt  # not its own demo


def test_a_row_without_gold_names_file_and_line(tmp_path: Path, tokenizer) -> None:  # type: ignore[no-untyped-def]
    write_kilt(tmp_path, questions=1, passages=5)
    rows = kilt_rows(1, 5)
    rows[1]["positive_ctxs"] = [{"title": "nowhere", "text": "nothing"}]
    write_jsonl(tmp_path / "helmet" / "kilt" / "nq-dev-multikilt_1000_k1000_dep6.jsonl", rows)
    task = get_task("helmet_nq", TaskOptions(data_dir=tmp_path))
    with pytest.raises(HarnessError, match=r"nq-dev-multikilt_1000_k1000_dep6.jsonl:2: no gold passage"):
        task.make_sample(PromptFormat(tokenizer, chat=False), 4000, 1, 42)
    rows[1]["ctxs"][0] = {"title": "t"}
    write_jsonl(tmp_path / "x" / "helmet" / "kilt" / "nq-dev-multikilt_1000_k20_dep6.jsonl", rows)
    (tmp_path / "x" / "helmet" / "kilt" / "nq-train-multikilt_1000_k3_dep6.jsonl").write_bytes(
        (tmp_path / "helmet" / "kilt" / "nq-train-multikilt_1000_k3_dep6.jsonl").read_bytes())
    smaller = get_task("helmet_nq", TaskOptions(data_dir=tmp_path / "x"))  # only a smaller file: that one is read
    with pytest.raises(HarnessError, match=r"k20_dep6.jsonl:2: ctxs\[0\]: missing field 'text'"):
        smaller.make_sample(PromptFormat(tokenizer, chat=False), 4000, 1, 42)
