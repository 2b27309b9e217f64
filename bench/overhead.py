"""Harness overhead: `harness eval`'s wall time against the bare backend's for the same generations.

Runs niah_single_1 on the built-in SmolLM2-135M with the hf backend. "Bare" is transformers alone:
tokenize the exact rendered prompts, `model.generate` greedily with the same settings and batch,
decode. "Harness" is the whole `evaluate`: build and size samples, schedule, generate, score, write
the JSONL log, results.json and the database row. Model loading is excluded from both.

    .venv/bin/python bench/overhead.py [--n 20] [--length 1024] [--batch-size 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from harness.core.backends.hf import HFBackend
from harness.core.models import BUILTINS
from harness.core.prompt import PromptFormat
from harness.runner import EvalConfig, evaluate
from harness.store import Store
from harness.tasks import get_task


def bare_generate(backend: HFBackend, texts: list[str], max_new: int, batch: int, special: bool) -> float:
    """transformers alone: tokenize, generate, decode. Returns seconds."""
    tok, model = backend.tokenizer, backend.model
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        enc = tok(texts[start : start + batch], return_tensors="pt", padding=True, add_special_tokens=special)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
        tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    backend = HFBackend(str(BUILTINS["smollm2-135m"].ensure()), batch_size=args.batch_size, dtype="float32")
    task = get_task("niah_single_1")
    fmt = PromptFormat.create(backend.tokenizer, "auto")
    samples = task.samples(fmt, args.length, args.n, seed=42)
    texts = [fmt.render(s.prompt, s.answer_prefix) for s in samples]
    # Longest first, as the runner schedules; warm up once.
    texts.sort(key=lambda t: -len(backend.tokenizer(t)["input_ids"]))
    bare_generate(backend, texts[:1], task.max_new_tokens, 1, not fmt.chat)

    bare_times, harness_times = [], []
    for _ in range(args.repeats):
        bare_times.append(bare_generate(backend, texts, task.max_new_tokens, args.batch_size, not fmt.chat))
        with tempfile.TemporaryDirectory() as tmp:
            config = EvalConfig(model="smollm2-135m", tasks=["niah_single_1"], lengths=[args.length], limit=args.n)
            started = time.perf_counter()
            evaluate(config, backend, Path(tmp) / "out", Store(Path(tmp) / "db.sqlite"))
            harness_times.append(time.perf_counter() - started)
    bare, harness = min(bare_times), min(harness_times)
    print(f"SmolLM2-135M, niah_single_1 at {args.length} tokens, {args.n} samples, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, best of {args.repeats}")
    print(f"bare transformers: {bare:.2f} s")
    print(f"harness eval:      {harness:.2f} s")
    print(f"overhead:          {100 * (harness / bare - 1):+.1f}%")


if __name__ == "__main__":
    main()
