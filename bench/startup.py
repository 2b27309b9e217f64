"""Start-up: a fresh `harness eval` to its first built sample vs a bare tokenizer load.

Three fresh processes, each timed from spawn (best of `--repeat`):

- bare: `AutoTokenizer.from_pretrained(<smollm2 folder>)`, what any tool pays to size a prompt;
- ours: `harness.core.backends.hf.load_tokenizer` of the same folder (no torch import for it);
- eval: `harness eval --model smollm2-135m --tasks niah_single_1 --lengths 1k --limit 1`, up to the
  moment its "building samples" progress bar reports the first cell done (read from stderr; the
  process is then stopped, nothing is generated). It runs in a scratch folder with an empty sample
  cache and database, the built model linked in.

    .venv/bin/python bench/startup.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = "import sys\nfrom transformers import AutoTokenizer\nAutoTokenizer.from_pretrained(sys.argv[1])"
OURS = "import sys\nfrom harness.core.backends.hf import load_tokenizer\nload_tokenizer(sys.argv[1])"
FIRST_CELL = re.compile(rb"building samples: [^\r\n|]*\|[^\r\n|]*\| *[1-9]\d*/\d+")


def wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds a process takes from spawn to exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env, timeout=600)
    return time.perf_counter() - started


def to_first_sample(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds from spawn until the eval's progress bar shows its first built cell; then stop it."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    seen = b""
    try:
        while chunk := os.read(process.stderr.fileno(), 4096):
            seen = seen[-4096:] + chunk
            if FIRST_CELL.search(seen):
                return time.perf_counter() - started
        raise SystemExit(f"harness eval ended (rc {process.wait()}) before a sample was built:\n"
                         f"{seen.decode(errors='replace')[-2000:]}")
    finally:
        process.kill()
        process.wait()


def scratch_env(model_cache: Path) -> tuple[Path, dict[str, str]]:
    """A scratch folder and environment: empty caches and database, the built models linked in."""
    root = Path(tempfile.mkdtemp(prefix="startup-"))
    (root / "cache").mkdir()
    (root / "cache" / "models").symlink_to(model_cache)
    env = {**os.environ, "HARNESS_CACHE": str(root / "cache"), "HARNESS_DB": str(root / "results.db")}
    return root, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from harness.core.models import BUILTINS

    folder = BUILTINS["smollm2-135m"].ensure()
    harness = str(Path(sys.executable).with_name("harness"))
    bare = min(wall([sys.executable, "-c", BARE, str(folder)]) for _ in range(args.repeat))
    ours = min(wall([sys.executable, "-c", OURS, str(folder)]) for _ in range(args.repeat))
    evals = []
    for _ in range(args.repeat):
        root, env = scratch_env(folder.parent)
        evals.append(to_first_sample([harness, "eval", "--model", "smollm2-135m", "--tasks", "niah_single_1",
                                      "--lengths", "1k", "--limit", "1", "--output", str(root / "out")], root, env))
    first = min(evals)
    print(f"bare AutoTokenizer load (fresh process):      {bare:.2f} s")
    print(f"harness load_tokenizer (fresh process):       {ours:.2f} s")
    print(f"harness eval to its first sample (fresh):     {first:.2f} s  = {first / bare:.1f}x the bare load, "
          f"{first / ours:.1f}x ours")


if __name__ == "__main__":
    main()
