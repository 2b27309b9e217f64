"""The built-in `tiny`: a few-MB randomly initialised Llama with SmolLM2's tokenizer.

Built in seconds, for fast plumbing tests. It is a base model (no chat template): prompts are
plain text, which also keeps RULER's prompts small enough for 256-token contexts. Same architecture family as SmolLM2 (RoPE, RMSNorm,
grouped-query attention, SwiGLU), so every code path a real Llama takes is exercised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.models.smollm2 import load_gguf_tokenizer
from harness.models.store import publish

CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 8192,
    "rope_theta": 100000.0,
    "tie_word_embeddings": True,
}
SEED = 0


def build(target: Path) -> None:
    """Initialise the tiny Llama with a fixed seed and save it with SmolLM2's tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = load_gguf_tokenizer()
    tokenizer.chat_template = None
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **CONFIG,
    )
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(config)

    def save(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        manifest = {"name": "tiny", "seed": SEED, "config": CONFIG, "trained": False}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))

    publish(target, save)
