"""One source of truth for a backend's options: `--model-args` merged with the flags that set the same things.

`--base-url`, `--tokenizer`, `--device` and `--batch-size` are spellings of backend options that `--model-args`
can also carry (`base_url=...`, `tokenizer=...`, `device=...`, `batch_size=...`). They merge into one dict: an
unset flag (None) never overwrites a value, and one option given two ways with different values is an error
that names both. `harness eval`, its judge, `harness synth run` and the sweep's eval stage all build their
backends through `backend_options`.
"""

from __future__ import annotations

from typing import Any, Mapping

from harness.core.errors import HarnessError

# option -> the flag that sets it besides --model-args
FLAGS = {"base_url": "--base-url", "tokenizer": "--tokenizer", "device": "--device", "batch_size": "--batch-size"}
OPENAI_ONLY = ("base_url", "tokenizer")
LOCAL_ONLY = ("device",)


def backend_name(spec: str) -> str:
    """The backend a `--model` spec picks (`openai:`, `vllm:`, `hf:` prefixes; anything else is hf), without
    building a built-in model."""
    from harness.core.backends import split_spec

    return split_spec(spec)[0]


def parse_batch_size(value: int | str | None, flag: str = "--batch-size") -> int | str | None:
    """A positive integer or `auto` (lm-eval's `auto:N` is taken as `auto`); None stays None."""
    if value is None:
        return None
    if isinstance(value, str) and (value == "auto" or value.startswith("auto:")):
        return "auto"
    try:
        size = int(value)
    except (TypeError, ValueError):
        size = 0
    if size < 1 or (isinstance(value, float) and value != size):
        raise HarnessError(f"bad {flag} {value!r}: expected a positive integer or 'auto'")
    return size


def merge_options(model_args: Mapping[str, Any], flags: Mapping[str, Any], args_flag: str = "--model-args",
                  flag_names: Mapping[str, str] = FLAGS) -> dict[str, Any]:
    """`model_args` plus the flags' values; a None flag is not given; a clash raises naming both sides."""
    merged = dict(model_args)
    for key, value in flags.items():
        if value is None:
            continue
        if key in merged and merged[key] is not None and merged[key] != value:
            raise HarnessError(
                f"{flag_names.get(key, '--' + key)} {value!r} and {args_flag} {key}={merged[key]!r} disagree; give {key} once"
            )
        merged[key] = value
    return merged


def backend_options(spec: str, model_args: Mapping[str, Any] | None = None, *, base_url: str | None = None,
                    tokenizer: str | None = None, device: str | None = None, batch_size: int | str | None = None,
                    args_flag: str = "--model-args", flag_names: Mapping[str, str] = FLAGS) -> dict[str, Any]:
    """The keyword arguments `load_backend(spec, **...)` gets: `model_args` merged with the flags.

    `batch_size` is checked (and defaults to 1); `base_url` and `tokenizer` are refused for non-openai
    backends and `device` for the openai backend, naming where they came from."""
    given = dict(model_args or {})
    if "batch_size" in given:
        given["batch_size"] = parse_batch_size(given["batch_size"], f"{args_flag} batch_size")
    merged = merge_options(given, {"base_url": base_url, "tokenizer": tokenizer, "device": device,
                                   "batch_size": parse_batch_size(batch_size, flag_names.get("batch_size", "--batch-size"))},
                           args_flag, flag_names)
    backend = backend_name(spec)

    def origin(key: str) -> str:
        return f"{args_flag} {key}" if key in given else flag_names.get(key, "--" + key)

    misplaced = [k for k in (OPENAI_ONLY if backend != "openai" else LOCAL_ONLY) if merged.get(k) is not None]
    if misplaced:
        kind = "openai:NAME models" if backend != "openai" else "local models (hf, vllm)"
        raise HarnessError(f"{' and '.join(origin(k) for k in misplaced)}: only for {kind}; {spec!r} runs on the {backend} backend")
    for key in (*OPENAI_ONLY, *LOCAL_ONLY):
        if key in merged and merged[key] is None:
            del merged[key]
    merged["batch_size"] = merged.get("batch_size") or 1
    return merged
