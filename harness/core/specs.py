"""The typed description of a model (`BackendSpec`) and of a judge (`JudgeSpec`).

`harness eval` (its flags), the Python API, the sweep's eval stage (its YAML section) and `harness synth run`
(its generator) all describe the model they load as a `BackendSpec`; an evaluation (`harness.runner.EvalConfig`)
carries the evaluated model's and its judge's. Which options a backend takes beyond `--model-args` lives here,
beside the spec, not in the command line:

- `base_url` and `tokenizer`: the openai backend (an API server, and the tokenizer that counts its tokens);
- `device`: the local backends (hf, vllm);
- `batch_size`: every backend (a positive integer or `auto`, default 1).

`--base-url`, `--tokenizer`, `--device` and `--batch-size` are spellings of backend options that `--model-args`
can also carry (`base_url=...`, ...). They merge into one dict: an unset flag (None) never overwrites a value, and
one option given two ways with different values is an error that names both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from harness.core.errors import HarnessError

if TYPE_CHECKING:
    from harness.core.backends.base import Backend

# option -> the flag that sets it besides --model-args
FLAGS = {"base_url": "--base-url", "tokenizer": "--tokenizer", "device": "--device", "batch_size": "--batch-size"}


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


# option -> (the backends that take it, how the error names them); the rest refuse it
ONLY_FOR: dict[str, tuple[tuple[str, ...], str]] = {
    "base_url": (("openai",), "openai:NAME models"),
    "tokenizer": (("openai",), "openai:NAME models"),
    "device": (("hf", "vllm"), "local models (hf, vllm)"),
}
JUDGE_FLAGS = {"base_url": "--judge-base-url", "tokenizer": "--judge-tokenizer", "batch_size": "--batch-size"}


@dataclass(frozen=True)
class BackendSpec:
    """A model to load: its `--model` spec, its backend arguments (`--model-args`), and the options that flags
    also set. An option given both ways must agree; one the backend does not take is refused."""

    model: str
    model_args: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    tokenizer: str | None = None
    device: str | None = None
    batch_size: int | str | None = None
    # how errors name where a value came from (the judge's flags are --judge-*): presentation only
    args_flag: str = field(default="--model-args", compare=False, repr=False)
    flag_names: Mapping[str, str] = field(default_factory=lambda: FLAGS, compare=False, repr=False)

    @property
    def backend(self) -> str:
        """The backend the spec picks (`openai:`, `vllm:`, `hf:` prefixes; else hf), without building a built-in."""
        return backend_name(self.model)

    def options(self) -> dict[str, Any]:
        """The keyword arguments `load_backend(model, **...)` gets: `model_args` merged with the options, the batch
        size checked (default 1); an option this backend does not take raises, naming where it came from."""
        given = dict(self.model_args)
        if "batch_size" in given:
            given["batch_size"] = parse_batch_size(given["batch_size"], f"{self.args_flag} batch_size")
        flags = {"base_url": self.base_url, "tokenizer": self.tokenizer, "device": self.device,
                 "batch_size": parse_batch_size(self.batch_size, self.flag_names.get("batch_size", "--batch-size"))}
        merged = merge_options(given, flags, self.args_flag, self.flag_names)
        backend = self.backend
        misplaced = [key for key, (backends, _) in ONLY_FOR.items() if merged.get(key) is not None and backend not in backends]
        if misplaced:
            origins = [f"{self.args_flag} {k}" if k in given else self.flag_names.get(k, "--" + k) for k in misplaced]
            raise HarnessError(f"{' and '.join(origins)}: only for {ONLY_FOR[misplaced[0]][1]}; "
                               f"{self.model!r} runs on the {backend} backend")
        for key in ONLY_FOR:
            if key in merged and merged[key] is None:
                del merged[key]
        merged["batch_size"] = merged.get("batch_size") or 1
        return merged

    def recorded_args(self) -> dict[str, Any]:
        """The backend arguments a run records (its fingerprint's `model_args`): `model_args`, with `device` when
        given as an option (`--device d` is `--model-args device=d`, the same run). `base_url`, `tokenizer` and
        `batch_size` given as options are not recorded."""
        return {**self.model_args, "device": self.device} if self.device is not None else dict(self.model_args)

    def load(self) -> Backend:
        """The loaded backend."""
        from harness.core import backends

        return backends.load_backend(self.model, **self.options())


@dataclass(frozen=True)
class JudgeSpec:
    """The model that scores judged tasks (`--judge`, `--judge-model-args`, `--judge-base-url`,
    `--judge-tokenizer`; in a sweep `eval.judge`: a model spec or a mapping of these fields)."""

    model: str
    model_args: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None
    tokenizer: str | None = None

    @property
    def backend(self) -> BackendSpec:
        """The judge's model as a `BackendSpec` (errors name the --judge-* flags)."""
        return BackendSpec(self.model, dict(self.model_args), base_url=self.base_url, tokenizer=self.tokenizer,
                           args_flag="--judge-model-args", flag_names=JUDGE_FLAGS)

    def shares(self, model: BackendSpec) -> bool:
        """Whether the evaluated model can judge too: the same spec, and every judge option the same as its."""
        if self.model != model.model:
            return False
        theirs = model.options()
        return all(theirs.get(k) == v for k, v in self.backend.options().items() if k != "batch_size")


def backend_options(spec: str, model_args: Mapping[str, Any] | None = None, *, base_url: str | None = None,
                    tokenizer: str | None = None, device: str | None = None, batch_size: int | str | None = None,
                    args_flag: str = "--model-args", flag_names: Mapping[str, str] = FLAGS) -> dict[str, Any]:
    """The keyword arguments `load_backend(spec, **...)` gets: `BackendSpec(spec, ...).options()`."""
    return BackendSpec(spec, dict(model_args or {}), base_url=base_url, tokenizer=tokenizer, device=device,
                       batch_size=batch_size, args_flag=args_flag, flag_names=flag_names).options()
