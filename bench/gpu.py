"""Long-context throughput and peak memory on one GPU: the hf backend and the trainer, at real model sizes.

A randomly initialised Llama of a real size (`--preset 1b`: Llama-3.2-1B's shape; `tiny`: seconds on CPU) is saved
with a word-level tokenizer of the same vocabulary in a temporary directory; then

- inference: the project's hf backend (`HFBackend`, as `harness eval --backend hf` builds it) loads that directory
  once per attention implementation (sdpa; flash_attention_2 when `flash_attn` imports and the device is CUDA).
  Prefill: one greedy `generate` of 1 new token on a prompt of L tokens (the time to first token), L / seconds.
  Decode: the same prompt with 1 + N new tokens; N / (its seconds - the prefill's seconds). End of text is off in
  the saved generation config, so every run makes all its tokens.
- training: the trainer's own path (`load_model`, `build_dataset`, `make_trainer` of harness/train/trainer.py:
  bf16 and flash-attn where the GPU has them, full fine-tuning, AdamW) with gradient checkpointing, on synthetic
  examples of L/8 to L/2 tokens, packed into sequences of L (`packing=True`) against padded batches of 2
  (`packing=False`). Real (non-pad) tokens per second, from the end of the first optimizer step to the end of
  the last (the first step is the warm-up).

Every cell resets the peak-memory counter (torch.cuda.max_memory_allocated); an out-of-memory error is reported as
"OOM" and the next cell runs; past `--budget-s` the remaining cells are "skipped (time)". Prints a Markdown table,
writes `--json OUT` (bench/cluster_cost.py reads it with `--measured`).

    .venv/bin/python bench/gpu.py --preset 1b --json gpu.json                      # one H200: under 8 minutes
    .venv/bin/python bench/gpu.py --preset tiny --device cpu --lengths 64,128 --train-lengths 64,128
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

PRESETS: dict[str, dict[str, Any]] = {
    "1b": {"hidden_size": 2048, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
           "intermediate_size": 8192, "vocab_size": 128256, "rope_theta": 500000.0,
           "max_position_embeddings": 131072, "tie_word_embeddings": True},
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "intermediate_size": 128, "vocab_size": 512, "rope_theta": 10000.0,
             "max_position_embeddings": 4096, "tie_word_embeddings": True},
}
DEFAULT_LENGTHS = "8k,32k,128k"
DEFAULT_TRAIN_LENGTHS = "8k,32k,64k"
PAD = "<pad>"  # token id 0; synthetic text and training tokens use ids 1 and up
OOM = "OOM"
SKIPPED = "skipped (time)"
GIB = 1024**3


@dataclass
class Cell:
    """One measurement: `value` in tokens/s when `status` is "ok"."""

    part: str  # "inference" or "train"
    setting: str  # "sdpa prefill", "flash_attention_2 decode", "packed", "padded"
    length: int
    value: float | None = None
    peak_gib: float | None = None
    status: str = "pending"
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.part} {self.setting} {self.length}"


# -- the model on disk ------------------------------------------------------------------------------

def build_tokenizer(vocab_size: int) -> Any:
    """A word-level tokenizer over `vocab_size` words `<pad>`, `t1`, `t2`, ...: a text of n space-separated words
    is exactly n tokens, so prompt lengths are exact."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {PAD: 0, **{f"t{i}": i for i in range(1, vocab_size)}}
    raw = Tokenizer(models.WordLevel(vocab, unk_token=PAD))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=raw, pad_token=PAD, eos_token=PAD, unk_token=PAD)


