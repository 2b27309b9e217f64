"""Model backends and how a `--model` spec picks one.

`openai:NAME` -> the OpenAI-compatible API backend; `vllm:PATH` -> offline vLLM; `hf:PATH` or a
plain path / hub id -> transformers; a built-in name (`smollm2-135m`, `tiny`) -> transformers on
the locally built checkpoint. Heavy backends are imported only when chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.backends.base import Backend
from harness.registry import Registry

BACKENDS: Registry[type[Backend]] = Registry("backend")
BACKENDS.register("hf", "harness.backends.hf:HFBackend")
BACKENDS.register("openai", "harness.backends.openai:OpenAIBackend")
BACKENDS.register("vllm", "harness.backends.vllm:VLLMBackend")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed `--model`: which backend, and the model name or path it gets."""

    backend: str
    model: str


def parse_model_spec(spec: str) -> ModelSpec:
    """Split `backend:model` (backend one of the registered names); default to `hf`."""
    from harness.models import BUILTINS

    prefix, sep, rest = spec.partition(":")
    if sep and prefix in BACKENDS:
        model = rest
    else:
        prefix, model = "hf", spec
    if model in BUILTINS and prefix in ("hf", "vllm"):
        model = str(BUILTINS[model].ensure())
    return ModelSpec(prefix, model)


def load_backend(spec: str, **kwargs: Any) -> Backend:
    """Instantiate the backend for `spec` with backend-specific keyword arguments."""
    parsed = parse_model_spec(spec)
    cls = BACKENDS.get(parsed.backend)
    return cls(parsed.model, **kwargs)  # type: ignore[call-arg]
