"""One writer per synthesis output: a second `harness synth run` (or `run_plugin`) into the same `--out` is
refused at once with one line naming the directory and the holder; the lock dies with its process (kill -9
included), and a rerun after the first finished writes the same data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.core.errors import HarnessError
from harness.core.outputs import lock_output
from harness.synth.context import SynthContext
from harness.synth.plugin import Record, SynthPlugin
from harness.synth.run import run_plugin
from tests.clirun import lock_then_kill_9

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CountConfig:
    records: int = 3


class Counting(SynthPlugin):
    """Yields `records` records; `gate` (when set) holds it after the first, until released."""

    name = "counting"
    Config = CountConfig
    uses_generator = False

    def __init__(self, entered: threading.Event | None = None, release: threading.Event | None = None) -> None:
        super().__init__()
        self.entered, self.release = entered, release

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        for i in range(config.records):
            yield Record(f"r{i}", ({"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}))
            if i == 0 and self.entered is not None and self.release is not None:
                self.entered.set()
                self.release.wait(60)


def test_a_second_writer_is_refused_while_the_first_runs_and_a_rerun_after_it_finishes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    entered, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def first() -> None:
        try:
            run_plugin(Counting(entered, release), CountConfig(), None, [], out)
        except BaseException as error:  # pragma: no cover - reported below
            failure.append(error)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(60), "the first run never started"
        with pytest.raises(HarnessError, match="another harness synth run") as refused:
            run_plugin(Counting(), CountConfig(), None, [], out)
        assert str(out) in str(refused.value) and f"pid {os.getpid()}" in str(refused.value) and "\n" not in str(refused.value)
    finally:
        release.set()
        thread.join(60)
    assert not failure, failure
    written = (out / "data.jsonl").read_bytes()
    assert [json.loads(line)["id"] for line in written.decode().splitlines()] == ["r0", "r1", "r2"]

    stats = run_plugin(Counting(), CountConfig(), None, [], out)  # the lock went with the first run
    assert stats["records"] == 3 and (out / "data.jsonl").read_bytes() == written


@pytest.mark.slow
def test_harness_synth_run_in_another_process_is_refused_with_one_line(tmp_path: Path, tiny_path: Path) -> None:
    """The real command while another process holds `--out`: exit 2, one line naming the directory and the
    holder, no traceback, nothing written."""
    out = tmp_path / "out"
    config = tmp_path / "needles.json"
    config.write_text(json.dumps({"tokenizer": str(tiny_path), "examples": 2, "lengths": [256], "tasks": ["niah_single_1"]}))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with lock_output(out, "harness train", "--output"):
        done = subprocess.run([sys.executable, "-m", "harness", "synth", "run", "needles", "--config", str(config),
                               "--out", str(out)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and str(out) in lines[0] and "another harness train (pid" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (out / "data.jsonl").exists() and not (out / "data.jsonl.partial").exists()


def test_a_holder_killed_with_9_leaves_no_lock_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    lock_then_kill_9(out, "harness synth run", "--out")
    assert run_plugin(Counting(), CountConfig(), None, [], out)["records"] == 3
