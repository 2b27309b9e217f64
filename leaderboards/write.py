"""A board's files, all or none: every file rendered in memory first, written into a staging folder
beside the output, then moved in (one rename for a new board; each file replaced atomically, after
all are written, over an existing one). A rendering or write that fails leaves the old board as it was."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from harness.core.errors import HarnessError
from harness.leaderboards.collect import Board
from harness.leaderboards.page import page
from harness.leaderboards.render import baseline_json, markdown, to_csv

BOARD_FILES = ("board.md", "board.csv", "index.html", "baseline.json")


def render_files(board: Board) -> dict[str, str]:
    """Each of BOARD_FILES' text."""
    return {"board.md": markdown(board), "board.csv": to_csv(board), "index.html": page(board),
            "baseline.json": baseline_json(board)}


def write_board(board: Board, out: Path) -> list[Path]:
    """Write BOARD_FILES into `out` (created if missing), all or none; returns their paths."""
    files = render_files(board)  # a rendering that fails raises here, before anything is written
    if out.exists() and not out.is_dir():
        raise HarnessError(f"--output {out}: is a file, not a directory")
    # beside the output (same file system, so the moves are renames); made by mkdir, so the umask applies
    staging = out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        staging.mkdir(parents=True)
    except OSError as error:
        raise HarnessError(f"--output {out}: cannot write there ({error.strerror or error})") from None
    moving = False
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        moving = True
        if not out.exists():
            staging.rename(out)
        else:
            for name in files:
                os.replace(staging / name, out / name)
    except OSError as error:
        kept = "some files may be new" if moving else "the files there are unchanged"
        raise HarnessError(f"--output {out}: writing the board failed ({error.strerror or error}); {kept}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in files]
