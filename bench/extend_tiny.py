"""The science loop on a laptop: extend the built-in `tiny` (pretrained at 512 tokens) to 2k with
linear, YaRN and theta RoPE scaling (plus a no-scaling control), and score each on niah_single_1 at
512-4k. Prints a Markdown table (the README's). Everything runs through the product itself:
`harness train` and `harness eval` in-process.

    .venv/bin/python bench/extend_tiny.py [--steps 600] [--limit 30] [--out runs/extend-tiny]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness.core.backends.hf import HFBackend, load_tokenizer
from harness.core.lengths import format_length
from harness.core.models import BUILTINS
from harness.runner import EvalConfig, evaluate
from harness.train.rope import parse_rope
from harness.train.spec import Stage, TrainSpec
from harness.train.tiny import retrieval_records
from harness.train.trainer import train

LENGTHS = [512, 1024, 2048, 4096]
VARIANTS = {"none (control)": None, "linear:4": "linear:4", "yarn:4": "yarn:4", "theta:1e6": "theta:1e6"}


def scores(model: str, out: Path, limit: int, tasks: list[str], lengths: list[int],
           max_length: int) -> dict[str, dict[int, float]]:
    """Each task's score at each length: `model` evaluated in-process (hf, batch 8), written to `out`."""
    backend = HFBackend(model, batch_size=8, max_length=max_length)
    config = EvalConfig(model=model, tasks=tasks, lengths=lengths, limit=limit)
    _, result = evaluate(config, backend, out, None)
    return {task: {length: result.results[task][str(length)]["score"] for length in lengths} for task in tasks}


def score(model: str, out: Path, limit: int) -> dict[int, float]:
    return scores(model, out, limit, ["niah_single_1"], LENGTHS, max(LENGTHS))["niah_single_1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("runs/extend-tiny"))
    args = parser.parse_args()

    base = BUILTINS["tiny"].ensure()
    args.out.mkdir(parents=True, exist_ok=True)
    data = args.out / "data-2k.jsonl"
    if not data.exists():
        records = retrieval_records(load_tokenizer(str(base)), 4000, seed=7000, lengths=(512, 1024, 1536, 2048))
        data.write_text("".join(json.dumps(r) + "\n" for r in records))
    rows = {"tiny (512, no extension)": (score(str(base), args.out / "eval-base", args.limit), 0.0)}
    for name, rope in VARIANTS.items():
        spec = TrainSpec(model=str(base), data=str(data), stages=(Stage(2048, args.steps),),
                         rope=parse_rope(rope) if rope else None, learning_rate=1e-3, warmup_ratio=0.05, save_steps=200)
        started = time.perf_counter()
        trained = train(spec, args.out / name.split()[0].replace(":", "-"))
        minutes = (time.perf_counter() - started) / 60
        rows[f"+ 2k, {name}"] = (score(str(trained), args.out / f"eval-{trained.name}", args.limit), minutes)
    print(f"niah_single_1, {args.limit} samples per cell; fine-tuning {args.steps} steps at 2k on 2 CPU cores\n")
    print("| model | " + " | ".join(format_length(n) for n in LENGTHS) + " | train min |")
    print("| --- | " + " | ".join("---" for _ in LENGTHS) + " | --- |")
    for name, (scores, minutes) in rows.items():
        print(f"| {name} | " + " | ".join(f"{scores[n]:.1f}" for n in LENGTHS) + f" | {minutes:.1f} |")


if __name__ == "__main__":
    main()
