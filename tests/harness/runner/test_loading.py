"""The model loading behind the samples (harness.runner.loading)."""

from __future__ import annotations

import threading

import pytest

from harness.core.errors import HarnessError
from harness.runner.loading import LoadingBackend
from tests.fakes import ScriptedBackend


def test_the_tokenizer_is_there_at_once_and_the_model_when_first_used() -> None:
    release = threading.Event()
    loaded = ScriptedBackend(tokenizer=None)

    def load() -> ScriptedBackend:
        release.wait(10)
        return loaded

    backend = LoadingBackend(load, tokenizer="the tokenizer")
    assert backend.tokenizer == "the tokenizer"  # no wait: the load is still held back
    release.set()
    assert backend.ready() is loaded
    assert backend.name == loaded.name and backend.max_length == loaded.max_length
    backend.close()


def test_a_load_error_is_raised_where_the_model_is_first_used() -> None:
    def load() -> ScriptedBackend:
        raise HarnessError("model path 'nowhere' does not exist")

    backend = LoadingBackend(load, tokenizer=None)
    with pytest.raises(HarnessError, match="nowhere"):
        _ = backend.max_length
    backend.close()  # nothing loaded: nothing to close


def test_an_hf_eval_builds_its_samples_while_the_model_loads(tmp_path, tiny_path) -> None:
    from harness.runner import EvalConfig
    from harness.runner.prepare import prepare, run

    config = EvalConfig(model=str(tiny_path), tasks=["niah_single_1"], lengths=[256], limit=2)
    prepared = prepare(config, tmp_path / "out", tmp_path / "db.sqlite")
    assert isinstance(prepared.backend, LoadingBackend)
    _, result = run(prepared)
    assert result.results["niah_single_1"]["256"]["n"] == 2
