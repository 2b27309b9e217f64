"""The one real-document flow (rows -> render -> truncate -> sample) on a made-up benchmark."""

from __future__ import annotations

from typing import Any

import pytest

from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.core.types import Prompt
from harness.tasks.base import Counter
from harness.tasks.data import TaskOptions
from harness.tasks.docsource import DocSource
from harness.tasks.realdoc import DocFlow, Rendered
from tests.tasks.test_data_source import COMMIT, FakeHubDataset

ROWS = [{"doc": "The copper lantern sat by the river. " * n, "question": "Where?", "answer": "river"} for n in (2, 400)]


def _source(asked: list[Any]) -> DocSource:
    def hub(name: str, revision: str | None) -> FakeHubDataset:
        asked.append((name, revision))
        return FakeHubDataset(ROWS, name, "test", f"/c/datasets/org___doc/{name}/0.0.0/{COMMIT}/x.arrow")

    return DocSource("DocBench", "docbench", lambda name: f"{name}.jsonl", hub,
                     (("doc", str), ("question", str), ("answer", str)), hub_id="org/doc", revision="v1.0")


def _render(row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    def build(body: str) -> Prompt:
        return f"{body}\nQuestion: {row['question']}\nAnswer:"

    return Rendered(row["doc"], (row["answer"],), {"example_id": index}, build)


def _flow(mode: str = "middle", max_prompt: int | None = None) -> DocFlow:
    source = _source([])
    return DocFlow("docbench_qa", "DocBench qa", lambda: source.load(TaskOptions(), "qa"), _render, 64, mode, max_prompt)


def test_the_hub_is_asked_at_the_pinned_revision() -> None:
    asked: list[Any] = []
    rows = _source(asked).from_hub("qa")
    assert asked == [("qa", "v1.0")] and rows.origin.location == f"org/doc:qa@{COMMIT}" and len(rows.rows) == 2


def test_a_short_row_fits_untouched_and_a_long_one_is_cut_under_the_budget(tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    short = _flow().make_sample(fmt, 512, 0, 42)
    assert short.prompt == f"{ROWS[0]['doc']}\nQuestion: Where?\nAnswer:" and short.targets == ("river",)
    assert short.meta == {"example_id": 0} and short.truncated_from == 0 and short.task == "docbench_qa"
    long = _flow().make_sample(fmt, 512, 1, 42)
    assert long.prompt.endswith("\nQuestion: Where?\nAnswer:") and (long.truncated_from or 0) > 512
    assert fmt.count(long.prompt) <= 512 - 64 and long.max_new_tokens is None and not long.skipped
    capped = _flow(max_prompt=100).make_sample(fmt, 512, 1, 42)
    assert fmt.count(capped.prompt) <= 100


def test_skip_and_a_small_length_are_recorded(tokenizer) -> None:
    fmt = PromptFormat(tokenizer, chat=False)
    skipped = _flow("skip").make_sample(fmt, 512, 1, 42)
    assert skipped.skipped.startswith("prompt has") and skipped.prompt.startswith(ROWS[1]["doc"])
    small = _flow().make_sample(fmt, 100, 0, 42)
    assert small.max_new_tokens == 50  # the generation takes at most half the length


def test_an_index_past_the_rows_names_the_task_and_the_source(tokenizer) -> None:
    with pytest.raises(HarnessError, match=r"DocBench qa: hub:fake has 2 examples, asked for #5"):
        _flow().make_sample(PromptFormat(tokenizer, chat=False), 512, 5, 42)
