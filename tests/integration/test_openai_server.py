"""The openai backend against a real vLLM server (started by tests/integration/run.sh)."""

import math
import os

import pytest

from harness.core.backends.base import GenerationRequest, LoglikelihoodRequest
from harness.core.errors import HarnessError
from harness.runner import EvalConfig, evaluate

pytestmark = pytest.mark.integration
URL = os.environ.get("HARNESS_VLLM_URL")
MODEL_DIR = os.environ.get("HARNESS_VLLM_MODEL_DIR")
if not URL or not MODEL_DIR:
    pytest.skip("needs a vLLM server: run `make test-integration`", allow_module_level=True)


def _backend(**args):  # type: ignore[no-untyped-def]
    from harness.core.backends.openai import OpenAIBackend

    return OpenAIBackend("smollm2-135m", base_url=URL, tokenizer=MODEL_DIR, **args)


@pytest.mark.parametrize("mode", ["chat", "completions"])
def test_eval_niah_through_the_server(mode: str, tmp_path) -> None:
    backend = _backend(mode=mode)
    assert backend.max_length == 8192  # read from the server's /v1/models
    config = EvalConfig(model="openai:smollm2-135m", tasks=["niah_single_1"], lengths=[1024], limit=3)
    _, result = evaluate(config, backend, tmp_path / mode, None)
    cell = result.results["niah_single_1"]["1024"]
    assert cell["n"] == 3
    assert cell["score"] > 0  # SmolLM2-135M-Instruct finds the needle at 1k


def test_concurrent_requests_keep_their_order() -> None:
    backend = _backend(mode="completions", concurrency=4)
    requests = [GenerationRequest(text=f"Count: {i}, {i + 1}, {i + 2},", max_tokens=4) for i in range(8)]
    together = backend.generate(requests)
    alone = [backend.generate([r])[0] for r in requests]
    assert [g.text for g in together] == [g.text for g in alone]


def test_loglikelihood_from_echoed_logprobs_matches_hf() -> None:
    from harness.core.backends.hf import HFBackend

    requests = [
        LoglikelihoodRequest("The capital of France is", " Paris"),
        LoglikelihoodRequest("The capital of France is", " Berlin"),
    ]
    served = _backend(mode="completions").loglikelihood(requests)
    local = HFBackend(MODEL_DIR, dtype="float32").loglikelihood(requests)
    for s, h in zip(served, local, strict=True):
        assert math.isclose(s.logprob, h.logprob, abs_tol=1e-3)
        assert s.is_greedy == h.is_greedy
    assert served[0].logprob > served[1].logprob


def test_unknown_model_name_lists_what_is_served() -> None:
    from harness.core.backends.openai import OpenAIBackend

    with pytest.raises(HarnessError, match="does not serve 'nope'; it serves smollm2-135m"):
        OpenAIBackend("nope", base_url=URL, tokenizer=MODEL_DIR)


def test_longbench_chat_with_smollm2_as_model_and_judge_through_the_server(tmp_path) -> None:
    """LongBench-Chat end to end: SmolLM2 answers through the server, SmolLM2 judges through it too."""
    import json
    from pathlib import Path

    from harness.judge import Judge

    shared = Path(os.environ.get("HARNESS_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    if not (shared / "longbench_chat" / "prompt_fs.txt").exists():
        pytest.skip(f"the shared data folder is absent ({shared})")
    essay = sorted((shared / "pg_essays").glob("*.txt"))[0].read_text()[:4000]
    cases = [{"idx": 1, "query": "What is the essay about?", "prompt": f"{essay}\n\nWhat is the essay about?",
              "answer": "It is an essay by Paul Graham."}]
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    backend = _backend(mode="chat")
    judge = Judge(backend, "openai:smollm2-135m", cache_path=tmp_path / "judge.db")
    config = EvalConfig(model="openai:smollm2-135m", tasks=["longbench_chat"], lengths=[4096], data_dir=str(shared),
                        task_args={"longbench_chat": str(tmp_path / "cases.json")})
    _, result = evaluate(config, backend, tmp_path / "out", None, judge)
    report = result.extra["reports"]["longbench_chat"]["4096"]
    assert report["cases"] == 1 and 1 <= judge.calls <= 5  # a readable rating, or up to 5 asks
    assert result.config["judge"] == "openai:smollm2-135m"


def test_hierarchical_synthesis_through_the_server_then_a_rerun_asks_nothing(tmp_path) -> None:
    """A synthesis plugin with the served SmolLM2 as generator: summaries and questions come back over
    HTTP (concurrently), the rerun is served from the cache."""
    from pathlib import Path

    from harness.synth.corpus import load_corpus
    from harness.synth.hierarchical.plugin import Hierarchical
    from harness.synth.llm import Generator
    from harness.synth.plugin import load_config
    from harness.synth.run import run_plugin

    shared = Path(os.environ.get("HARNESS_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    if not (shared / "pg_essays").is_dir():
        pytest.skip(f"the shared data folder is absent ({shared})")
    corpus = load_corpus([{"builtin": "pg_essays", "path": str(shared / "pg_essays"), "limit": 2}])
    config = load_config(Hierarchical.Config, {"small_chunk_tokens": 400, "hierarchical_questions": 2, "diverse_questions": 1,
                                               "revisit_questions": 1, "target_tokens": 8000, "records": 1, "max_tokens": 120,
                                               "summary_max_tokens": 80, "tries": 2}, "test")
    stats = []
    for _ in range(2):
        generator = Generator(_backend(mode="chat"), "openai:smollm2-135m", tmp_path / "llm_cache.sqlite")
        stats.append(run_plugin(Hierarchical(), config, generator, corpus, tmp_path / "out", seed=0))
    first, again = stats
    assert first["llm_calls"] > 5 and first["plugin"]["documents"] >= 1
    assert again["llm_calls"] == 0 and again["llm_cache_hits"] == first["llm_calls"] + first["llm_cache_hits"]
    assert again["records"] == first["records"]
