"""`TrainSpec`: everything that defines a training run, with defaults up front (nanoGPT style).

Saved as `train_spec.json` in every output and hashed into the manifest, so a sweep can tell
whether a checkpoint is still current. `harness train` (its options) and a sweep's `train:` section
both build it with `load_train_spec`, the typed loader every config section goes through.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

from harness.core.errors import HarnessError
from harness.core.lengths import parse_length
from harness.core.registry import unknown_field
from harness.tracking import parse_report_to
from harness.train.rope import RopeSpec, parse_rope

# transformers' SchedulerType values (`lr_scheduler_type`); checked here, before a model loads
LR_SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
                 "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
                 "warmup_stable_decay")


@dataclass(frozen=True)
class Stage:
    """Train `steps` optimizer steps on sequences of `length` tokens (optionally with a new RoPE theta)."""

    length: int
    steps: int
    theta: float | None = None


@dataclass(frozen=True)
class LoraSpec:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.0
    # LongLoRA's lesson: train embeddings and norms too, or long-context adaptation suffers.
    modules_to_save: tuple[str, ...] = ("embed_tokens", "input_layernorm", "post_attention_layernorm", "norm")


@dataclass(frozen=True)
class TrainSpec:
    model: str
    data: str
    stages: tuple[Stage, ...]
    rope: RopeSpec | None = None
    max_position_embeddings: int | None = None
    lora: LoraSpec | None = None
    learning_rate: float = 2e-5
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    lr_scheduler: str = "cosine"
    grad_accum: int = 1
    packing: bool = True
    batch_size: int = 1  # sequences per step without packing; with packing each step is one packed sequence
    loss_normalization: str = "token"  # "token": mean over all label tokens; "sequence": mean of per-example means
    gradient_checkpointing: bool = False
    seed: int = 0
    save_steps: int = 50
    max_grad_norm: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)
    # experiment trackers (transformers' integrations, harness.tracking); they change no weight, so they stay
    # out of the digest, and out of the saved spec when none (existing manifests keep their bytes)
    report_to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.stages:
            raise HarnessError("--stages: at least one LEN:STEPS stage is needed")
        if self.loss_normalization not in ("token", "sequence"):
            raise HarnessError(f"--loss-norm {self.loss_normalization!r}: expected token or sequence")
        _need(_number(self.learning_rate) and self.learning_rate > 0, "--lr", "learning_rate", self.learning_rate,
              "a positive number")
        _need(_number(self.warmup_ratio) and 0 <= self.warmup_ratio < 1, "--warmup-ratio", "warmup_ratio",
              self.warmup_ratio, "a number in [0, 1)")
        _need(_number(self.weight_decay) and self.weight_decay >= 0, "--weight-decay", "weight_decay", self.weight_decay,
              "a number >= 0")
        for flag, name, value in (("--grad-accum", "grad_accum", self.grad_accum), ("--batch-size", "batch_size", self.batch_size),
                                  ("--save-steps", "save_steps", self.save_steps)):
            _need(_integer(value) and value >= 1, flag, name, value, "an integer >= 1")
        _need(self.lr_scheduler in LR_SCHEDULERS, "--lr-scheduler", "lr_scheduler", self.lr_scheduler,
              f"one of {', '.join(LR_SCHEDULERS)}")
        _need(_number(self.max_grad_norm) and self.max_grad_norm >= 0, "--max-grad-norm", "max_grad_norm",
              self.max_grad_norm, "a number >= 0 (0: no clipping)")
        positions = self.max_position_embeddings
        _need(positions is None or (_integer(positions) and positions >= 1), "--max-position-embeddings",
              "max_position_embeddings", positions, "an integer >= 1")
        parse_report_to(list(self.report_to))  # raises on a tracker transformers has no integration for here

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rope"] = str(self.rope) if self.rope else None
        if not self.report_to:
            del data["report_to"]
        return data

    def digest(self) -> str:
        weights = {k: v for k, v in self.to_dict().items() if k != "report_to"}
        return hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:16]


def _need(ok: bool, flag: str, name: str, value: Any, wanted: str) -> None:
    if not ok:
        raise HarnessError(f"bad {flag} ({name}) {value!r}: expected {wanted}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_stages(text: str) -> tuple[Stage, ...]:
    """`8k:200,16k:100:5e6` -> stages (length, steps, optional theta), lengths non-decreasing."""
    stages = []
    for part in [p for p in text.split(",") if p.strip()]:
        pieces = part.strip().split(":")
        if len(pieces) not in (2, 3):
            raise HarnessError(f"bad --stages entry {part!r}: expected LEN:STEPS or LEN:STEPS:THETA")
        try:
            steps = int(pieces[1])
            theta = float(pieces[2]) if len(pieces) == 3 else None
        except ValueError:
            raise HarnessError(f"bad --stages entry {part!r}: STEPS must be an integer, THETA a number") from None
        if steps < 1:
            raise HarnessError(f"bad --stages entry {part!r}: STEPS must be at least 1")
        if theta is not None and not (math.isfinite(theta) and theta > 0):
            raise HarnessError(f"bad --stages entry {part!r}: THETA must be a positive number")
        try:
            length = parse_length(pieces[0])
        except HarnessError as error:
            raise HarnessError(f"bad --stages entry {part!r}: {error}") from None
        stages.append(Stage(length, steps, theta))
    if not stages:
        raise HarnessError("--stages: at least one LEN:STEPS stage is needed")
    if any(b.length < a.length for a, b in zip(stages, stages[1:])):
        raise HarnessError(f"--stages {text!r}: lengths must not decrease from stage to stage")
    return tuple(stages)


def parse_lora(text: str | None) -> LoraSpec | None:
    """`r=16,alpha=32,dropout=0.05` -> LoraSpec; None when not given."""
    if not text:
        return None
    from harness.core.model_args import parse_model_args

    args = parse_model_args(text, flag="--lora")
    unknown = sorted(set(args) - {"r", "alpha", "dropout"})
    if unknown:
        raise unknown_field("--lora", unknown[0], ("r", "alpha", "dropout"), noun="key")
    for key in ("r", "alpha"):
        value = args.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise HarnessError(f"bad --lora {key}={value!r}: expected a positive integer")
    dropout = args.get("dropout", 0.0)
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout < 1:
        raise HarnessError(f"bad --lora dropout={dropout!r}: expected a number in [0, 1)")
    return LoraSpec(r=int(args.get("r", 16)), alpha=int(args.get("alpha", 32)), dropout=float(dropout))


def _stages(value: Any) -> tuple[Stage, ...]:
    return value if isinstance(value, tuple) else parse_stages(str(value))


def _rope(value: Any) -> RopeSpec | None:
    return parse_rope(value) if isinstance(value, str) and value else value or None


def _lora(value: Any) -> LoraSpec | None:
    """`r=16,alpha=32` or a mapping of the same keys; None or empty: no LoRA."""
    if isinstance(value, Mapping):
        value = ",".join(f"{k}={v}" for k, v in value.items())
    return parse_lora(value) if isinstance(value, str) or value is None else value


def _float_text(value: Any) -> Any:
    """A number written as text (YAML 1.1 reads `1e-3` as a string) as a float; anything else unchanged."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _learning_rate(value: Any) -> Any:
    """A float, as the sweep always made it (an integer 1 is 1.0: the spec's digest stays what it was)."""
    value = _float_text(value)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


