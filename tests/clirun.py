"""Run the `harness` CLI in this process, as a user's shell would, and capture what it prints."""

from __future__ import annotations

import sys

import pytest


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
