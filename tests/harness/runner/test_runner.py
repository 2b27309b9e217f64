import json

import pytest

from harness.core.errors import HarnessError
from harness.runner import EvalConfig, evaluate
from harness.runner.samples_log import SampleLog
from harness.store import Store
from tests.fakes import ScriptedBackend


def _config(**kw) -> EvalConfig:
    base = dict(model="scripted", tasks=["niah_single_1"], lengths=[256, 512], limit=5, seed=1)
    base.update(kw)
    return EvalConfig(**base)


def test_perfect_model_scores_100_and_writes_everything(tokenizer, tmp_path) -> None:
    backend = ScriptedBackend(tokenizer)
    store = Store(tmp_path / "db.sqlite")
    run_id, result = evaluate(_config(), backend, tmp_path / "out", store)
    assert result.results["niah_single_1"]["256"] == {
        "score": 100.0, "stderr": 0.0, "n": 5, "metric": "string_match_all", "higher_is_better": True
    }
    assert result.groups["ruler"]["avg"] == 100.0
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["version"] == 1 and set(data["results"]["niah_single_1"]) == {"256", "512"}
    for key in ("model", "backend", "seed", "tokenizer", "chat_template_hash", "environment", "timings"):
        assert key in data["config"]
    lines = (tmp_path / "out" / "samples" / "niah_single_1.jsonl").read_text().splitlines()
    assert len(lines) == 10
    row = json.loads(lines[0])
    for key in ("id", "length", "prompt_tokens", "targets", "output", "score", "latency_s"):
        assert key in row
    assert store.result(run_id) is not None


def test_rerun_computes_nothing(tokenizer, tmp_path) -> None:
    evaluate(_config(), ScriptedBackend(tokenizer), tmp_path / "out", None)
    again = ScriptedBackend(tokenizer)
    _, result = evaluate(_config(), again, tmp_path / "out", None)
    assert again.requests == []
    assert result.config["timings"]["samples_computed"] == 0
    assert result.results["niah_single_1"]["512"]["n"] == 5


def test_interrupted_run_resumes_with_only_the_missing_samples(tokenizer, tmp_path) -> None:
    with pytest.raises(KeyboardInterrupt):
        evaluate(_config(), ScriptedBackend(tokenizer, fail_after_batches=2, batch=2), tmp_path / "out", None)
    saved = SampleLog(tmp_path / "out" / "samples" / "niah_single_1.jsonl").read()
    assert len(saved) == 4  # two finished batches of two
    resumed = ScriptedBackend(tokenizer, batch=2)
    _, result = evaluate(_config(), resumed, tmp_path / "out", None)
    assert len(resumed.requests) == 6
    ids = [r.id for r in SampleLog(tmp_path / "out" / "samples" / "niah_single_1.jsonl").read()]
    assert len(ids) == len(set(ids)) == 10
    assert result.results["niah_single_1"]["256"]["score"] == 100.0


def test_wrong_answers_and_odd_outputs_are_scored_not_fatal(tokenizer, tmp_path) -> None:
    outputs = iter(["", "\x00\x01 garbage", "9" * 200_000, "\udcff bad surrogate", "nope"] * 4)
    backend = ScriptedBackend(tokenizer, answer=lambda r: next(outputs))
    _, result = evaluate(_config(), backend, tmp_path / "out", None)
    assert result.results["niah_single_1"]["256"]["score"] == 0.0
    assert result.results["niah_single_1"]["256"]["n"] == 5


def test_output_dir_of_another_config_is_refused(tokenizer, tmp_path) -> None:
    evaluate(_config(), ScriptedBackend(tokenizer), tmp_path / "out", None)
    with pytest.raises(HarnessError, match="different seed"):
        evaluate(_config(seed=2), ScriptedBackend(tokenizer), tmp_path / "out", None)


def test_length_above_model_maximum_is_refused(tokenizer, tmp_path) -> None:
    with pytest.raises(HarnessError, match="length 1k is above the maximum context"):
        evaluate(_config(lengths=[1024]), ScriptedBackend(tokenizer, max_len=512), tmp_path / "out", None)
