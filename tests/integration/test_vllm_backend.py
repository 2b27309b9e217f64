"""The offline vllm backend (vllm.LLM in-process), run inside .venv-vllm by tests/integration/run.sh."""

import math
import os

import pytest

from harness.core.backends.base import LoglikelihoodRequest
from harness.runner import EvalConfig, evaluate

pytestmark = pytest.mark.integration
MODEL_DIR = os.environ.get("HARNESS_VLLM_MODEL_DIR")
vllm = pytest.importorskip("vllm", reason="needs vLLM (.venv-vllm, via `make test-integration`)")
if not MODEL_DIR:
    pytest.skip("set HARNESS_VLLM_MODEL_DIR (done by `make test-integration`)", allow_module_level=True)


def test_vllm_backend_eval_and_loglikelihood(tmp_path) -> None:
    from harness.core.backends.hf import HFBackend
    from harness.core.backends.vllm import VLLMBackend

    backend = VLLMBackend(MODEL_DIR, dtype="float32", max_model_len=4096)
    assert backend.max_length == 4096
    config = EvalConfig(model=f"vllm:{MODEL_DIR}", tasks=["niah_single_1"], lengths=[1024, 2048], limit=3)
    _, result = evaluate(config, backend, tmp_path / "out", None)
    assert result.results["niah_single_1"]["1024"]["n"] == 3
    assert result.results["niah_single_1"]["1024"]["score"] > 0

    requests = [LoglikelihoodRequest("The capital of France is", " Paris")]
    served = backend.loglikelihood(requests)[0]
    local = HFBackend(MODEL_DIR, dtype="float32").loglikelihood(requests)[0]
    assert math.isclose(served.logprob, local.logprob, abs_tol=1e-3)
    backend.close()


def test_two_vllm_engines_share_a_run(tmp_path) -> None:
    """`--replicas 2`: two vLLM engines in their own processes, one CPU core each (VLLM_CPU_OMP_THREADS_BIND), give
    the samples one engine gives."""
    from harness.api import evaluate as harness_eval

    common = dict(tasks="niah_single_1,vt", lengths="1k,2k", limit=4, batch_size=4,  # units of 8: both engines busy
                  model_args={"dtype": "float32", "max_model_len": 4096}, db=tmp_path / "db.sqlite")
    one = harness_eval(f"vllm:{MODEL_DIR}", output=tmp_path / "one", **common)
    two = harness_eval(f"vllm:{MODEL_DIR}", output=tmp_path / "two", replicas=2, **common)
    assert two.results == one.results
    workers = two.config["timings"]["workers"]
    assert len(workers) == 2 and all(w["samples"] > 0 for w in workers)
    for name in ("niah_single_1", "vt"):
        lines = [sorted(_outputs(tmp_path / run / "samples" / f"{name}.jsonl")) for run in ("one", "two")]
        assert lines[0] == lines[1]


def _outputs(path) -> list[tuple[str, str, float]]:
    import json

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [(r["id"], r["output"], r["score"]) for r in rows]
