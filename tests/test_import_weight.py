"""What the fast commands import: `harness --help`, `harness eval --help`, resolving `--tasks` and listing tasks
load no heavy library (torch, transformers, scipy, datasets) and no more task modules than they build. Checked on
`sys.modules` in a fresh interpreter (start-up times are in the README: timing asserts would be flaky here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers", "scipy", "datasets", "vllm", "openai", "sklearn")


def modules_after(code: str) -> set[str]:
    """The top-level packages and `harness.*` modules imported once `code` has run in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def cli(*argv: str) -> str:
    """`harness ARGV` in the probe process, its output discarded (help exits through SystemExit)."""
    return ("import contextlib, io, sys\nfrom harness.cli import main\n"
            f"sys.argv = ['harness', *{list(argv)!r}]\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main()\n    except SystemExit:\n        pass")


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def task_modules(modules: set[str]) -> list[str]:
    """The benchmark modules imported (harness.tasks.<benchmark>.*), not the shared task machinery."""
    return sorted(m for m in modules if m.count(".") >= 3 and m.startswith("harness.tasks."))


@pytest.mark.parametrize("argv", [["--help"], ["eval", "--help"], ["tasks", "--help"]], ids=" ".join)
def test_help_imports_nothing_heavy_and_no_task(argv: list[str]) -> None:
    modules = modules_after(cli(*argv))
    assert not heavy(modules) and not task_modules(modules)


def test_resolving_tasks_imports_no_task_module() -> None:
    modules = modules_after("import harness.cli\nfrom harness.tasks import GROUPS, resolve\n"
                            "resolve(['ruler', 'mmlu', 'longbench_e', 'infinitebench', 'gsm8k'])\nGROUPS.items()")
    assert not heavy(modules) and not task_modules(modules)


def test_building_a_task_imports_only_its_benchmark() -> None:
    modules = modules_after("from harness.tasks import get_task\nget_task('niah_single_1')")
    assert {m.split(".")[2] for m in task_modules(modules)} == {"ruler"} and not heavy(modules)


@pytest.mark.parametrize("argv", [["tasks"], ["tasks", "ruler"], ["eval", "--tasks", "list"]], ids=" ".join)
def test_listing_tasks_imports_nothing_heavy(argv: list[str]) -> None:
    assert not heavy(modules_after(cli(*argv)))


def test_loading_a_tokenizer_imports_no_torch(tiny_path: Path) -> None:
    """A built model's tokenizer (what sample building needs) loads without torch (~3 s to import)."""
    modules = modules_after(f"from harness.core.backends.hf import load_tokenizer\nload_tokenizer({str(tiny_path)!r})")
    assert "tokenizers" in modules and "torch" not in modules