def save_random_model(preset: str, target: Path, device: str, seed: int = 0) -> Path:
    """Initialise the preset's Llama (bf16 on CUDA, float32 on CPU) on `device` and save it with its tokenizer.
    Its generation config has no end-of-text token: greedy decoding of random weights runs to max_new_tokens."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    shape = PRESETS[preset]
    config = LlamaConfig(**shape, bos_token_id=None, eos_token_id=None, pad_token_id=0)
    torch.manual_seed(seed)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with torch.device(device):
        model = LlamaForCausalLM._from_config(config, dtype=dtype)
    model.generation_config = GenerationConfig(bos_token_id=None, eos_token_id=None, pad_token_id=0)
    model.save_pretrained(target)
    build_tokenizer(shape["vocab_size"]).save_pretrained(target)
    del model
    free_memory()
    return target


def prompt_text(length: int, vocab_size: int, seed: int) -> str:
    """`length` random words of the tokenizer (no special tokens): exactly `length` tokens."""
    rng = random.Random(seed)
    return " ".join(f"t{rng.randrange(1, vocab_size)}" for _ in range(length))


# -- measuring ----------------------------------------------------------------------------------------

def is_oom(error: BaseException) -> bool:
    return type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


def free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    torch.cuda.synchronize()
    return round(torch.cuda.max_memory_allocated() / GIB, 2)


class Clock:
    """The time budget: `over()` once `budget_s` seconds have passed since it was made."""

    def __init__(self, budget_s: float) -> None:
        self.start = time.monotonic()
        self.budget_s = budget_s

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def over(self) -> bool:
        return self.elapsed() > self.budget_s


def run_cell(cell: Cell, clock: Clock, measure: Callable[[], tuple[float, str]]) -> Cell:
    """Fill `cell` from `measure()` (tokens/s, detail), with its peak memory; OOM and the budget become statuses,
    any other error is reported with its type and the run goes on."""
    if clock.over():
        cell.status = SKIPPED
        return cell
    failure = ""
    reset_peak()
    try:
        cell.value, cell.detail = measure()
        cell.status = "ok"
    except Exception as error:  # noqa: BLE001  # every cell reports; one failure must not lose the others
        failure = OOM if is_oom(error) else f"error: {type(error).__name__}: {str(error).splitlines()[0][:120] if str(error) else ''}"
        del error
    if failure:
        cell.status = failure
        free_memory()  # after the except block: the traceback no longer holds the failed cell's tensors
    cell.peak_gib = peak_gib()
    print(f"  {cell.label}: {cell.status}" + (f" {cell.value:,.0f} tok/s" if cell.value else "")
          + (f", peak {cell.peak_gib} GiB" if cell.peak_gib is not None else ""), file=sys.stderr, flush=True)
    return cell


def generate_seconds(backend: Any, text: str, new_tokens: int) -> float:
    """Seconds of one greedy `backend.generate` of `new_tokens` tokens (the result's token ids are read back on
    the host, so the GPU has finished)."""
    from harness.core.backends.base import GenerationRequest

    request = GenerationRequest(text=text, max_tokens=new_tokens, add_special_tokens=False)
    started = time.perf_counter()
    out = backend.generate([request])
    seconds = time.perf_counter() - started
    if out[0].output_tokens != new_tokens:  # a pad-token id among the outputs is dropped by the backend's count
        print(f"  note: asked {new_tokens} new tokens, the backend counted {out[0].output_tokens}", file=sys.stderr)
    return seconds


def inference_cells(path: Path, attention: str, lengths: Sequence[int], new_tokens: int, device: str,
                    vocab_size: int, clock: Clock) -> list[Cell]:
    """Prefill and decode cells of one attention implementation through the hf backend."""
    cells = [Cell("inference", f"{attention} {kind}", length) for length in lengths for kind in ("prefill", "decode")]
    if clock.over():
        for cell in cells:
            cell.status = SKIPPED
        return cells
    from harness.core.backends.hf import HFBackend

    dtype = "bfloat16" if device.startswith("cuda") else "float32"
    try:
        backend = HFBackend(str(path), batch_size=1, dtype=dtype, device=device, attn_implementation=attention)
    except Exception as error:  # noqa: BLE001  # e.g. flash-attn present but not for this GPU: say so, go on
        for cell in cells:
            cell.status = OOM if is_oom(error) else f"error: {str(error).splitlines()[0][:120]}"
        free_memory()
        return cells
    measure_lengths(backend, cells, lengths, new_tokens, vocab_size, clock)
    del backend
    free_memory()
    return cells


def measure_lengths(backend: Any, cells: list[Cell], lengths: Sequence[int], new_tokens: int, vocab_size: int,
                    clock: Clock) -> None:
    """Fill the prefill and decode `cells` of each length with `backend` (after one short warm-up generation)."""
    generate_seconds(backend, prompt_text(16, vocab_size, seed=-1), 2)  # CUDA context, kernels
    prefill: dict[int, float] = {}
    for length in lengths:
        text = prompt_text(length, vocab_size, seed=length)

        def measure_prefill(text: str = text, length: int = length) -> tuple[float, str]:
            prefill[length] = generate_seconds(backend, text, 1)
            return length / prefill[length], f"{prefill[length]:.3f} s to first token"

        def measure_decode(text: str = text, length: int = length) -> tuple[float, str]:
            seconds = generate_seconds(backend, text, 1 + new_tokens)
            return new_tokens / max(seconds - prefill[length], 1e-9), f"{seconds:.3f} s for 1+{new_tokens} tokens"

        pre, dec = [c for c in cells if c.length == length]
        run_cell(pre, clock, measure_prefill)
        if pre.status == "ok":
            run_cell(dec, clock, measure_decode)
        else:  # decoding needs the prefill's time, and a prefill that did not fit leaves nothing to decode
            dec.status = pre.status


def synthetic_examples(length: int, count: int, vocab_size: int, seed: int) -> list[Any]:
    """`count` examples of L/8 to L/2 random tokens (ids 1 and up), every token a label."""
    from harness.train.data import Example

    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        ids = [rng.randrange(1, vocab_size) for _ in range(rng.randint(max(2, length // 8), max(2, length // 2)))]
        examples.append(Example(input_ids=ids, labels=list(ids)))
    return examples


def train_tokens_per_second(path: Path, length: int, packing: bool, examples: list[Any], tokenizer: Any,
                            padded_batch: int) -> tuple[float, str]:
    """One epoch of `examples` through the trainer (packed sequences of `length`, or padded batches): real tokens
    per second after the first step."""
    from transformers import ProgressCallback, TrainerCallback

    from harness.train.spec import Stage, TrainSpec
    from harness.train.trainer import build_dataset, load_model, make_trainer

    spec = TrainSpec(model=str(path), data="synthetic", stages=(Stage(length, 1),), packing=packing,
                     batch_size=1 if packing else padded_batch, gradient_checkpointing=True, learning_rate=1e-5,
                     warmup_ratio=0.0)
    model = load_model(str(path), spec, spec.stages[0])
    dataset, collator, packed_share = build_dataset(examples, tokenizer, spec, spec.stages[0])
    counts: list[tuple[int, int]] = []  # (real tokens, token slots) per batch, in the order the steps take them

    def counting(batch: list[dict[str, Any]]) -> dict[str, Any]:
        features: dict[str, Any] = collator(batch)
        ids = features["input_ids"]
        counts.append((int((ids != tokenizer.pad_token_id).sum()) if not packing else ids.numel(), ids.numel()))
        return features

    step_ends: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            import torch

            if torch.cuda.is_available():
                torch.cuda.synchronize()
            step_ends.append(time.perf_counter())
            return control

    steps = len(dataset) if packing else -(-len(dataset) // padded_batch)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(model, dataset, counting, spec, Stage(length, steps), Path(tmp))
        trainer.args.save_strategy = "no"
        trainer.remove_callback(ProgressCallback)  # no progress bar, no printed logs
        trainer.add_callback(StepClock())
        try:
            trainer.train()
        finally:
            del trainer, model
    if len(step_ends) < 2:
        raise RuntimeError(f"{len(step_ends)} optimizer step(s): need 2 or more (use more examples)")
    real = sum(c[0] for c in counts[1 : len(step_ends)])
    slots = sum(c[1] for c in counts[1 : len(step_ends)])
    seconds = step_ends[-1] - step_ends[0]
    share = packed_share if packing else real / slots  # packed: real tokens over L x sequences (all of them)
    return real / seconds, f"{len(step_ends) - 1} timed steps, real-token share {share:.1%}"


def train_cells(path: Path, lengths: Sequence[int], examples_per_cell: int, padded_batch: int, vocab_size: int,
                clock: Clock) -> list[Cell]:
    from harness.core.backends.hf import load_tokenizer

    tokenizer = load_tokenizer(str(path))
    cells = []
    for length in lengths:
        examples = synthetic_examples(length, examples_per_cell, vocab_size, seed=length)
        for packing in (True, False):
            cell = Cell("train", "packed" if packing else f"padded x{padded_batch}", length)

            def measure(packing: bool = packing, examples: list[Any] = examples, length: int = length) -> tuple[float, str]:
                return train_tokens_per_second(path, length, packing, examples, tokenizer, padded_batch)

            cells.append(run_cell(cell, clock, measure))
            free_memory()
    return cells


# -- reporting ----------------------------------------------------------------------------------------

def length_name(tokens: int) -> str:
    return f"{tokens // 1024}k" if tokens % 1024 == 0 and tokens >= 1024 else str(tokens)


def markdown(cells: Sequence[Cell], title: str) -> str:
    lines = [f"**{title}**", "", "| part | setting | length | tokens/s | peak GiB | note |", "|---|---|---|---|---|---|"]
    for cell in cells:
        value = f"{cell.value:,.0f}" if cell.status == "ok" and cell.value is not None else cell.status
        peak = "-" if cell.peak_gib is None else f"{cell.peak_gib:.1f}"
        lines.append(f"| {cell.part} | {cell.setting} | {length_name(cell.length)} | {value} | {peak} | {cell.detail} |")
    return "\n".join(lines)


def attentions(device: str) -> list[str]:
    """sdpa always; flash_attention_2 on CUDA when the flash_attn package is importable."""
    found = device.startswith("cuda") and importlib.util.find_spec("flash_attn") is not None
    return ["sdpa", "flash_attention_2"] if found else ["sdpa"]


def parse_lengths(text: str) -> list[int]:
    from harness.core.lengths import parse_length

    return [parse_length(part.strip()) for part in text.split(",") if part.strip()]


def environment(device: str) -> dict[str, Any]:
    import torch
    import transformers

    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") and torch.cuda.is_available() else None
    return {"device": device, "gpu": gpu, "torch": torch.__version__, "transformers": transformers.__version__,
            "python": platform.python_version(), "flash_attn": importlib.util.find_spec("flash_attn") is not None}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    clock = Clock(args.budget_s)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    vocab = PRESETS[args.preset]["vocab_size"]
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        path = save_random_model(args.preset, Path(tmp) / args.preset, device)
        print(f"{args.preset}: saved in {clock.elapsed():.1f} s", file=sys.stderr)
        for attention in attentions(device):
            cells += inference_cells(path, attention, parse_lengths(args.lengths), args.new_tokens, device, vocab, clock)
        cells += train_cells(path, parse_lengths(args.train_lengths), args.train_examples, args.padded_batch, vocab, clock)
    return {"preset": args.preset, "config": PRESETS[args.preset], "new_tokens": args.new_tokens,
            "budget_s": args.budget_s, "elapsed_s": round(clock.elapsed(), 1), "environment": environment(device),
            "cells": [asdict(cell) for cell in cells]}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="1b")
    parser.add_argument("--device", default=None, help="hf backend device (default: cuda when available); the "
                        "trainer picks its own (CUDA when available), as `harness train` does")
    parser.add_argument("--lengths", default=DEFAULT_LENGTHS, help="prompt lengths of the inference cells")
    parser.add_argument("--train-lengths", default=DEFAULT_TRAIN_LENGTHS, help="sequence lengths of the training cells")
    parser.add_argument("--new-tokens", type=int, default=64, help="decoded tokens per decode cell")
    parser.add_argument("--train-examples", type=int, default=8, help="synthetic examples per training cell")
    parser.add_argument("--padded-batch", type=int, default=2, help="examples per padded batch")
    parser.add_argument("--budget-s", type=float, default=360.0, help="cells starting later are skipped")
    parser.add_argument("--json", type=Path, default=None, help="write the cells and environment here")
    args = parser.parse_args(argv)
    result = run(args)
    cells = [Cell(**c) for c in result["cells"]]
    env = result["environment"]
    title = (f"bench/gpu.py --preset {args.preset}: random Llama ({env['gpu'] or env['device']}, torch {env['torch']}, "
             f"transformers {env['transformers']}; {result['elapsed_s']} s)")
    print(markdown(cells, title))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
