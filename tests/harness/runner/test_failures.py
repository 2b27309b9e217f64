"""Failed requests in a run: recorded per sample with the reason, counted per cell and left out of the
scores, the run goes on, and a rerun computes only the failed samples. Over every kind of request the
runner sends (generation, multiple choice by loglikelihood, a judge's call), with a fake backend; and
end to end through the openai backend against a scripted faulty server on loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import pytest

from harness.core.backends.base import Generation, GenerationRequest, Loglikelihood, LoglikelihoodRequest
from harness.core.backends.failures import RequestFailure, RequestsFailed
from harness.core.backends.openai import OpenAIBackend
from harness.core.errors import HarnessError
from harness.core.types import ScoredSample
from harness.judge import Judge
from harness.report import result_table
from harness.results import Result, failed_samples, sample_rows
from harness.runner import EvalConfig, evaluate, latest_records
from harness.runner.samples_log import SampleLog
from tests.fakes import ScriptedBackend
from tests.harness.core.backends.faulty_server import FaultyServer
from tests.tasks.mmlu.test_mmlu import write_csv_layout


class FlakyBackend(ScriptedBackend):
    """A scripted backend whose requests fail (after "retries") where `fails(text)` gives a reason;
    `abort` is handed out with the first batch that has a failure."""

    def __init__(self, tokenizer, fails: Callable[[str], str | None], abort: str | None = None, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(tokenizer, **kw)
        self.fails = fails
        self.abort = abort

    def _settle(self, texts: list[str], answers: list) -> list:  # type: ignore[type-arg]
        results = [RequestFailure(reason) if (reason := self.fails(t)) else a for t, a in zip(texts, answers)]
        if any(isinstance(r, RequestFailure) for r in results):
            raise RequestsFailed(results, "flaky", self.abort)
        return answers

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self._settle([r.text for r in requests], super().generate(requests))

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        return self._settle([r.context + r.continuation for r in requests], super().loglikelihood(requests))


def _lines(out: Path, task: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (out / "samples" / f"{task}.jsonl").read_text().splitlines()]


NIAH = dict(model="flaky", tasks=["niah_single_1"], lengths=[256, 512], limit=4, seed=3)


def test_generation_failures_are_recorded_counted_and_rerun_alone(tokenizer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = FlakyBackend(tokenizer, fails=lambda text: "HTTP 500" if len(text) < 1200 else None, batch=3)
    _, result = evaluate(EvalConfig(**NIAH), first, out, None)
    short, long = result.results["niah_single_1"]["256"], result.results["niah_single_1"]["512"]
    assert short["n"] == 0 and short["failed"] == 4 and short["score"] is None and short["stderr"] is None
    assert long == {"score": 100.0, "stderr": 0.0, "n": 4, "metric": "string_match_all", "higher_is_better": True}
    assert failed_samples(result) == 4
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["results"]["niah_single_1"]["256"]["failed"] == 4 and "failed" not in on_disk["results"]["niah_single_1"]["512"]
    failed = [row for row in _lines(out, "niah_single_1") if row.get("failed")]
    assert len(failed) == 4 and {row["error"] for row in failed} == {"HTTP 500"} and {row["output"] for row in failed} == {""}
    assert "niah_single_1: 256 4/4 failed (left out of the score)" in result_table(result)
    assert list(sample_rows(out / "results.json")) == [row for row in _lines(out, "niah_single_1") if not row.get("failed")]

    again = ScriptedBackend(tokenizer)
    _, result = evaluate(EvalConfig(**NIAH), again, out, None)
    assert len(again.requests) == 4 and all(len(r.text) < 1200 for r in again.requests)  # only the failed ones
    assert result.config["timings"]["samples_computed"] == 4 and result.config["timings"]["samples_reused"] == 4
    assert result.results["niah_single_1"]["256"] == {**long, "score": 100.0}
    assert failed_samples(result) == 0 and "failed" not in result_table(result)
    assert len(_lines(out, "niah_single_1")) == 12  # 8 first, 4 retries appended; each retry supersedes its failure

    third = ScriptedBackend(tokenizer)
    evaluate(EvalConfig(**NIAH), third, out, None)
    assert third.requests == []


def test_multiple_choice_fails_per_question(tokenizer, tmp_path: Path) -> None:
    root = write_csv_layout(tmp_path, {"anatomy": 4})
    config = EvalConfig(model="flaky", tasks=["mmlu_anatomy"], lengths=[4096], data_dir=str(root))
    # one of a question's four choices failing fails that question
    backend = FlakyBackend(tokenizer, fails=lambda text: "malformed JSON reply" if "question 1?" in text.rsplit("\n\n", 1)[-1]
                           and text.endswith(" C") else None, batch=8)
    _, result = evaluate(config, backend, tmp_path / "out", None)
    cell = result.results["mmlu_anatomy"]["0"]
    assert cell["n"] == 3 and cell["failed"] == 1
    assert result.groups["mmlu"]["lengths"]["0"]["n"] == 3
    retry = ScriptedBackend(tokenizer)
    _, result = evaluate(config, retry, tmp_path / "out", None)
    assert len(retry.loglikelihood_requests) == 4 and result.results["mmlu_anatomy"]["0"]["n"] == 4


def test_a_failed_judge_call_fails_the_sample_and_is_not_cached(tokenizer, shared_data, tmp_path: Path) -> None:
    config = EvalConfig(model="scripted", tasks=["niah"], lengths=[1024], data_dir=str(shared_data), task_args={"depths": [0, 50]})
    model = ScriptedBackend(tokenizer, answer=lambda r: "Eat a sandwich.")
    judge = Judge(FlakyBackend(tokenizer, fails=lambda text: "HTTP 503", answer=lambda r: "[[7]]"), "judge", tmp_path / "judge.db")
    _, result = evaluate(config, model, tmp_path / "out", None, judge)
    assert result.results["niah"]["1024"]["failed"] == 2 and judge.failed == 1  # one distinct prompt, asked once
    assert {row["error"] for row in _lines(tmp_path / "out", "niah")} == {"judge: HTTP 503"}
    healthy = Judge(ScriptedBackend(tokenizer, answer=lambda r: "[[7]]"), "judge", tmp_path / "judge.db")
    _, result = evaluate(config, ScriptedBackend(tokenizer, answer=lambda r: "Eat a sandwich."), tmp_path / "out", None, healthy)
    assert healthy.calls == 1 and healthy.hits == 1  # the failure was not cached: asked again
    assert result.results["niah"]["1024"]["score"] == 70.0 and "failed" not in result.results["niah"]["1024"]


def test_a_backend_that_loses_its_server_stops_the_run_after_writing_the_batch(tokenizer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    calls = {"n": 0}

    def fails(text: str) -> str | None:
        calls["n"] += 1
        return "connection refused" if calls["n"] > 2 else None

    backend = FlakyBackend(tokenizer, fails=fails, abort="lost the OpenAI-compatible server at URL", batch=2)
    with pytest.raises(HarnessError, match=r"^lost the OpenAI-compatible server at URL; the finished samples are kept in .*rerun"):
        evaluate(EvalConfig(**NIAH), backend, out, None)
    rows = _lines(out, "niah_single_1")
    assert len(rows) == 4 and sum(bool(r.get("failed")) for r in rows) == 2  # the batch in hand was written, then the stop
    resumed = ScriptedBackend(tokenizer)
    _, result = evaluate(EvalConfig(**NIAH), resumed, out, None)
    assert len(resumed.requests) == 6 and failed_samples(result) == 0


def test_a_normal_sample_line_is_unchanged_and_a_failed_one_round_trips() -> None:
    base = dict(id="a", task="t", length=1, index=0, prompt_tokens=3, targets=("x",), output="x", score=1.0, latency_s=0.1)
    normal = ScoredSample(**base)  # type: ignore[arg-type]
    assert normal.to_json() == ('{"id": "a", "index": 0, "latency_s": 0.1, "length": 1, "meta": {}, "output": "x", '
                                '"prompt_tokens": 3, "score": 1.0, "targets": ["x"], "task": "t", "version": 1}')
    failed = ScoredSample(**{**base, "output": "", "score": 0.0}, error="HTTP 500")  # type: ignore[arg-type]
    data = json.loads(failed.to_json())
    assert data["failed"] is True and data["error"] == "HTTP 500"
    assert ScoredSample.from_dict(data) == failed and ScoredSample.from_dict(json.loads(normal.to_json())) == normal
    retried = ScoredSample(**base)  # type: ignore[arg-type]
    assert latest_records([failed, retried]) == [retried] and latest_records([retried, failed]) == [retried]
    assert latest_records([failed]) == [failed]


def test_an_old_results_file_without_failures_reads_as_none() -> None:
    assert failed_samples(Result({"t": {"1": {"score": 1.0, "n": 2}}}, {}, {})) == 0


# -- end to end: the openai backend against a server that fails ------------------------------------


def _served(server: FaultyServer, tiny_path: Path, **args) -> OpenAIBackend:  # type: ignore[no-untyped-def]
    return OpenAIBackend("x", base_url=server.url, tokenizer=str(tiny_path), retry_base_s=0.001, **args)


def test_through_the_server_failures_then_a_rerun_of_only_those(tiny_path: Path, tmp_path: Path) -> None:
    config = EvalConfig(model="openai:x", tasks=["niah_single_1"], lengths=[256, 512], limit=3, seed=5)
    out = tmp_path / "out"
    with FaultyServer() as server:
        server.default = "500"  # always failing: every sample recorded as failed, the run completes
        _, result = evaluate(config, _served(server, tiny_path, max_retries=2), out, None)
        assert [result.results["niah_single_1"][k]["failed"] for k in ("256", "512")] == [3, 3]
        assert len(server.posts) == 18  # 6 samples x (1 + 2 retries)
        assert {r.error for r in SampleLog(out / "samples" / "niah_single_1.jsonl").read()} == {"HTTP 500"}

        server.posts.clear()
        server.default = "ok"
        server.script = ["malformed", "empty_choices", "500", "close"]  # flaky, then healthy: retried to success
        _, result = evaluate(config, _served(server, tiny_path, max_retries=4, concurrency=1), out, None)
        assert len(server.posts) == 10  # the 6 failed samples, 4 of them after one fault each
        assert result.results["niah_single_1"]["256"]["score"] == 100.0 and failed_samples(result) == 0
