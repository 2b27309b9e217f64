"""One source of truth for backend options, and lm-eval's spellings read as ours (no model loaded here)."""

from __future__ import annotations

import pytest

from harness.core.errors import HarnessError
from harness.core.limit import parse_limit, sample_count
from harness.core.specs import FLAGS, backend_name, backend_options, merge_options, parse_batch_size
from harness.lmeval_compat import check_gen_kwargs, resolve_model

VALUES = {"base_url": ("http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"), "tokenizer": ("a/tok", "b/tok"),
          "device": ("cpu", "cuda:1"), "batch_size": (4, 8)}
SPEC_FOR = {"base_url": "openai:m", "tokenizer": "openai:m", "device": "tiny-random", "batch_size": "tiny-random"}


@pytest.mark.parametrize("key", sorted(FLAGS))
def test_every_option_merges_from_either_side_and_none_never_overwrites(key: str) -> None:
    value, _ = VALUES[key]
    spec = SPEC_FOR[key]
    from_args = backend_options(spec, {key: value})
    from_flag = backend_options(spec, {}, **{key: value})
    both = backend_options(spec, {key: value}, **{key: value})
    assert from_args[key] == from_flag[key] == both[key] == value
    # a flag left unset (None) keeps the --model-args value: the bug was base_url=None overwriting it
    assert backend_options(spec, {key: value}, **{key: None})[key] == value


@pytest.mark.parametrize("key", sorted(FLAGS))
def test_every_option_given_twice_differently_is_an_error_naming_both(key: str) -> None:
    first, second = VALUES[key]
    with pytest.raises(HarnessError) as error:
        backend_options(SPEC_FOR[key], {key: first}, **{key: second})
    message = str(error.value)
    assert FLAGS[key] in message and f"--model-args {key}=" in message
    assert str(first) in message and str(second) in message


@pytest.mark.parametrize(("spec", "key"), [("tiny-random", "base_url"), ("vllm:x", "tokenizer"), ("hf:x", "base_url"),
                                           ("openai:m", "device")])
def test_options_for_another_backend_are_refused_from_either_side(spec: str, key: str) -> None:
    for given in ({"model_args": {key: "x"}}, {key: "x"}):
        args = given.get("model_args", {})
        flags = {k: v for k, v in given.items() if k != "model_args"}
        with pytest.raises(HarnessError, match=f"runs on the {backend_name(spec)} backend"):
            backend_options(spec, args, **flags)  # type: ignore[arg-type]


def test_backend_name_does_not_build_builtins() -> None:
    assert [backend_name(s) for s in ("openai:m", "vllm:p", "hf:p", "tiny", "/a/b:c", "org/name")] == \
        ["openai", "vllm", "hf", "hf", "hf", "hf"]


def test_batch_size_defaults_to_one_and_is_checked() -> None:
    assert backend_options("tiny-random", {})["batch_size"] == 1
    assert parse_batch_size("auto") == parse_batch_size("auto:4") == "auto"
    for bad in ("0", "-1", "x", 2.5):
        with pytest.raises(HarnessError, match="batch"):
            parse_batch_size(bad)  # type: ignore[arg-type]


def test_merge_names_the_flags_it_was_given() -> None:
    with pytest.raises(HarnessError, match="--num_fewshot 3 and --task-args num_fewshot=5 disagree"):
        merge_options({"num_fewshot": 5}, {"num_fewshot": 3}, "--task-args", {"num_fewshot": "--num_fewshot"})


@pytest.mark.parametrize(("model", "args", "spec", "rest"), [
    ("hf", {"pretrained": "tiny-random", "dtype": "float32"}, "tiny-random", {"dtype": "float32"}),
    ("hf-auto", {"pretrained": "org/name"}, "org/name", {}),
    ("huggingface", {"pretrained": "/ckpt"}, "/ckpt", {}),
    ("vllm", {"pretrained": "/ckpt", "tensor_parallel_size": 2}, "vllm:/ckpt", {"tensor_parallel_size": 2}),
    ("local-chat-completions", {"model": "m", "base_url": "http://h:1/v1/chat/completions", "num_concurrent": 4,
                                "tokenized_requests": False}, "openai:m", {"base_url": "http://h:1/v1", "concurrency": 4}),
    ("openai-chat-completions", {"model": "gpt-x"}, "openai:gpt-x", {}),
    ("local-completions", {"model": "m", "base_url": "http://h:1/v1/completions", "tokenizer": "t"}, "openai:m",
     {"base_url": "http://h:1/v1", "mode": "completions", "tokenizer": "t"}),
    ("openai-completions", {"model": "m"}, "openai:m", {"mode": "completions"}),
    ("tiny-random", {"dtype": "float32"}, "tiny-random", {"dtype": "float32"}),  # ours: unchanged
    ("openai:m", {"base_url": "http://h/v1"}, "openai:m", {"base_url": "http://h/v1"}),
])
def test_lm_eval_model_types_become_our_specs(model: str, args: dict, spec: str, rest: dict) -> None:
    assert resolve_model(model, args) == (spec, rest)


@pytest.mark.parametrize(("model", "args", "message"), [
    ("hf", {"dtype": "float32"}, "pretrained=PATH"),
    ("vllm", {}, "pretrained=PATH"),
    ("local-chat-completions", {"base_url": "http://h/v1"}, "model=NAME"),
    ("local-completions", {"model": "m", "mode": "chat"}, "sends completions requests"),
    ("tiny-random", {"pretrained": "other"}, "already names the model"),
    ("local-chat-completions", {"model": "m", "num_concurrent": 2, "concurrency": 3}, "disagree"),
])
def test_lm_eval_model_spellings_that_cannot_be_read_are_named(model: str, args: dict, message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        resolve_model(model, args)


def test_a_checkpoint_directory_named_like_a_model_type_is_a_path(tmp_path, monkeypatch) -> None:
    (tmp_path / "hf").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_model("hf", {}) == ("hf", {})


@pytest.mark.parametrize(("value", "parsed"), [(None, None), ("20", 20), (20, 20), ("1.0", 1), ("0.1", 0.1), (0.5, 0.5)])
def test_limit_is_a_count_or_a_fraction(value: object, parsed: object) -> None:
    assert parse_limit(value) == parsed  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "x", "0.0", "nan", "inf"])
def test_bad_limits_are_named(value: str) -> None:
    with pytest.raises(HarnessError, match=f"bad --limit '{value}'"):
        parse_limit(value)


@pytest.mark.parametrize(("limit", "num_samples", "size", "count"), [
    (None, 500, None, 500),  # generated: the task's default
    (None, 10**9, 130, 130),  # real documents: all of the data
    (1000, 500, None, 1000),  # a count may exceed a generated task's default (as before)
    (1000, 10**9, 130, 130),  # but not the data
    (0.1, 500, None, 50),  # a fraction of the default
    (0.1, 10**9, 130, 13),  # a fraction of the data
    (0.01, 10**9, 130, 2),  # rounded up, as lm-eval
    (0.5, 5, None, 3),  # niah: one sample per depth
])
def test_sample_count(limit: float | None, num_samples: int, size: int | None, count: int) -> None:
    assert sample_count(limit, num_samples, size) == count


def test_only_greedy_gen_kwargs_are_accepted() -> None:
    check_gen_kwargs({"do_sample": False, "temperature": 0})
    check_gen_kwargs({"temperature": 0.0})
    for key, value in [("temperature", 0.7), ("do_sample", True), ("max_gen_toks", 10), ("until", "x"), ("top_p", 0.9)]:
        with pytest.raises(HarnessError, match=f"--gen_kwargs {key}="):
            check_gen_kwargs({key: value})
