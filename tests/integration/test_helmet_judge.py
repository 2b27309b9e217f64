"""HELMET's judged summaries through a real vLLM server (started by tests/integration/run.sh): SmolLM2 writes one
Multi-LexSum summary and SmolLM2 judges it with HELMET's three key-point calls, `--judge openai:... --judge-base-url`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
URL = os.environ.get("HARNESS_VLLM_URL")
MODEL_DIR = os.environ.get("HARNESS_VLLM_MODEL_DIR")
if not URL or not MODEL_DIR:
    pytest.skip("needs a vLLM server: run `make test-integration`", allow_module_level=True)


def test_one_multi_lexsum_summary_judged_by_smollm2_through_the_server(tmp_path: Path, monkeypatch) -> None:
    from harness import api
    from tests.tasks.helmet.test_summ import lexsum_dir

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    args = dict(model="openai:smollm2-135m", tasks=["helmet_multi_lexsum"], lengths=[2048], limit=1, base_url=URL,
                tokenizer=MODEL_DIR, data_dir=str(lexsum_dir(tmp_path / "d", n=1)), judge="openai:smollm2-135m",
                judge_base_url=URL, judge_tokenizer=MODEL_DIR, task_args={"judge_max_tokens": 512}, db=str(tmp_path / "runs.db"))
    result = api.evaluate(output=str(tmp_path / "out"), **args)
    cell = result.results["helmet_multi_lexsum"]["2048"]
    assert cell["n"] == 1 and 0.0 <= cell["score"] <= 100.0
    assert result.config["judge"] == "openai:smollm2-135m" and result.config["judge_base_url"] == URL
    line = json.loads((tmp_path / "out" / "samples" / "helmet_multi_lexsum.jsonl").read_text())
    assert line["output"] and set(line["meta"]["judge_verdicts"]) == {"fluency", "recall", "precision"}
    assert all(v["reply"] for v in line["meta"]["judge_verdicts"].values())
    print("judged summary:", json.dumps({"score": cell["score"], "judge_failed": cell["judge_failed"],
                                        "details": line["meta"]["judge_details"],
                                        "readings": {k: v["reading"] for k, v in line["meta"]["judge_verdicts"].items()}}))
    rerun = api.evaluate(output=str(tmp_path / "out-2"), **args)  # the same greedy summary, its verdicts from the judge cache
    assert rerun.results["helmet_multi_lexsum"]["2048"]["score"] == cell["score"]
