"""Several workers on one run (in-process lanes): every sample once, the same results as one worker, and a lost
worker's samples finished by the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import pytest

from harness.core.backends.base import Generation, GenerationRequest
from harness.core.backends.failures import RequestFailure, RequestsFailed, WorkerLost
from harness.core.errors import HarnessError
from harness.runner import EvalConfig, evaluate
from harness.runner.replicas import ReplicaBackend
from tests.fakes import ScriptedBackend

CONFIG = EvalConfig(model="scripted", tasks=["niah_single_1", "niah_multikey_2"], lengths=[256, 512], limit=6, seed=3)


class Lane(ScriptedBackend):
    """A scripted worker that is lost (`WorkerLost`) or whose server goes away (an abort) at its `fail_on`-th call."""

    def __init__(self, tokenizer: Any, fail_on: int | None = None, how: str = "lost", batch: int = 2) -> None:
        super().__init__(tokenizer, batch=batch)
        self.fail_on = fail_on
        self.how = how
        self.calls = 0

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        self.calls += 1
        if self.fail_on is not None and self.calls >= self.fail_on:
            if self.how == "lost":
                raise WorkerLost("model worker 1 (pid 1) is gone (exit code -9)")
            raise RequestsFailed([RequestFailure("connection refused")] * len(requests), "http://x/v1", abort="lost the server at x")
        return super().generate(requests)


def comparable(out: Path) -> dict[str, Any]:
    results = json.loads((out / "results.json").read_text())
    del results["config"]["timings"], results["config"]["date"]
    rows = {p.name: sorted((json.loads(line) for line in p.read_text().splitlines()), key=lambda r: r["id"])
            for p in sorted((out / "samples").glob("*.jsonl"))}
    for lines in rows.values():
        for row in lines:
            del row["latency_s"]
    return {"results": results, "samples": rows}


def _ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for p in (out / "samples").glob("*.jsonl") for line in p.read_text().splitlines()]


def test_two_workers_give_one_workers_results_and_share_the_work(tokenizer, tmp_path: Path) -> None:
    evaluate(CONFIG, ScriptedBackend(tokenizer, batch=2), tmp_path / "one", None)
    lanes = [Lane(tokenizer), Lane(tokenizer)]
    _, result = evaluate(CONFIG, ReplicaBackend(lanes), tmp_path / "two", None)
    assert comparable(tmp_path / "one") == comparable(tmp_path / "two")
    assert all(lane.calls > 0 for lane in lanes)
    workers = result.config["timings"]["workers"]
    assert sum(w["samples"] for w in workers) == 24 and result.config["timings"]["replicas"] == 2


@pytest.mark.parametrize("how", ["lost", "server gone"])
def test_a_lost_workers_samples_go_to_the_others(tokenizer, tmp_path: Path, how: str) -> None:
    evaluate(CONFIG, ScriptedBackend(tokenizer, batch=2), tmp_path / "one", None)
    lanes = [Lane(tokenizer), Lane(tokenizer, fail_on=2, how=how)]
    _, result = evaluate(CONFIG, ReplicaBackend(lanes), tmp_path / "two", None)
    assert comparable(tmp_path / "one") == comparable(tmp_path / "two")  # nothing failed, nothing twice
    ids = _ids(tmp_path / "two")
    assert len(ids) == len(set(ids)) == 24
    lost = [w for w in result.config["timings"]["workers"] if w.get("lost")]
    assert len(lost) == 1 and lost[0]["worker"] == 1


def test_when_every_worker_is_lost_the_run_stops_and_a_rerun_computes_only_the_rest(tokenizer, tmp_path: Path) -> None:
    lanes = [Lane(tokenizer, fail_on=3), Lane(tokenizer, fail_on=2)]
    with pytest.raises(HarnessError, match="all 2 model workers were lost .*rerun the same command to continue"):
        evaluate(CONFIG, ReplicaBackend(lanes), tmp_path / "out", None)
    kept = _ids(tmp_path / "out")
    assert 0 < len(kept) < 24 and len(set(kept)) == len(kept)
    again = [Lane(tokenizer), Lane(tokenizer)]
    _, result = evaluate(CONFIG, ReplicaBackend(again), tmp_path / "out", None)
    assert result.config["timings"]["samples_computed"] == 24 - len(kept)
    assert sum(len(lane.requests) for lane in again) == 24 - len(kept)
    evaluate(CONFIG, ScriptedBackend(tokenizer, batch=2), tmp_path / "one", None)
    assert comparable(tmp_path / "one") == comparable(tmp_path / "out")


def test_the_last_worker_whose_server_goes_records_its_failures_and_stops(tokenizer, tmp_path: Path) -> None:
    lanes = [Lane(tokenizer, fail_on=1, how="server gone"), Lane(tokenizer, fail_on=2, how="server gone")]
    with pytest.raises(HarnessError, match="lost the server at x; the finished samples are kept"):
        evaluate(CONFIG, ReplicaBackend(lanes), tmp_path / "out", None)
    rows = [json.loads(line) for p in (tmp_path / "out" / "samples").glob("*.jsonl") for line in p.read_text().splitlines()]
    assert any(row.get("failed") for row in rows)  # the last worker's batch, recorded as failed, as in a one-worker run
