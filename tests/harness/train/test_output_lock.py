"""One writer per training output: a second `harness train` (or `train`) into the same `--output` is refused
at once with one line naming the directory and the holder, before any model loads; the lock dies with its
process; a rerun after the first finished finds the run done; the ranks of one distributed launch share it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import HarnessError
from harness.core.outputs import lock_output
from harness.train.spec import TrainSpec, parse_stages
from tests.clirun import lock_then_kill_9

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("train") / "data.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"The code is {n}. The code is", "completion": f" {n}."}) + "\n"
                            for n in range(1000, 1016)))
    return path


def test_a_second_train_is_refused_while_the_first_runs_and_a_rerun_finds_it_done(
        tiny_path: Path, data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import harness.train.trainer as trainer_module

    out = tmp_path / "out"
    spec = TrainSpec(model="tiny-random", data=str(data_file), stages=parse_stages("128:2"), save_steps=1)
    entered, release = threading.Event(), threading.Event()
    make_trainer = trainer_module.make_trainer

    def held_trainer(*args: Any, **kwargs: Any) -> Any:  # the first run, stopped inside its stage
        entered.set()
        release.wait(60)
        return make_trainer(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "make_trainer", held_trainer)
    failure: list[BaseException] = []

    def first() -> None:
        try:
            trainer_module.train(spec, out)
        except BaseException as error:  # pragma: no cover - reported below
            failure.append(error)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(120), "the first run never reached its stage"
        before = (out / "manifest.json").read_bytes()
        with pytest.raises(HarnessError, match="another harness train") as refused:
            trainer_module.train(spec, out)
        assert str(out) in str(refused.value) and f"pid {os.getpid()}" in str(refused.value)
        assert (out / "manifest.json").read_bytes() == before  # the refused run wrote nothing
    finally:
        release.set()
        thread.join(300)
    assert not failure, failure
    assert json.loads((out / "manifest.json").read_text())["finished"]
    capsys.readouterr()
    trainer_module.train(spec, out)  # the lock went with the first run
    assert "already trained with this spec and data; nothing to do" in capsys.readouterr().out


def test_harness_train_in_another_process_is_refused_with_one_line(data_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with lock_output(out, "harness synth run", "--out"):
        done = subprocess.run([sys.executable, "-m", "harness", "train", "--model", "tiny-random", "--data", str(data_file),
                               "--stages", "128:2", "--output", str(out)],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and str(out) in lines[0] and "another harness synth run (pid" in lines[0]
    assert "Traceback" not in done.stderr and not (out / "manifest.json").exists()


def test_a_holder_killed_with_9_leaves_no_lock_behind(tmp_path: Path) -> None:
    from harness.train.trainer import _output_lock

    out = tmp_path / "out"
    lock_then_kill_9(out, "harness train", "--output")
    with _output_lock(out):
        pass


def test_only_rank_0_of_a_distributed_launch_takes_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """torchrun/accelerate start one process per GPU with the same --output: rank 0 holds the lock for all."""
    from harness.train.trainer import _output_lock

    out = tmp_path / "out"
    with _output_lock(out):  # rank 0 (RANK unset) holds it
        monkeypatch.setenv("RANK", "1")
        with _output_lock(out):  # another rank of the same launch is not refused
            pass
        monkeypatch.setenv("RANK", "0")
        with pytest.raises(HarnessError, match="another harness train"):
            _output_lock(out)
