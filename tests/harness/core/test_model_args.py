import pytest

from harness.core.errors import HarnessError
from harness.core.model_args import check_known, parse_model_args


def test_values_are_typed() -> None:
    args = parse_model_args("dtype=float32,tensor_parallel_size=2,trust_remote_code=true,gpu_memory_utilization=0.9")
    assert args == {"dtype": "float32", "tensor_parallel_size": 2, "trust_remote_code": True, "gpu_memory_utilization": 0.9}


@pytest.mark.parametrize("spec", ["dtype", "=x", "a=1,a=2", "dtype="])
def test_malformed_entries_are_named(spec: str) -> None:
    with pytest.raises(HarnessError, match="--model-args"):
        parse_model_args(spec)


def test_unknown_key_names_backend_and_key() -> None:
    with pytest.raises(HarnessError, match="hf backend does not take 'colour'"):
        check_known("hf", {"colour": 1}, ["dtype"])
