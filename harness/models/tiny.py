"""The built-in tiny models, with SmolLM2's tokenizer and no chat template (base models).

- `tiny-random`: a few-MB randomly initialised Llama (RoPE, RMSNorm, grouped-query attention,
  SwiGLU), built in seconds, for fast plumbing tests.
- `tiny`: `tiny-random` pretrained on retrieval data the project generates (RULER-style needles in
  noise and distractor-needle haystacks at 256-512 tokens, plus number-recall drills), with the
  project's own trainer, in about five minutes on a CPU. The goal is a model that scores clearly
  above zero on niah_single_1 at 512 tokens, the starting point of the context-extension demo; the
  current recipe does not reach it yet (it learns the answer format, not yet the copy: README).
"""

from __future__ import annotations

import json
import random
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

# Pretraining recipe of `tiny` (see the README's tiny-model section for what it scores).
TRAIN_EXAMPLES = 6000
TRAIN_LENGTH = 512
TRAIN_STEPS = 1500
TRAIN_LR = 3e-3
TRAIN_SEED = 1000  # sample seeds 1000+: disjoint from evaluation's default seed 42


def build_random(target: Path) -> None:
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
        manifest = {"name": "tiny-random", "seed": SEED, "config": CONFIG, "trained": False}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))

    publish(target, save)


def retrieval_records(tokenizer: Any, count: int, seed: int) -> list[dict[str, str]]:
    """Half RULER niah prompts (noise and distractor-needle haystacks, 256-512 tokens) with their
    answers, half recall drills (numbers shown once among noise lines, then asked back)."""
    from harness.prompt import PromptFormat
    from tasks import get_task
    from tasks.ruler.haystacks import NOISE_LINE

    fmt = PromptFormat.create(tokenizer, "off")
    rng = random.Random(seed)
    tasks = [get_task("niah_single_1"), get_task("niah_multikey_2")]
    records = []
    for i in range(count):
        if i % 2 == 0:
            task = tasks[0] if i % 4 == 0 else tasks[1]
            sample = task.make_sample(fmt, rng.choice([256, 320, 384, 448, 512]), i, seed + i)
            records.append({"prompt": str(sample.prompt) + sample.answer_prefix, "completion": f" {sample.targets[0]}."})
        else:
            numbers = [str(rng.randint(10**6, 10**7 - 1)) for _ in range(rng.randint(1, 4))]
            lines = [NOISE_LINE] * rng.randint(0, 6)
            lines.insert(rng.randint(0, len(lines)), "Remember: " + " ".join(numbers) + ".")
            records.append({"prompt": "\n".join(lines) + "\nThe numbers were", "completion": " " + " ".join(numbers) + "."})
    return records


def build_trained(target: Path) -> None:
    """Pretrain `tiny-random` on generated retrieval data and publish the result at `target`."""
    from harness.models import BUILTINS
    from harness.train.spec import Stage, TrainSpec
    from harness.train.trainer import train

    base = BUILTINS["tiny-random"].ensure()
    work = target.parent / ".tiny-build"
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data.jsonl"
    if not data.exists():
        from harness.backends.hf import load_tokenizer

        records = retrieval_records(load_tokenizer(str(base)), TRAIN_EXAMPLES, TRAIN_SEED)
        tmp = data.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
        tmp.replace(data)
    spec = TrainSpec(model=str(base), data=str(data), stages=(Stage(TRAIN_LENGTH, TRAIN_STEPS),),
                     learning_rate=TRAIN_LR, warmup_ratio=0.02, save_steps=250, seed=SEED)
    trained = train(spec, work / "run")

    def save(tmp: Path) -> None:
        for item in trained.iterdir():
            if item.is_file():
                (tmp / item.name).write_bytes(item.read_bytes())
        manifest = {"name": "tiny", "trained": True, "base": "tiny-random", "examples": TRAIN_EXAMPLES,
                    "length": TRAIN_LENGTH, "steps": TRAIN_STEPS, "lr": TRAIN_LR}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        (tmp / "train_manifest.json").write_text((trained / "manifest.json").read_text())

    publish(target, save)
