"""Packing against padded batches: tokens/s and the share of real (non-pad) tokens.

Same data (the tiny model's generated retrieval examples, 60-512 tokens) and the same model
(`tiny-random`), one epoch each through the project's trainer (transformers Trainer underneath):
packed = best-fit bins of 512 tokens flattened with position ids; padded = batches of 4 examples
padded to the longest (length-unsorted, as a plain DataLoader gives them).

    .venv/bin/python bench/train.py [--examples 400] [--length 512] [--batch-size 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.core.backends.hf import load_tokenizer
from harness.core.models import BUILTINS
from harness.train.data import pack, prepare, real_token_share
from harness.train.spec import Stage, TrainSpec
from harness.train.tiny import retrieval_records
from harness.train.trainer import build_dataset, load_model, make_trainer


def run(spec: TrainSpec, examples, tokenizer, steps: int) -> float:  # type: ignore[no-untyped-def]
    stage = spec.stages[0]
    model = load_model(spec.model, spec, stage)
    dataset, collator, _ = build_dataset(examples, tokenizer, spec, stage)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(model, dataset, collator, spec, Stage(stage.length, steps), Path(tmp))
        trainer.args.save_strategy = "no"
        trainer.args.disable_tqdm = True
        started = time.perf_counter()
        trainer.train()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()

    base = str(BUILTINS["tiny-random"].ensure())
    tokenizer = load_tokenizer(base)
    records = retrieval_records(tokenizer, args.examples, seed=5000)
    examples, _ = prepare(records, tokenizer, args.length)
    lengths = [len(e.input_ids) for e in examples]
    real = sum(lengths)

    common = dict(model=base, data="generated", stages=(Stage(args.length, 1),), learning_rate=1e-3)
    packed_spec = TrainSpec(**common, packing=True)  # type: ignore[arg-type]
    bins = pack(lengths, args.length, seed=0)
    packed_s = run(packed_spec, examples, tokenizer, len(bins))
    packed_share = real_token_share(lengths, bins, args.length)

    padded_spec = TrainSpec(**common, packing=False, batch_size=args.batch_size)  # type: ignore[arg-type]
    batches = [lengths[i : i + args.batch_size] for i in range(0, len(lengths), args.batch_size)]
    padded_slots = sum(max(b) * len(b) for b in batches)
    padded_s = run(padded_spec, examples, tokenizer, len(batches))

    print(f"{len(examples)} examples, {real} real tokens, lengths {min(lengths)}-{max(lengths)}, tiny-random on CPU")
    print(f"packed: {len(bins)} sequences of {args.length}: real-token share {packed_share:.1%}, "
          f"{real / packed_s:,.0f} real tokens/s ({packed_s:.1f} s)")
    print(f"padded: {len(batches)} batches of {args.batch_size}: real-token share {real / padded_slots:.1%}, "
          f"{real / padded_s:,.0f} real tokens/s ({padded_s:.1f} s)")
    print(f"packing speed-up: {padded_s / packed_s:.2f}x")


if __name__ == "__main__":
    main()
