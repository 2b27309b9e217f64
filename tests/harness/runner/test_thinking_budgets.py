"""Reasoning models: `--max-think-tokens T` and `--max-new-tokens N`. The generation budget is T + the answer's, the
prompt at length L shrinks by both (prompt + T + answer <= L), think blocks are stripped before scoring, and each
cell counts the generations that hit their limit and the think blocks left open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pytest

from harness.core.backends.base import Generation, GenerationRequest
from harness.core.errors import HarnessError
from harness.core.prompt import PromptFormat
from harness.core.thinking import Budget
from harness.core.types import Sample
from harness.runner import EvalConfig, evaluate
from harness.runner.prepare import eval_config
from harness.runner.sample_cache import cache_key
from harness.tasks import get_task
from harness.tasks.base import Metric, Task
from harness.tasks.data import TaskOptions
from tests.fakes import ScriptedBackend, echo_needle

LENGTHS = [512, 1024, 2048]


class Reasoner(ScriptedBackend):
    """Thinks, then answers from the needle; for the needles in `endless` it thinks until its limit (never closing)."""

    def __init__(self, tokenizer: object, endless: set[str]) -> None:
        super().__init__(tokenizer)
        self.endless = endless

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.requests += requests
        out = []
        for request in requests:
            answer = echo_needle(request)
            if answer.strip(" .") in self.endless:
                out.append(Generation("<think>still thinking about", request.max_tokens, hit_limit=True))
            else:
                out.append(Generation(f"<think>The needle is near the end.</think>\n\n{answer}", 12))
        return out


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))


def _config(**kw: object) -> EvalConfig:
    return EvalConfig(**{"model": "scripted", "tasks": ["niah_single_1"], "lengths": LENGTHS, "limit": 3, "seed": 1, **kw})


def _rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "samples" / "niah_single_1.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("think, answer", [(64, None), (200, 32), (0, 16)])
def test_prompt_plus_thinking_plus_answer_fit_each_length(tokenizer, tmp_path: Path, isolated_cache: None,
                                                          think: int, answer: int | None) -> None:
    backend = ScriptedBackend(tokenizer)
    evaluate(_config(max_think_tokens=think, max_new_tokens=answer), backend, tmp_path / "out", None)
    generation = think + (answer if answer is not None else 128)  # niah_single_1's own answer budget: 128
    assert {r.max_tokens for r in backend.requests} == {generation}
    rows = _rows(tmp_path / "out")
    assert {r["length"] for r in rows} == set(LENGTHS)
    for row in rows:
        room = row["length"] - generation
        assert room - 40 <= row["prompt_tokens"] <= room  # fits exactly: close under the prompt budget
    plain = ScriptedBackend(tokenizer)
    evaluate(_config(), plain, tmp_path / "plain", None)
    plain_tokens = {(r["length"], r["index"]): r["prompt_tokens"] for r in _rows(tmp_path / "plain")}
    # a bigger generation budget than the task's own 128 shrinks every prompt; a smaller one lets them grow
    assert all((row["prompt_tokens"] < plain_tokens[(row["length"], row["index"])]) == (generation > 128) for row in rows)


def test_thinking_is_stripped_and_limits_are_counted_per_cell(tokenizer, tmp_path: Path, isolated_cache: None) -> None:
    endless = {_sample0(tokenizer, length).targets[0] for length in (512, 1024)}  # sample 0 of each length
    backend = Reasoner(tokenizer, endless)
    _, result = evaluate(_config(max_think_tokens=64, lengths=[512, 1024]), backend, tmp_path / "out", None)
    for length in ("512", "1024"):
        cell = result.results["niah_single_1"][length]
        assert cell["hit_limit"] == 1 and cell["think_truncated"] == 1
        assert cell["n"] == 3 and cell["score"] == pytest.approx(200 / 3, abs=0.01)
    rows = _rows(tmp_path / "out")
    for row in rows:
        if row["index"] == 0:
            assert row["meta"]["answer"] == "" and row["meta"]["think_truncated"] and row["meta"]["hit_limit"]
            assert row["output"].startswith("<think>still")  # the raw output stays in the log
        else:
            assert row["output"].startswith("<think>") and row["meta"]["answer"] == row["output"].split("\n\n", 1)[1].lstrip()
            assert row["score"] == 100.0 and not row["meta"]["think_truncated"] and not row["meta"]["hit_limit"]
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["results"]["niah_single_1"]["512"]["think_truncated"] == 1
    assert saved["config"]["max_think_tokens"] == 64 and saved["config"]["think_markers"] == ["<think>", "</think>"]
    from harness.report import result_table

    assert "niah_single_1: 512 1/3 hit the token limit, 1 think block(s) left open" in result_table(result)


def _sample0(tokenizer: object, length: int) -> Sample:
    task = get_task("niah_single_1").with_budget(Budget(think=64))
    return task.samples(PromptFormat.create(tokenizer, "auto"), length, 1, 1)[0]


def test_without_a_thinking_budget_outputs_are_scored_as_they_are(tokenizer, tmp_path: Path, isolated_cache: None) -> None:
    backend = ScriptedBackend(tokenizer, answer=lambda r: f"<think>x</think>{echo_needle(r)}")
    _, result = evaluate(_config(lengths=[512]), backend, tmp_path / "out", None)
    cell = result.results["niah_single_1"]["512"]
    assert "hit_limit" not in cell and "think_truncated" not in cell and cell["score"] == 100.0  # the needle is in it
    assert all("answer" not in row["meta"] for row in _rows(tmp_path / "out"))
    assert "max_think_tokens" not in result.config  # older runs' fingerprints stay valid


def test_budgets_enter_the_fingerprint_and_the_sample_cache_key(tokenizer, tmp_path: Path, isolated_cache: None) -> None:
    evaluate(_config(max_think_tokens=64, lengths=[512]), ScriptedBackend(tokenizer), tmp_path / "out", None)
    with pytest.raises(HarnessError, match="different max_think_tokens"):
        evaluate(_config(max_think_tokens=32, lengths=[512]), ScriptedBackend(tokenizer), tmp_path / "out", None)
    again = ScriptedBackend(tokenizer)
    evaluate(_config(max_think_tokens=64, lengths=[512]), again, tmp_path / "out", None)
    assert again.requests == []  # a rerun computes nothing finished
    fmt = PromptFormat.create(tokenizer, "auto")
    task = get_task("niah_single_1")
    keys = {cache_key(task.with_budget(b), TaskOptions(), fmt, 512, 1) for b in (Budget(), Budget(think=64), Budget(32, 64))}
    assert len(keys) == 3
    assert cache_key(task.with_budget(Budget()), TaskOptions(), fmt, 512, 1) == cache_key(task, TaskOptions(), fmt, 512, 1)


def test_a_budget_that_leaves_no_prompt_is_refused(tokenizer, tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="--max-think-tokens 512 \\+ the answer budget of 128 tokens leave no room .* 512"):
        evaluate(_config(max_think_tokens=512, lengths=[512]), ScriptedBackend(tokenizer), tmp_path / "out", None)
    for field, value in (("max_think_tokens", -1), ("max_new_tokens", 0), ("think_markers", "<think>")):
        with pytest.raises(HarnessError, match=field.replace("_", "-")):
            eval_config({"model": "m", "tasks": "niah_single_1", "lengths": "1k", field: value})


def test_real_document_answers_take_half_of_what_thinking_leaves() -> None:
    task = Task("doc", lambda c, length, i, s: Sample("x", "doc", length, i, "p"), Metric("m", lambda o, t: 0.0),
                max_new_tokens=1000, halve_generation=True).with_budget(Budget(think=64))
    assert task.answer_budget(1024) == 480 and task.generation_budget(1024) == 544 and task.prompt_budget(1024) == 480
    assert task.max_new_tokens_for(Sample("x", "doc", 1024, 0, "p")) == 544
    assert task.with_budget(Budget(answer=100, think=64)).prompt_budget(1024) == 1024 - 164


def test_show_regenerates_a_prompt_under_the_runs_budget(tokenizer, tmp_path: Path, isolated_cache: None) -> None:
    import shutil

    from harness.sample_prompt import sample_prompt

    _, result = evaluate(_config(max_think_tokens=64, lengths=[512]), ScriptedBackend(tokenizer), tmp_path / "out", None)
    shutil.rmtree(tmp_path / "cache" / "samples")  # the cache entry is gone: `harness show` makes the sample again
    row = _rows(tmp_path / "out")[0]
    found = sample_prompt(tmp_path / "out", {**result.config, "tokenizer": tokenizer.name_or_path}, row["id"])
    assert found.source == "regenerated"
    fmt = PromptFormat.create(tokenizer, "auto")
    assert fmt.count(found.sample.prompt, found.sample.answer_prefix) == row["prompt_tokens"]
