"""RoPE scaling specs (`--rope yarn:4`, `theta:8e6`, ...) as transformers' own `rope_parameters`.

transformers 5 keeps RoPE settings in `config.rope_parameters` ({"rope_type", "rope_theta", ...});
we only build that dict and let the model's own RoPE code do the rest. The result is saved in the
checkpoint's config, so `harness eval` picks it up with no extra flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.core.errors import HarnessError

TYPES = ("linear", "dynamic", "yarn", "llama3", "theta")


@dataclass(frozen=True)
class RopeSpec:
    """One scaling choice: `kind` (linear, dynamic, yarn, llama3, theta) and its value (factor or theta)."""

    kind: str
    value: float

    def __str__(self) -> str:
        return f"{self.kind}:{self.value:g}"


def parse_rope(text: str) -> RopeSpec:
    """`yarn:4` -> RopeSpec("yarn", 4.0); `theta:8e6` -> RopeSpec("theta", 8e6)."""
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in TYPES:
        raise HarnessError(f"bad --rope {text!r}: expected TYPE:VALUE with TYPE one of {', '.join(TYPES)}")
    try:
        number = float(value)
    except ValueError:
        raise HarnessError(f"bad --rope {text!r}: {value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0 or (kind != "theta" and number < 1):
        raise HarnessError(f"bad --rope {text!r}: a factor must be >= 1 and a theta positive")
    return RopeSpec(kind, number)


def current_rope(config: Any) -> dict[str, Any]:
    """The model's RoPE parameters as transformers 5 stores them (older keywords are folded in there)."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    params.setdefault("rope_type", "default")
    if "rope_theta" not in params:
        params["rope_theta"] = float(getattr(config, "rope_theta", 10000.0))
    return params


def rope_parameters(spec: RopeSpec | None, config: Any, theta: float | None = None) -> dict[str, Any]:
    """New `rope_parameters` for `config`: scaling from `spec`, a stage's `theta` override on top."""
    params = current_rope(config)
    original = int(params.get("original_max_position_embeddings") or config.max_position_embeddings)
    if spec is not None:
        base = {"rope_theta": params["rope_theta"]}
        if spec.kind == "theta":
            params = {"rope_type": "default", "rope_theta": spec.value}
        elif spec.kind in ("linear", "dynamic"):
            params = {**base, "rope_type": spec.kind, "factor": spec.value}
        elif spec.kind == "yarn":
            params = {**base, "rope_type": "yarn", "factor": spec.value, "original_max_position_embeddings": original,
                      "beta_fast": 32.0, "beta_slow": 1.0}
        else:  # llama3
            params = {**base, "rope_type": "llama3", "factor": spec.value, "original_max_position_embeddings": original,
                      "low_freq_factor": 1.0, "high_freq_factor": 4.0}
    if theta is not None:
        params["rope_theta"] = float(theta)
    return params


def scaled_max_positions(spec: RopeSpec | None, config: Any, at_least: int) -> int:
    """`max_position_embeddings` after scaling: original x factor for factor types, never below `at_least`."""
    current = int(config.max_position_embeddings)
    if spec is not None and spec.kind != "theta":
        original = int(current_rope(config).get("original_max_position_embeddings") or current)
        current = max(current, int(original * spec.value))
    return max(current, at_least)
