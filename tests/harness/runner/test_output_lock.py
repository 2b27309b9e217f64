"""One writer per output directory: a second `harness eval` (or `evaluate`) into the same `--output`
is refused at once with one line naming the directory, instead of appending duplicate samples; the
lock dies with its process, and a finished run's directory resumes as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.core.outputs import lock_output
from harness.runner import EvalConfig, evaluate
from tests.fakes import ScriptedBackend, echo_needle

ROOT = Path(__file__).resolve().parents[3]
CONFIG = EvalConfig(model="scripted", tasks=["niah_single_1"], lengths=[256], limit=4, seed=1)


def _sample_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "samples" / "niah_single_1.jsonl").read_text().splitlines() if line.strip()]


def test_a_second_writer_is_refused_while_the_first_runs_and_no_sample_is_written_twice(tokenizer, tmp_path: Path) -> None:
    """Two evaluations of the same config into one directory, overlapping (the first blocked in its
    first generate call): the second is refused, the first finishes alone, a rerun resumes."""
    out = tmp_path / "out"
    entered, release = threading.Event(), threading.Event()

    def blocking(request):  # type: ignore[no-untyped-def]
        entered.set()
        release.wait(60)
        return echo_needle(request)

    failure: list[BaseException] = []

    def first() -> None:
        try:
            evaluate(CONFIG, ScriptedBackend(tokenizer, answer=blocking), out, None)
        except BaseException as error:  # pragma: no cover - reported below
            failure.append(error)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert entered.wait(60), "the first run never reached the model"
        second = ScriptedBackend(tokenizer)
        with pytest.raises(HarnessError, match="another harness eval") as refused:
            evaluate(CONFIG, second, out, None)
        assert str(out) in str(refused.value) and "\n" not in str(refused.value)
        assert second.requests == []  # refused before any work
    finally:
        release.set()
        thread.join(60)
    assert not failure, failure
    lines = _sample_lines(out)
    assert len(lines) == len({row["id"] for row in lines}) == 4

    rerun = ScriptedBackend(tokenizer)
    _, result = evaluate(CONFIG, rerun, out, None)  # the lock went with the first run: a rerun resumes
    assert rerun.requests == [] and result.config["timings"]["samples_reused"] == 4
    assert len(_sample_lines(out)) == 4


def test_harness_eval_in_another_process_is_refused_with_one_line(tmp_path: Path, tiny_path: Path) -> None:
    """The real command in a second process, while this process holds the directory: exit 2, one line
    naming the directory, no traceback, nothing written, no model loaded."""
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HARNESS_DB": str(tmp_path / "db.sqlite")}
    with lock_output(out):
        done = subprocess.run([sys.executable, "-m", "harness", "eval", "--model", "tiny-random", "--tasks", "niah_single_1",
                               "--lengths", "256", "--limit", "1", "--output", str(out)],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and str(out) in lines[0] and "another harness eval" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (out / "samples").exists() and not (out / "run.json").exists()


def test_the_python_api_is_refused_before_the_model_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.core.backends as backends
    from harness import evaluate as api_evaluate

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded for a run that cannot write its output")

    monkeypatch.setattr(backends, "load_backend", no_loading)
    with lock_output(tmp_path / "out"), pytest.raises(HarnessError, match="another harness eval"):
        api_evaluate("tiny-random", "niah_single_1", lengths=256, limit=1, output=tmp_path / "out", db=tmp_path / "db")


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    """A process killed (SIGKILL) while holding the directory: the OS drops its lock, the next run proceeds."""
    out = tmp_path / "out"
    code = ("import os, sys; from pathlib import Path; from harness.core.outputs import lock_output; "
            "lock = lock_output(Path(sys.argv[1])); print('held', flush=True); os.kill(os.getpid(), 9)")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == -9 and "held" in done.stdout, done.stderr
    assert (out / ".lock").exists()  # the file stays; the lock does not
    with lock_output(out) as lock:
        assert lock.holds(out)


def test_the_lock_is_released_when_a_run_fails(tokenizer, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        evaluate(CONFIG, ScriptedBackend(tokenizer, fail_after_batches=1, batch=2), tmp_path / "out", None)
    _, result = evaluate(CONFIG, ScriptedBackend(tokenizer), tmp_path / "out", None)  # not refused
    assert result.config["timings"]["samples_reused"] == 2


def test_a_lock_the_caller_holds_is_used_not_taken_twice(tokenizer, tmp_path: Path) -> None:
    """`harness.api.prepare` locks before loading the model and hands the lock to `evaluate`."""
    with lock_output(tmp_path / "out") as lock:
        _, result = evaluate(CONFIG, ScriptedBackend(tokenizer), tmp_path / "out", None, lock=lock)
        assert lock.holds(tmp_path / "out")  # still held: released by its owner
    assert result.results["niah_single_1"]["256"]["n"] == 4
