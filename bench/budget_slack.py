"""Budget slack: how far under its length budget each RULER task and essay niah lands.

For every task x length, builds N samples as `harness eval` would (the model's tokenizer, chat
template by `--chat-template auto`, exact token counts) and prints the worst and the median of
`task.prompt_budget(length) - prompt_tokens`, the tokens a sample leaves of its prompt budget
(the length minus the task's generation budget) unused. Run by hand, not a test:

    .venv/bin/python bench/budget_slack.py [--model smollm2-135m|tiny] [--n 20] [--n-32k 8] [--lengths 4k,8k,16k,32k]

qa_1 / qa_2 read `<data dir>/squad.json` and `hotpotqa.json` when present (else the hub). Offline and
without them, `--synthetic-qa` writes files of the original formats (tests/tasks/ruler/qa_fixtures.py,
scaled up to SQuAD / HotpotQA dev's document counts) and the table says so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness.core.lengths import format_length, parse_lengths
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from harness.tasks.ruler.tasks import ROWS

ROOT = Path(__file__).resolve().parents[1]


def tokenizer_of(model: str):  # type: ignore[no-untyped-def]
    """The built-in model's tokenizer, without building its weights where that can be avoided."""
    if model == "smollm2-135m":
        from harness.core.models.smollm2 import load_gguf_tokenizer

        return load_gguf_tokenizer()
    from harness.core.backends.hf import load_tokenizer
    from harness.core.models import BUILTINS

    return load_tokenizer(str(BUILTINS[model].ensure()))


def synthetic_qa_dir(essays: Path) -> Path:
    """A data dir with the essays and SQuAD / HotpotQA files of the original formats, scaled to
    the real dev sets' size (SQuAD 2.0 dev: 35 articles, 1204 paragraphs; HotpotQA distractor dev:
    7,405 questions of 10 paragraphs; these paragraphs are all distinct, 74,050 documents). The corpus
    size matters: qa's generators, RULER's and ours, walk or draw from it for every sample."""
    sys.path.insert(0, str(ROOT))
    from tests.tasks.ruler.qa_fixtures import write_hotpotqa, write_squad

    root = Path(tempfile.mkdtemp(prefix="budget-slack-"))
    (root / "pg_essays").symlink_to(essays.resolve())
    write_squad(root / "squad.json", articles=35, paragraphs=34)
    write_hotpotqa(root / "hotpotqa.json", questions=7405)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m", help="built-in model whose tokenizer sizes the prompts")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=20, help="samples per task and length")
    parser.add_argument("--n-32k", type=int, default=8, help="samples per task at 32k and above")
    parser.add_argument("--lengths", default="4k,8k,16k,32k")
    parser.add_argument("--tasks", default=",".join([*ROWS, "niah"]))
    parser.add_argument("--synthetic-qa", action="store_true", help="generated SQuAD/HotpotQA-format files for qa_1/qa_2")
    parser.add_argument("--task-args", default="", help="k=v,... passed to every task (e.g. placement=per_sample)")
    args = parser.parse_args()

    started = time.perf_counter()
    tokenizer = tokenizer_of(args.model)
    data_dir = synthetic_qa_dir(args.data_dir / "pg_essays") if args.synthetic_qa else args.data_dir
    task_args = dict(kv.split("=", 1) for kv in args.task_args.split(",") if kv)
    options = TaskOptions(data_dir=data_dir, args=task_args)
    lengths = parse_lengths(args.lengths)
    shared = PromptFormat.create(tokenizer, "auto")
    qa_note = " (qa: synthetic files of SQuAD/HotpotQA format)" if args.synthetic_qa else ""
    print(f"tokenizer {args.model}, chat template {'on' if shared.chat else 'off'}{qa_note}; "
          f"slack = prompt budget (length - generation budget) - prompt_tokens, worst / median over n samples")
    print("| task | " + " | ".join(format_length(n) for n in lengths) + " |")
    print("| --- |" + " --- |" * len(lengths))
    for name in args.tasks.split(","):
        task = get_task(name, options)
        fmt = PromptFormat.create(tokenizer, "auto", task.chat, costs=shared.costs)
        cells = []
        for length in lengths:
            n = args.n if length < 32 * 1024 else args.n_32k
            samples = task.samples(fmt, length, n, seed=42)
            slack = [task.prompt_budget(length) - s.prompt_tokens for s in samples]
            assert min(slack) >= 0, f"{name} at {length}: a sample is over budget"
            cells.append(f"{max(slack)} / {statistics.median(slack):g}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"n = {args.n} per cell ({args.n_32k} at 32k and above), seed 42; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
