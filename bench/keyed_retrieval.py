"""Can the built-in `tiny` learn retrieval among same-kind distractors at its own trained length?

The context-composition and stepwise-extension reproductions (README) need a base that can pick one needle out of
other needles (niah_multikey_2: the haystack is needles with other keys). `tiny` (2 layers, 64 wide) retrieves a
lone needle in noise, and this script asks whether more pretraining at 512 tokens teaches it the keyed version:
it continues `tiny`'s pretraining on keyed drills (2-12 "special magic number" lines with distinct keys, a few
noise lines, one key asked back), niah_multikey_2 and niah_single_1 prompts at 256-512 tokens, a quarter each, then
scores niah_single_1 and niah_multikey_2 at 512 and 1k. Everything runs through the product (`train`, `evaluate`).

    .venv/bin/python bench/keyed_retrieval.py [--steps 16000] [--lr 2e-3] [--limit 30] [--out runs/keyed-retrieval]

`--layers 4 --steps 10000,10000` asks the other question: does a deeper tiny (4 layers, same width and tokenizer,
1.3x the compute) learn it when pretrained from a random start on `tiny`'s data and the keyed mix together?
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

from harness.core.backends.hf import load_tokenizer
from harness.core.models import BUILTINS
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.ruler.haystacks import NOISE_LINE
from harness.tasks.ruler.values import random_word_pair
from harness.train.spec import Stage, TrainSpec
from harness.train.tiny import TRAIN_SEED, init_model, retrieval_records
from harness.train.trainer import train

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["niah_single_1", "niah_multikey_2"]
LENGTHS = [512, 1024]
EXAMPLES = 30000
SEED = 3000  # sample seeds 7000+: disjoint from evaluation's default seed 42


def records(tokenizer: object, count: int = EXAMPLES) -> list[dict[str, str]]:
    """The continued-pretraining mix, a quarter each: drills of 2-6 keys, drills of 2-12 keys, niah_multikey_2 and
    niah_single_1 prompts at 256-512 tokens."""
    fmt = PromptFormat.create(tokenizer, "off")
    rng = random.Random(SEED)
    tasks = {name: get_task(name) for name in TASKS}
    out = []
    for i in range(count):
        kind = i % 4
        if kind < 2:
            keys_wanted = rng.randint(2, 6 if kind == 0 else 12)
            chosen: dict[str, None] = {}  # distinct keys in the order drawn (a set's order would vary by process)
            while len(chosen) < keys_wanted:
                chosen[random_word_pair(rng)] = None
            keys = list(chosen)
            numbers = [str(rng.randint(10**6, 10**7 - 1)) for _ in keys]
            lines = [f"One of the special magic numbers for {key} is: {number}." for key, number in zip(keys, numbers)]
            for _ in range(rng.randint(0, 3)):
                lines.insert(rng.randint(0, len(lines)), NOISE_LINE)
            asked = rng.randrange(keys_wanted)
            question = (f"What is the special magic number for {keys[asked]} mentioned in the provided text? "
                        f"The special magic number for {keys[asked]} mentioned in the provided text is")
            out.append({"prompt": "\n".join(lines) + "\n" + question, "completion": f" {numbers[asked]}."})
        else:
            task = tasks["niah_multikey_2" if kind == 2 else "niah_single_1"]
            sample = task.make_sample(fmt, rng.choice((256, 320, 384, 448, 512)), i, 7000 + i)
            out.append({"prompt": str(sample.prompt) + sample.answer_prefix,
                        "completion": " " + ", ".join(sample.targets) + "."})
    return out


def deeper_init(layers: int, target: Path) -> Path:
    """`tiny-random`'s architecture and tokenizer with `layers` layers, randomly initialised (its seed)."""
    tokenizer = load_tokenizer(str(BUILTINS["tiny-random"].ensure()))
    if not (target / "config.json").exists():
        init_model(tokenizer, num_hidden_layers=layers).save_pretrained(target)
        tokenizer.save_pretrained(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="16000", help="steps of each cosine cycle at 512 tokens, comma-separated")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--layers", type=int, default=0,
                        help="instead of continuing tiny: a tiny this deep from a random start, trained on tiny's "
                             "pretraining data and the keyed mix interleaved, 12,000 examples each")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path("runs/keyed-retrieval"))
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # run as a script, bench/ itself is first on the path (as bench/ruler_speed.py)
    from bench.extend_tiny import scores

    steps = [int(n) for n in args.steps.split(",")]
    tiny = BUILTINS["tiny"].ensure()
    args.out.mkdir(parents=True, exist_ok=True)
    start = deeper_init(args.layers, args.out / "init") if args.layers else tiny
    data = args.out / "data.jsonl"
    if not data.exists():
        tokenizer = load_tokenizer(str(start))
        if args.layers:
            mix = [r for pair in zip(retrieval_records(tokenizer, 12000, TRAIN_SEED), records(tokenizer, 12000))
                   for r in pair]
        else:
            mix = records(tokenizer)
        data.write_text("".join(json.dumps(r) + "\n" for r in mix))
    print(f"data sha256 {hashlib.sha256(data.read_bytes()).hexdigest()[:16]}", flush=True)
    spec = TrainSpec(model=str(start), data=str(data), stages=tuple(Stage(512, n) for n in steps),
                     learning_rate=args.lr, warmup_ratio=0.01 if args.layers else 0.02, save_steps=100000, seed=0)
    started = time.perf_counter()
    trained = train(spec, args.out / "run")
    seconds = time.perf_counter() - started
    name = (f"{args.layers}-layer tiny from scratch" if args.layers else "tiny") + f" + {'+'.join(map(str, steps))} steps"
    rows = {label: scores(str(model), args.out / out, args.limit, TASKS, LENGTHS, max_length=4096)
            for label, model, out in (("tiny", tiny, "eval-tiny"), (name, trained, "eval-trained"))}
    print(f"\ntraining: {seconds:.0f} s\n")
    print("| model | " + " | ".join(f"{t} {length}" for t in TASKS for length in LENGTHS) + " |")
    print("|---|" + "---|" * (len(TASKS) * len(LENGTHS)))
    for label, cells in rows.items():
        print(f"| {label} | " + " | ".join(f"{cells[t][length]:.1f}" for t in TASKS for length in LENGTHS) + " |")


if __name__ == "__main__":
    main()
