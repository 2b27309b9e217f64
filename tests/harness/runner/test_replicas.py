"""`--replicas`: real model workers (tiny-random in worker processes, Ray actors, loopback OpenAI servers) give the
results of one worker; a worker killed mid-run, the run finishes; the coordinator killed, a rerun computes only what
is missing. Where each worker runs: its GPUs or its share of the CPU cores."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import HarnessError
from harness.core.specs import BackendSpec
from harness.runner.replicas import check_scale, placements
from tests.harness.core.backends.faulty_server import FaultyServer
from tests.harness.runner.test_dispatch import comparable

HARNESS = [sys.executable, "-m", "harness"]
EVAL = ["eval", "--model", "tiny-random", "--tasks", "niah_single_1,mmlu_anatomy", "--num_fewshot", "2",
        "--lengths", "256,512", "--limit", "10"]
COUNT = 30  # 10 + 10 niah_single_1 samples and 10 mmlu_anatomy questions


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)


def _ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for p in (out / "samples").glob("*.jsonl") for line in p.read_text().splitlines()
            if line.endswith("}")]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory, tiny_path: Path) -> Path:
    out = tmp_path_factory.mktemp("replicas") / "one"
    done = run(*EVAL, "--output", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_two_hf_workers_give_byte_identical_results(one_worker: Path, tmp_path: Path) -> None:
    done = run(*EVAL, "--output", str(tmp_path / "two"), "--replicas", "2")
    assert done.returncode == 0, done.stderr
    assert comparable(tmp_path / "two") == comparable(one_worker)
    assert len(re.findall(r"model worker \d/2 ready \(pid \d+, .*OMP_NUM_THREADS=", done.stderr)) == 2
    timings = json.loads((tmp_path / "two" / "results.json").read_text())["config"]["timings"]
    assert timings["replicas"] == 2 and all(w["samples"] > 0 for w in timings["workers"])


def _start(args: list[str]) -> tuple[subprocess.Popen[str], list[int]]:
    """The run in the background, once both workers are ready (their pids, read from its progress lines)."""
    proc = subprocess.Popen([*HARNESS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pids: list[int] = []
    assert proc.stderr is not None
    deadline = time.time() + 300
    buffer = ""
    while len(pids) < 2 and time.time() < deadline:
        char = proc.stderr.read(1)
        if not char:
            break
        buffer += char
        if char in "\n\r":
            pids += [int(p) for p in re.findall(r"model worker \d/2 ready \(pid (\d+)", buffer)]
            buffer = ""
    assert len(pids) == 2, "the workers did not report ready"
    return proc, pids


def _wait_for_lines(out: Path, at_least: int) -> None:
    deadline = time.time() + 300
    while time.time() < deadline and len(_ids(out)) < at_least:
        time.sleep(0.02)


@pytest.mark.slow
def test_a_worker_killed_mid_run_the_others_finish_it(one_worker: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc, pids = _start([*EVAL, "--output", str(out), "--replicas", "2"])
    _wait_for_lines(out, 2)
    os.kill(pids[1], signal.SIGKILL)
    assert proc.stderr is not None
    proc.stderr.read()
    assert proc.wait(300) == 0
    assert comparable(out) == comparable(one_worker)  # every sample once, the same scores
    workers = json.loads((out / "results.json").read_text())["config"]["timings"]["workers"]
    assert "is gone" in str(workers[1].get("lost")) or workers[1]["samples"] == COUNT - workers[0]["samples"]


@pytest.mark.slow
def test_the_coordinator_killed_a_rerun_computes_only_the_missing_samples(one_worker: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc, pids = _start([*EVAL, "--output", str(out), "--replicas", "2"])
    _wait_for_lines(out, 4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(set(_ids(out)))
    assert 4 <= kept < COUNT
    deadline = time.time() + 30  # the workers read the end of their pipe and exit
    while time.time() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)
    rerun = run(*EVAL, "--output", str(out), "--replicas", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert f"{COUNT - kept} samples computed, {kept} reused" in rerun.stdout
    assert comparable(out) == comparable(one_worker)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


@pytest.mark.slow
def test_ray_actors_as_workers(one_worker: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    done = run(*EVAL, "--output", str(tmp_path / "ray"), "--replicas", "2", "--executor", "ray",
               env={"RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert comparable(tmp_path / "ray") == comparable(one_worker)
    workers = json.loads((tmp_path / "ray" / "results.json").read_text())["config"]["timings"]["workers"]
    assert [w["where"].startswith("Ray actor") for w in workers] == [True, True]


def _openai_run(tiny_path: Path, out: Path, urls: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    args = ["eval", "--model", "openai:x", "--tokenizer", str(tiny_path), "--tasks", "niah_single_1", "--lengths", "256,512",
            "--limit", "12", "--output", str(out), "--base-url", ",".join(urls),
            "--model-args", "mode=completions,concurrency=2,max_retries=1,retry_base_s=0.01"]
    return run(*args, *[a for k, v in extra.items() for a in (f"--{k}", v)])


def test_two_openai_endpoints_share_a_run(tiny_path: Path, tmp_path: Path) -> None:
    with FaultyServer() as one, FaultyServer() as a, FaultyServer() as b:
        alone = _openai_run(tiny_path, tmp_path / "one", [one.url])
        shared = _openai_run(tiny_path, tmp_path / "two", [a.url, b.url])
    assert alone.returncode == 0 and shared.returncode == 0, shared.stderr
    assert a.posts and b.posts and len(a.posts) + len(b.posts) == len(one.posts) == 24
    first, second = comparable(tmp_path / "one"), comparable(tmp_path / "two")
    assert second["results"]["config"].pop("base_url") == f"{a.url},{b.url}"
    first["results"]["config"].pop("base_url")
    assert first == second
    assert first["results"]["results"]["niah_single_1"]["256"]["score"] == 100.0  # the server reads the needle


def test_an_endpoint_that_goes_away_leaves_its_samples_to_the_other(tiny_path: Path, tmp_path: Path) -> None:
    with FaultyServer() as a, FaultyServer() as b:
        def go_away(body: dict[str, Any]) -> str:  # b's first request is dropped and b shuts: b is lost, a answers all
            if not b.posts[1:]:
                threading.Thread(target=b.stop, daemon=True).start()
            return "close"

        b.fault_for = go_away
        done = _openai_run(tiny_path, tmp_path / "two", [a.url, b.url])
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "two" / "results.json").read_text())
    assert data["results"]["niah_single_1"]["512"]["n"] == 12 and "failed" not in data["results"]["niah_single_1"]["512"]
    assert data["config"]["timings"]["workers"][1]["lost"]


@pytest.mark.parametrize(("replicas", "executor", "spec", "message"), [
    (0, "local", BackendSpec("tiny-random"), "bad --replicas 0"),
    (2, "slurm", BackendSpec("tiny-random"), "bad --executor 'slurm': expected local or ray"),
    (2, "local", BackendSpec("openai:m", base_url="http://a/v1"), "needs 2 endpoints: --base-url URL1,URL2"),
    (3, "local", BackendSpec("openai:m", base_url="http://a/v1,http://b/v1"), "--replicas 3 and 2 --base-url endpoints disagree"),
    (1, "ray", BackendSpec("openai:m", base_url="http://a/v1"), "an openai: model's workers are its servers"),
    (1, "local", BackendSpec("tiny-random", base_url="http://a/v1,http://b/v1"), "several URLs is for openai: models"),
])
def test_bad_scale_settings_are_named(replicas: int, executor: str, spec: BackendSpec, message: str) -> None:
    with pytest.raises(HarnessError, match=re.escape(message)):
        check_scale(replicas, executor, spec)


def test_each_worker_gets_its_own_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,4,5,6")
    assert placements(BackendSpec("hf:m"), 4) == [({"CUDA_VISIBLE_DEVICES": str(d)}, None) for d in (3, 4, 5, 6)]
    vllm = BackendSpec("vllm:m", {"tensor_parallel_size": 2})
    assert [env["CUDA_VISIBLE_DEVICES"] for env, _ in placements(vllm, 2)] == ["3,4", "5,6"]
    with pytest.raises(HarnessError, match="needs 6 GPUs; 4 visible"):
        placements(BackendSpec("vllm:m", {"tensor_parallel_size": 3}), 2)
    with pytest.raises(HarnessError, match="give --device cuda \\(not cuda:1\\)"):
        placements(BackendSpec("hf:m", device="cuda:1"), 2)


def test_on_cpu_the_cores_are_shared_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.runner.replicas.cpu_cores", lambda: [0, 1, 2, 3])
    placed: list[tuple[dict[str, Any], int | None]] = placements(BackendSpec("vllm:m", device="cpu"), 2)
    assert [env["VLLM_CPU_OMP_THREADS_BIND"] for env, _ in placed] == ["0,1", "2,3"]
    assert [threads for _, threads in placed] == [2, 2] and placed[0][0]["CUDA_VISIBLE_DEVICES"] == ""
    tp2 = placements(BackendSpec("vllm:m", {"tensor_parallel_size": 2}, device="cpu"), 2)
    assert [env["VLLM_CPU_OMP_THREADS_BIND"] for env, _ in tp2] == ["0|1", "2|3"]  # one core list per rank
    with pytest.raises(HarnessError, match="needs 6 cores; this process may use 4"):
        placements(BackendSpec("vllm:m", {"tensor_parallel_size": 3}, device="cpu"), 2)
