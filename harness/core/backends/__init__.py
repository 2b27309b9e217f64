"""Model backends and how a `--model` spec picks one.

`openai:NAME` -> the OpenAI-compatible API backend; `vllm:PATH` -> offline vLLM; `hf:PATH` or a
plain path / hub id -> transformers; a built-in name (`smollm2-135m`, `tiny`) -> transformers on
the locally built checkpoint. Heavy backends are imported only when chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from harness.core.backends.base import Backend
from harness.core.errors import HarnessError
from harness.core.registry import Registry, unknown_name


class BackendClass(Protocol):
    """What `load_backend` builds a backend with: a backend class, called with the model and its options."""

    def __call__(self, model: str, /, **options: Any) -> Backend: ...


BACKENDS: Registry[BackendClass] = Registry("backend")
BACKENDS.register("hf", "harness.core.backends.hf:HFBackend")
BACKENDS.register("openai", "harness.core.backends.openai:OpenAIBackend")
BACKENDS.register("vllm", "harness.core.backends.vllm:VLLMBackend")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed `--model`: which backend, and the model name or path it gets."""

    backend: str
    model: str


def split_spec(spec: str) -> tuple[str, str]:
    """(backend, model) of a `--model` spec: `backend:model` with a registered backend, else `hf` and
    the whole spec. Hub ids never contain ':', so any other bare `name:` is a mistyped backend and is
    refused with "did you mean" — unless the spec is a local path that exists. A prefix with a path
    character in it (`/`, `.`, `~`) is a path, and is loaded (or reported missing) as one."""
    prefix, sep, rest = spec.partition(":")
    if not sep:
        return "hf", spec
    if prefix in BACKENDS:
        return prefix, rest
    if any(c in prefix for c in "/\\.~") or os.path.exists(os.path.expanduser(spec)):
        return "hf", spec
    error = unknown_name("backend", prefix, BACKENDS.names(), template="{}:")
    raise HarnessError(f"model {spec!r}: {error}; a local path with ':' in it must exist")


def parse_model_spec(spec: str) -> ModelSpec:
    """Split `backend:model` (backend one of the registered names); default to `hf`."""
    from harness.core.models import BUILTINS

    prefix, model = split_spec(spec)
    if model in BUILTINS and prefix in ("hf", "vllm"):
        model = str(BUILTINS[model].ensure())
    return ModelSpec(prefix, model)


def load_backend(spec: str, **kwargs: Any) -> Backend:
    """Instantiate the backend for `spec` with backend-specific keyword arguments."""
    parsed = parse_model_spec(spec)
    cls = BACKENDS.get(parsed.backend)
    return cls(parsed.model, **kwargs)