# the text forms of TrainSpec's fields (as `harness train` and sweep YAML write them), parsed before the type check
PARSERS: dict[str, Callable[[Any], Any]] = {
    "stages": _stages, "rope": _rope, "lora": _lora, "report_to": lambda value: parse_report_to(value, "report_to"),
    "learning_rate": _learning_rate, "weight_decay": _float_text, "warmup_ratio": _float_text, "max_grad_norm": _float_text,
}
# TrainSpec's fields that no option sets, and why (tests/harness/test_cli_config_parity.py checks it)
NO_OPTION = {"extra": "free-form notes kept in train_spec.json (its digest); no command sets them"}
# `harness train` options that are no TrainSpec field, and why
OPTION_ONLY = {"output": "where the model is written, not how it is trained: `train`'s argument (a sweep picks its stage's)"}


def load_train_spec(settings: Mapping[str, Any], source: str = "", fixed: Mapping[str, Any] | None = None) -> TrainSpec:
    """`settings` (TrainSpec's fields by name, in their text or typed forms: `stages: "2k:300"`, `rope: "yarn:4"`,
    `lora: "r=16"`) as a `TrainSpec`; an unknown or ill-typed field is named with its value. `fixed` fields are the
    caller's (a sweep's base model and each variant's data)."""
    from harness.core.configfile import load_dataclass

    return load_dataclass(TrainSpec, settings, source, PARSERS, fixed)


__all__ = ["LR_SCHEDULERS", "LoraSpec", "RopeSpec", "Stage", "TrainSpec", "load_train_spec", "parse_lora", "parse_rope",
           "parse_stages"]
