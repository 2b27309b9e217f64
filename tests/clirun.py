"""Run the `harness` CLI in this process, as a user's shell would, and capture what it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(argv: list[str], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`harness ARGV` in this process: (exit status, stdout, stderr)."""
    from harness.cli import main

    capfd.readouterr()
    old, sys.argv = sys.argv, ["harness", *argv]
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv = old
    out, err = capfd.readouterr()
    return code, out, err


def lock_then_kill_9(out: Path, command: str, flag: str) -> None:
    """A separate process takes the output lock of `command` on `out`, then dies by SIGKILL holding it."""
    code = ("import os, sys; from pathlib import Path; from harness.core.outputs import lock_output; "
            f"lock = lock_output(Path(sys.argv[1]), {command!r}, {flag!r}); print('held', flush=True); "
            "os.kill(os.getpid(), 9)")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == -9 and "held" in done.stdout, done.stderr
