"""The built-in tiny models: base models (no chat template) with their own small tokenizer.

- `tiny-random`: a randomly initialised Llama (RoPE, RMSNorm, SwiGLU; under 1 MB), built in
  seconds, for fast plumbing tests.
- `tiny`: `tiny-random` pretrained on retrieval data the project generates (RULER-style needles in
  noise and distractor-needle haystacks at 256-512 tokens, plus number-recall drills), with the
  project's own trainer (about 14 minutes on 2 CPU cores). It retrieves within its trained context
  and much less beyond it (niah_single_1 at 256, 512 and 1k tokens: 83, 57 and 0, or 100, 100 and 23, depending
  on where it is built, with the same libraries; README): the starting point of
  the context-extension demo (README).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator

from harness.core.models.store import publish
from harness.core.records import BuiltModelManifest, write_atomic

CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 8192,
    "rope_theta": 100000.0,
    "tie_word_embeddings": True,
}
SEED = 0
BUILD_VERSION = 3  # bump when a recipe changes: cached builds of another version are rebuilt

# The tokenizer: byte-level BPE (any text encodes) trained with `tokenizers` on text the project
# generates. A 4k vocabulary instead of SmolLM2's 49k: the output layer dominated the tiny model's
# compute (~97%), and with it training is about 10x faster. Numbers become 2-3 digit pieces, which
# makes copying a 7-digit needle value learnable for a 2-layer model.
VOCAB_SIZE = 4096
SPECIAL = "<|endoftext|>"

# Pretraining recipe of `tiny` (see the README's tiny-model section for what it scores).
TRAIN_EXAMPLES = 12000
TRAIN_LENGTH = 512
# Two cosine cycles: the copy (an induction-style skill) appears late in the first and sharpens in
# the second (loss about 1.0 after the first, far lower after the second; README).
TRAIN_STAGES = ((TRAIN_LENGTH, 16000), (TRAIN_LENGTH, 14000))
TRAIN_LR = 2e-3
TRAIN_SEED = 1000  # sample seeds 1000+: disjoint from evaluation's default seed 42


def tokenizer_corpus(seed: int = SEED) -> Iterator[str]:
    """RULER's templates (repeated, so their words become whole tokens), noise lines, needles."""
    from harness.tasks.ruler.common import templates
    from harness.tasks.ruler.haystacks import NOISE_LINE
    from harness.tasks.ruler.values import random_word_pair

    texts = [v for family in templates().values() for v in family.values() if isinstance(v, str)]
    rng = random.Random(seed)
    for _ in range(300):
        yield from texts
    for _ in range(20000):
        yield NOISE_LINE
        yield f"One of the special magic numbers for {random_word_pair(rng)} is: {rng.randint(10**6, 10**7 - 1)}."


def build_tokenizer() -> Any:
    """Train the tiny models' byte-level BPE (deterministic: same corpus, same merges)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.BPE(unk_token=None))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=[SPECIAL], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    raw.train_from_iterator(tokenizer_corpus(), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=raw, bos_token=SPECIAL, eos_token=SPECIAL, pad_token=SPECIAL)


def init_model(tokenizer: Any, **overrides: Any) -> Any:
    """The tiny Llama (`CONFIG`, with `overrides`) for `tokenizer`, randomly initialised with the fixed seed."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **{**CONFIG, **overrides},
    )
    torch.manual_seed(SEED)
    return LlamaForCausalLM(config)


def build_random(target: Path) -> None:
    """Initialise the tiny Llama with a fixed seed and save it with its tokenizer."""
    tokenizer = build_tokenizer()
    model = init_model(tokenizer)

    def save(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        extra = {"seed": SEED, "config": CONFIG, "vocab_size": VOCAB_SIZE, "trained": False}
        BuiltModelManifest("tiny-random", BUILD_VERSION, extra).write(tmp / "manifest.json")

    publish(target, save)


def retrieval_records(tokenizer: Any, count: int, seed: int,
                      lengths: tuple[int, ...] = (256, 320, 384, 448, 512)) -> list[dict[str, str]]:
    """Half RULER niah_single_1 prompts (noise haystack, at the given lengths) with their answers,
    half recall drills (a number shown once among noise lines, then asked back)."""
    from harness.core.prompt import PromptFormat
    from harness.tasks import get_task
    from harness.tasks.ruler.haystacks import NOISE_LINE

    fmt = PromptFormat.create(tokenizer, "off")
    rng = random.Random(seed)
    task = get_task("niah_single_1")
    records = []
    for i in range(count):
        if i % 2 == 0:
            sample = task.make_sample(fmt, rng.choice(lengths), i, seed + i)
            records.append({"prompt": str(sample.prompt) + sample.answer_prefix, "completion": f" {sample.targets[0]}."})
        else:
            number = str(rng.randint(10**6, 10**7 - 1))
            lines = [NOISE_LINE] * rng.randint(0, 4)
            lines.insert(rng.randint(0, len(lines)), f"The number is: {number}.")
            records.append({"prompt": "\n".join(lines) + "\nThe number is", "completion": f" {number}."})
    return records


def build_trained(target: Path) -> None:
    """Pretrain `tiny-random` on generated retrieval data and publish the result at `target`."""
    from harness.core.models import BUILTINS
    from harness.train.spec import Stage, TrainSpec
    from harness.train.trainer import train

    base = BUILTINS["tiny-random"].ensure()
    work = target.parent / f".tiny-build-v{BUILD_VERSION}"
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data.jsonl"
    if not data.exists():
        from harness.core.backends.hf import load_tokenizer

        records = retrieval_records(load_tokenizer(str(base)), TRAIN_EXAMPLES, TRAIN_SEED)
        write_atomic(data, "".join(json.dumps(r) + "\n" for r in records))
    spec = TrainSpec(model=str(base), data=str(data), stages=tuple(Stage(n, steps) for n, steps in TRAIN_STAGES),
                     learning_rate=TRAIN_LR, warmup_ratio=0.01, save_steps=2000, seed=SEED)
    trained = train(spec, work / "run")

    def save(tmp: Path) -> None:
        for item in trained.iterdir():
            if item.is_file():
                (tmp / item.name).write_bytes(item.read_bytes())
        # Declare the context it was trained on: extension recipes (YaRN's original length) start here.
        config = json.loads((tmp / "config.json").read_text())
        config["max_position_embeddings"] = TRAIN_LENGTH
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        extra = {"trained": True, "base": "tiny-random", "examples": TRAIN_EXAMPLES, "length": TRAIN_LENGTH,
                 "stages": TRAIN_STAGES, "lr": TRAIN_LR}
        BuiltModelManifest("tiny", BUILD_VERSION, extra).write(tmp / "manifest.json")
        (tmp / "train_manifest.json").write_text((trained / "manifest.json").read_text())

    publish(target, save)
