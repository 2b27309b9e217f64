"""RULER sample building speed: ours (in-process) vs NVIDIA/RULER's own generator, per task.

For every RULER task and length, builds N samples with SmolLM2's tokenizer both ways:

- ours: a fresh process per task x length (so no cache carries over), timed in-process from
  `get_task` to the last sample: essay split, word pools, unit costs and exact sizing included,
  the tokenizer load not (RULER's is subtracted too, below).
- RULER: `scripts/data/synthetic/<family>.py` of a RULER checkout, run as its `prepare.py` runs it
  (the task's `synthetic.yaml` args, `--tokenizer_type hf`, the base template plus answer prefix,
  seed 42), in its own Python environment. Its wall time less a baseline process that only loads
  the same tokenizer is its generation time (the libraries a generator imports count, as ours).

The data both read: the essays (`<data dir>/pg_essays`, concatenated in file-name order into the
checkout's `json/PaulGrahamEssays.json`) and SQuAD / HotpotQA files of the original formats written
by tests/tasks/ruler/qa_fixtures.py (scaled to the dev sets' sizes) into both; a checkout without
Git LFS gets ours' large word list as `english_words.json` (cwe past ~8k words). nltk's punkt data
may be absent offline: RULER's `sent_tokenize` is then replaced by untrained Punkt, as ours uses.
vt runs with `--add_fewshot` (ours always leads with RULER's in-context example). Both sides' modules
are byte-compiled first, as an installed package is (pip compiles on install): where
PYTHONDONTWRITEBYTECODE is set, an editable checkout would otherwise compile its sources in every
process (~17 ms of ours at qa 4k x 10). Run by hand:

    .venv/bin/python bench/ruler_speed.py --ruler-dir /tmp/ruler-ref --ruler-python /tmp/ruler-venv/bin/python \
        [--lengths 4k,32k] [--n 10] [--repeat 3] [--tasks cwe,fwe] [--ours-only]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
         "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2")

# A fresh process of ours: load the tokenizer, then time get_task + samples (prints seconds as JSON).
OURS = """
import json, sys, time
from pathlib import Path
from harness.core.backends.hf import load_tokenizer
from harness.core.prompt import PromptFormat
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
tokenizer_dir, data_dir, name, length, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
tokenizer = load_tokenizer(tokenizer_dir)
started = time.perf_counter()
task = get_task(name, TaskOptions(data_dir=data_dir))
samples = task.samples(PromptFormat.create(tokenizer, "auto", task.chat), length, n, seed=42)
print(json.dumps({"seconds": time.perf_counter() - started, "tokens": [s.prompt_tokens for s in samples]}))
"""

# RULER's tokenizer load, subtracted from its wall time as ours is left out of our timing; the
# libraries each generator needs besides (nltk, wonderwords, scipy) count on both sides.
BASELINE = """
import sys
from transformers import AutoTokenizer
AutoTokenizer.from_pretrained(sys.argv[1], trust_remote_code=True)
"""

# Runs one RULER script: nltk's sent_tokenize falls back to untrained Punkt without punkt data.
RUNNER = """
import runpy, sys
import nltk, nltk.tokenize
try:
    nltk.data.find("tokenizers/punkt_tab")
except LookupError:
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    nltk.tokenize.sent_tokenize = lambda text, language="english": PunktSentenceTokenizer().tokenize(text)
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[:0] = [str(__import__("pathlib").Path(script).parent), str(__import__("pathlib").Path(script).parents[1])]
runpy.run_path(script, run_name="__main__")
"""


def parse_lengths(text: str) -> list[int]:
    from harness.core.lengths import parse_lengths as parse

    return parse(text)


def data_dir(essays: Path) -> Path:
    """Essays plus SQuAD / HotpotQA-format files scaled to the dev sets (as bench/budget_slack.py)."""
    sys.path.insert(0, str(ROOT))
    from bench.budget_slack import synthetic_qa_dir

    return synthetic_qa_dir(essays)


def prepare_reference(ruler_dir: Path, data: Path) -> None:
    """Put the same essays and QA files where RULER's scripts read them (`synthetic/json/`)."""
    target = ruler_dir / "scripts" / "data" / "synthetic" / "json"
    text = "".join(f.read_text(encoding="utf-8") for f in sorted((data / "pg_essays").glob("*.txt")))
    (target / "PaulGrahamEssays.json").write_text(json.dumps({"text": text}))
    for name in ("squad.json", "hotpotqa.json"):
        shutil.copyfile(data / name, target / name)
    words = target / "english_words.json"
    if words.read_bytes().startswith(b"version https://git-lfs"):  # a checkout without LFS: ours' large word list
        from harness.tasks.ruler.words import large_word_pool

        words.write_text(json.dumps({w: w for w in large_word_pool()}))


def ruler_command(ruler_dir: Path, python: str, runner: Path, task: str, tokenizer: str, length: int, n: int,
                  out: Path) -> list[str]:
    """RULER's generator for `task`, with the arguments its `prepare.py` gives (base template)."""
    import yaml

    scripts = ruler_dir / "scripts"
    config = yaml.safe_load((scripts / "synthetic.yaml").read_text())[task]
    family = config["task"]
    spec = _reference_templates(scripts)[family]
    argv = [python, str(runner), str(scripts / "data" / "synthetic" / f"{family}.py"),
            "--save_dir", str(out), "--save_name", task, "--subset", "validation",
            "--tokenizer_path", tokenizer, "--tokenizer_type", "hf", "--max_seq_length", str(length),
            "--tokens_to_generate", str(spec["tokens_to_generate"]), "--num_samples", str(n), "--random_seed", "42",
            "--template", spec["template"] + spec.get("answer_prefix", "")]
    for key, value in config["args"].items():
        argv += [f"--{key}", str(value)]
    if family == "qa":
        argv += ["--pre_samples", "0"]
    if family == "variable_tracking":
        argv += ["--add_fewshot"]
    return argv


