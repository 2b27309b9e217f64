"""Sample building speed: 20 niah_single_2 (essay haystack) samples at 32k and 128k tokens.

End to end in a fresh process, as a user pays it: load SmolLM2's tokenizer, read and split the
essays, size every sample exactly (chat template and answer prefix included), no sample cache.
Prints the time per length and each sample's slack: the tokens it leaves of its prompt budget
(`Task.prompt_budget(length)`, the length minus the task's generation budget) unused.

    .venv/bin/python bench/samples.py --data-dir ../shared/data [--n 20] [--lengths 32k,128k]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.core.backends.hf import load_tokenizer
from harness.core.lengths import parse_lengths
from harness.core.models import BUILTINS
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--lengths", default="32k,128k")
    parser.add_argument("--task", default="niah_single_2")
    parser.add_argument("--verify", action="store_true", help="also count every prompt in full (slow)")
    args = parser.parse_args()

    started = time.perf_counter()
    tokenizer = load_tokenizer(str(BUILTINS["smollm2-135m"].ensure()))
    fmt = PromptFormat.create(tokenizer, "auto")
    task = get_task(args.task, TaskOptions(data_dir=args.data_dir))
    setup = time.perf_counter() - started
    print(f"{args.task} with SmolLM2's tokenizer (chat template {'on' if fmt.chat else 'off'}); "
          f"tokenizer load {setup:.2f} s")
    for length in parse_lengths(args.lengths):
        t0 = time.perf_counter()
        samples = task.samples(fmt, length, args.n, seed=42)
        elapsed = time.perf_counter() - t0
        slack = [task.prompt_budget(length) - s.prompt_tokens for s in samples]
        print(f"{length:>7} tokens: {args.n} samples in {elapsed:.2f} s ({elapsed / args.n * 1000:.0f} ms each); "
              f"slack min {min(slack)} max {max(slack)} mean {sum(slack) / len(slack):.1f} tokens "
              f"(worst {100 * max(slack) / length:.3f}% of the length)")
        if args.verify:
            exact = [fmt.count(s.prompt, s.answer_prefix) for s in samples]
            assert exact == [s.prompt_tokens for s in samples], "sizing was not exact"
            print("         every prompt re-counted in full: exact")
    print(f"total {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
