"""How a `--model` spec picks a backend: a `prefix:` that is no backend is refused with "did you mean"
(hub ids never contain ':'), instead of falling through to transformers with a tokenizer error."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.backends import split_spec
from harness.core.errors import HarnessError
from harness.core.specs import backend_name
from tests.clirun import run_cli


@pytest.mark.parametrize("spec, expected", [
    ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
    ("vllm:/models/llama", ("vllm", "/models/llama")),
    ("hf:HuggingFaceTB/SmolLM2-135M", ("hf", "HuggingFaceTB/SmolLM2-135M")),
    ("HuggingFaceTB/SmolLM2-135M", ("hf", "HuggingFaceTB/SmolLM2-135M")),
    ("tiny-random", ("hf", "tiny-random")),
])
def test_known_prefixes_and_plain_names(spec: str, expected: tuple[str, str]) -> None:
    assert split_spec(spec) == expected and backend_name(spec) == expected[0]


@pytest.mark.parametrize("spec, suggestion", [
    ("vlm:x", "did you mean vllm:?"),
    ("VLLM:/models/x", "did you mean vllm:?"),
    ("opnai:gpt-4o", "did you mean openai:?"),
    ("h:model", "did you mean hf:?"),
    ("anthropic:claude", None),
    ("ckpt:v2", None),  # no such local path
])
def test_an_unknown_prefix_is_refused(spec: str, suggestion: str | None) -> None:
    with pytest.raises(HarnessError) as raised:
        split_spec(spec)
    message = str(raised.value)
    assert message.startswith(f"model {spec!r}: unknown backend ") and "(known: hf:, openai:, vllm:)" in message
    assert (suggestion in message) if suggestion else "did you mean" not in message
    with pytest.raises(HarnessError):
        backend_name(spec)  # the option checks refuse it as early


def test_an_existing_local_path_with_a_colon_is_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ckpt:v2").mkdir()
    monkeypatch.chdir(tmp_path)
    assert split_spec("ckpt:v2") == ("hf", "ckpt:v2")
    assert split_spec(str(tmp_path / "ckpt:v2")) == ("hf", str(tmp_path / "ckpt:v2"))
    assert split_spec("runs/missing:v2") == ("hf", "runs/missing:v2")  # a path (reported missing when it loads)


def test_eval_with_a_mistyped_backend_is_one_line(capfd: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["eval", "--model", "vlm:x", "--tasks", "niah_single_1"], capfd)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "unknown backend 'vlm'; did you mean vllm:?" in err and "tokenizer" not in err


def test_a_near_miss_of_a_built_in_model_is_suggested_when_it_fails_to_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    from harness.core.backends.hf import load_tokenizer

    def offline(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", offline)
    with pytest.raises(HarnessError, match=r"could not load tokenizer 'tiny-randm': .*did you mean the built-in model tiny-random\?"):
        load_tokenizer("tiny-randm")
    with pytest.raises(HarnessError) as raised:
        load_tokenizer("gpt2")
    assert "did you mean" not in str(raised.value)
