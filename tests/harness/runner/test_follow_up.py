"""`Task.follow_up`: a second generation from the first output (LongBench v2's chain of thought, then the answer).
The second prompts of a batch go out together, the second output is scored, the first stays in the sample's meta,
and a rerun computes nothing finished."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import harness.runner
from harness.core.backends.base import GenerationRequest
from harness.core.types import Prompt, Sample
from harness.runner import EvalConfig, evaluate
from harness.runner.samples_log import SampleLog
from harness.tasks import get_task
from tests.fakes import ScriptedBackend, echo_needle

COT = "Let me think step by step."


def _second_prompt(sample: Sample, first: str) -> tuple[Prompt, int] | None:
    """The toy follow-up: ask again with the first answer shown (odd samples need no second turn)."""
    if sample.index % 2:
        return None
    text = sample.prompt if isinstance(sample.prompt, str) else sample.prompt[-1]["content"]
    return f"{text}\nYour reasoning: {first}\nNow the final answer only.", 7


def _answer(request: GenerationRequest) -> str:
    """The first turn reasons (a wrong answer), the second answers from the needle."""
    return echo_needle(request) if "Now the final answer only." in request.text else COT


@pytest.fixture
def toy_task(monkeypatch: pytest.MonkeyPatch) -> None:
    real = get_task

    def with_follow_up(name: str, options: Any = None) -> Any:
        return replace(real(name, options), follow_up=_second_prompt)

    monkeypatch.setattr(harness.runner, "get_task", with_follow_up)


def _config() -> EvalConfig:
    return EvalConfig(model="scripted", tasks=["niah_single_1"], lengths=[256, 512], limit=4, seed=1)


def test_the_second_output_is_scored_and_the_first_kept(tokenizer, tmp_path: Path, toy_task: None) -> None:
    backend = ScriptedBackend(tokenizer, answer=_answer, batch=4)
    _, result = evaluate(_config(), backend, tmp_path / "out", None)
    rows = [json.loads(line) for line in (tmp_path / "out" / "samples" / "niah_single_1.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    for row in rows:
        if row["index"] % 2 == 0:  # two generations: the second scored, the first in meta
            assert row["score"] == 100.0 and row["output"].strip().endswith(".")
            assert row["meta"]["first_output"] == COT
            assert row["meta"]["follow_up_prompt_tokens"] > row["prompt_tokens"]
        else:  # no follow-up: the first (reasoning) output is scored
            assert row["score"] == 0.0 and row["output"] == COT and "first_output" not in row["meta"]
    firsts = [r for r in backend.requests if "Now the final answer only." not in r.text]
    seconds = [r for r in backend.requests if "Now the final answer only." in r.text]
    assert len(firsts) == 8 and len(seconds) == 4
    assert {r.max_tokens for r in seconds} == {7}
    assert all(f"Your reasoning: {COT}" in r.text for r in seconds)
    assert backend.batches == 4  # two batches of 4, each with one batched round of follow-ups
    assert result.results["niah_single_1"]["256"]["score"] == 50.0


def test_a_rerun_computes_nothing(tokenizer, tmp_path: Path, toy_task: None) -> None:
    evaluate(_config(), ScriptedBackend(tokenizer, answer=_answer, batch=4), tmp_path / "out", None)
    again = ScriptedBackend(tokenizer, answer=_answer, batch=4)
    _, result = evaluate(_config(), again, tmp_path / "out", None)
    assert again.requests == [] and result.config["timings"]["samples_computed"] == 0
    assert result.results["niah_single_1"]["512"]["score"] == 50.0


def test_a_follow_up_over_the_length_fails_its_sample(tokenizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = get_task
    monkeypatch.setattr(harness.runner, "get_task",
                        lambda name, options=None: replace(real(name, options), follow_up=lambda s, first: ("x", 10_000)))
    _, result = evaluate(_config(), ScriptedBackend(tokenizer, answer=_answer, batch=4), tmp_path / "out", None)
    assert result.results["niah_single_1"]["256"]["failed"] == 4
    records = SampleLog(tmp_path / "out" / "samples" / "niah_single_1.jsonl").read()
    assert all(r.error and "over the length" in r.error for r in records)