def _reference_templates(scripts: Path) -> dict[str, dict[str, object]]:
    """RULER's TASKS table (synthetic/constants.py), read without importing the checkout."""
    namespace: dict[str, object] = {}
    exec((scripts / "data" / "synthetic" / "constants.py").read_text(), namespace)  # noqa: S102 - a checked-out file
    tasks: dict[str, dict[str, object]] = namespace["TASKS"]  # type: ignore[assignment]
    return tasks


PACKAGE_DIRS = ("harness", "tasks", "synth", "leaderboards")  # compileall does not follow harness/'s links


def byte_compile(python: str, folders: list[Path]) -> None:
    """Write the `__pycache__` of `folders` with `python` (each side's own interpreter)."""
    subprocess.run([python, "-m", "compileall", "-q", *map(str, folders)], check=True, capture_output=True)


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of a process and its stdout; its stderr is shown when it fails."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed:\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def ours(tokenizer: str, data: Path, task: str, length: int, n: int, cache: Path) -> float:
    """Seconds our generator takes for `n` samples, in a fresh process (tokenizer load excluded) whose
    cache dir is `cache`."""
    _, out = timed([sys.executable, "-c", OURS, tokenizer, str(data), task, str(length), str(n)], ROOT,
                   {**os.environ, "HARNESS_CACHE": str(cache)})
    seconds: float = json.loads(out.strip().splitlines()[-1])["seconds"]
    return seconds


def ours_cold_and_warm(tokenizer: str, data: Path, task: str, length: int, n: int, repeat: int) -> tuple[float, float]:
    """Ours in an empty cache dir (the first run on a machine: the data derived from the source files,
    the essays' sentence split and the parsed QA files, is built and kept), then the fastest of
    `repeat` runs that read it back."""
    cache = Path(tempfile.mkdtemp(prefix="ruler-speed-cache-"))
    try:
        cold = ours(tokenizer, data, task, length, n, cache)
        warm = min(ours(tokenizer, data, task, length, n, cache) for _ in range(repeat))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ruler-dir", type=Path, help="a checkout of NVIDIA/RULER (its json/ folder gets the data)")
    parser.add_argument("--ruler-python", default="python", help="a Python with RULER's requirements")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--tokenizer", help="tokenizer folder (default: the built smollm2-135m)")
    parser.add_argument("--lengths", default="4k,32k")
    parser.add_argument("--n", type=int, default=10, help="samples per task and length")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell and side; the fastest counts")
    parser.add_argument("--ours-only", action="store_true", help="skip the reference (no RULER checkout needed)")
    args = parser.parse_args()

    if args.tokenizer is None:
        from harness.core.models import BUILTINS

        args.tokenizer = str(BUILTINS["smollm2-135m"].ensure())
    data = data_dir(args.data_dir / "pg_essays")
    lengths = parse_lengths(args.lengths)
    reference = not args.ours_only
    if reference:
        if args.ruler_dir is None:
            raise SystemExit("--ruler-dir is required (or --ours-only)")
        prepare_reference(args.ruler_dir, data)
        runner = data / "run_ruler.py"
        runner.write_text(RUNNER)
    byte_compile(sys.executable, [ROOT / name for name in PACKAGE_DIRS])
    if reference:
        byte_compile(args.ruler_python, [args.ruler_dir / "scripts" / "data"])
    print(f"n = {args.n} samples per cell, SmolLM2's tokenizer, seed 42; seconds, fastest of {args.repeat}; "
          "ours: first run (empty cache dir) / cache warm")
    print("| task | length | ours, first run | ours | RULER wall | RULER baseline | RULER less baseline | ratio, first run "
          "| ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for task in args.tasks.split(","):
        for length in lengths:
            cold, mine = ours_cold_and_warm(args.tokenizer, data, task, length, args.n, args.repeat)
            if not reference:
                print(f"| {task} | {length} | {cold:.3f} | {mine:.3f} | | | | | |", flush=True)
                continue
            walls, baselines = [], []
            for _ in range(args.repeat):  # the baseline next to each run: a shared machine's load drifts
                baselines.append(timed([args.ruler_python, "-c", BASELINE, args.tokenizer], data)[0])
                with tempfile.TemporaryDirectory() as out:
                    walls.append(timed(ruler_command(args.ruler_dir, args.ruler_python, runner, task, args.tokenizer,
                                                     length, args.n, Path(out)), data)[0])
            wall, baseline = min(walls), min(baselines)
            theirs = wall - baseline
            print(f"| {task} | {length} | {cold:.3f} | {mine:.3f} | {wall:.2f} | {baseline:.2f} | {theirs:.2f} "
                  f"| {theirs / cold:.1f}x | {theirs / mine:.1f}x |", flush=True)
    if os.environ.get("RULER_SPEED_KEEP") is None:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
