"""Server faults as a user meets them, through `harness eval` and `harness synth run` (real processes,
a scripted faulty server on loopback in this process): one line and exit 2 where nothing listens;
failed samples or calls recorded, a warning and exit 1; a rerun retries only what failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.core.backends.faulty_server import FaultyServer

pytestmark = pytest.mark.slow
HARNESS = [sys.executable, "-m", "harness"]
FAST = "retry_base_s=0.001,max_retries=1"


def run(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    # a decoy OPENAI_BASE_URL: the server named on the command line must win
    env = {**os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "sk-planted-secret-0123456789"}
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, env=env, timeout=600)


def _eval(tiny_path: Path, out: Path, *server: str) -> tuple[str, ...]:
    return ("eval", "--model", "openai:x", *server, "--tokenizer", str(tiny_path), "--tasks", "niah_single_1",
            "--lengths", "256", "--limit", "3", "--output", str(out))


def _synth(tmp_path: Path, out: Path, *server: str) -> tuple[str, ...]:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": f"question {i}?", "answer": f"answer {i}"}) + "\n" for i in range(4)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"seeds": {"hotpotqa": str(seeds)}, "distractors": 1, "tries": 1, "max_tokens": 32}))
    return ("synth", "run", "context_synthesis", "--config", str(config), "--out", str(out), "--generator", "openai:x", *server)


@pytest.mark.parametrize("command", ["eval", "synth"])
@pytest.mark.parametrize("spelling", ["model-args", "base-url"])
def test_nothing_listening_is_one_line_naming_the_server_and_exit_2(command: str, spelling: str, tiny_path: Path,
                                                                    tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/v1"
    server = ("--model-args", f"base_url={url}") if spelling == "model-args" else ("--base-url", url)
    args = _eval(tiny_path, tmp_path / "out", *server) if command == "eval" else _synth(tmp_path, tmp_path / "out", *server)
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: cannot reach the OpenAI-compatible server at {url} for model 'x' (connection refused)"
    assert "Traceback" not in done.stderr + done.stdout


def test_eval_against_a_failing_server_exits_1_then_a_rerun_computes_only_the_failed(tiny_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FaultyServer() as server:
        args = _eval(tiny_path, out, "--model-args", f"base_url={server.url},{FAST}")
        server.fault_for = lambda body: "500" if server.posts.index(body) % 2 == 0 else None  # every other request
        server.default = "ok"
        first = run(*args)
        assert first.returncode == 1, first.stderr
        rows = [json.loads(line) for line in (out / "samples" / "niah_single_1.jsonl").read_text().splitlines()]
        failed = sum(bool(r.get("failed")) for r in rows)
        assert len(rows) == 3 and failed >= 1 and {r["error"] for r in rows if r.get("failed")} == {"HTTP 500"}
        warning = [line for line in first.stderr.splitlines() if line.startswith("warning:")]
        assert warning == [f"warning: {failed} samples failed (no answer after retries; left out of the scores, reasons in "
                           f"{out / 'samples'}): rerun the same command to retry them"]
        assert "Traceback" not in first.stderr and f"256 {failed}/3 failed" in first.stdout
        cell = json.loads((out / "results.json").read_text())["results"]["niah_single_1"]["256"]
        assert cell["failed"] == failed and cell["n"] == 3 - failed
        assert "sk-planted-secret" not in (out / "results.json").read_text() + (out / "samples" / "niah_single_1.jsonl").read_text()

        server.fault_for, server.posts[:] = None, []
        second = run(*args)
        assert second.returncode == 0, second.stderr
        assert len(server.posts) == failed and f"{failed} samples computed, {3 - failed} reused" in second.stdout
        assert json.loads((out / "results.json").read_text())["results"]["niah_single_1"]["256"]["n"] == 3


def test_synth_against_a_failing_server_drops_counts_and_a_rerun_asks_only_the_failed(tiny_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FaultyServer() as server:
        args = _synth(tmp_path, out, "--base-url", server.url, "--tokenizer", str(tiny_path), "--model-args", FAST)
        server.fault_for = lambda body: "empty_choices" if "question 1?" in str(body) or "question 2?" in str(body) else None
        first = run(*args)
        assert first.returncode == 1, first.stderr
        stats = json.loads((out / "stats.json").read_text())
        assert stats["llm_failed"] == {"reply without choices": 2} and stats["records"] == 2
        assert stats["dropped"] == {"context generation: no reply (reply without choices)": 2}
        assert "warning: 2 generator calls failed after retries" in first.stderr and "Traceback" not in first.stderr

        server.fault_for = None
        server.posts.clear()
        second = run(*args)
        assert second.returncode == 0, second.stderr
        stats = json.loads((out / "stats.json").read_text())
        assert len(server.posts) == 2 and stats["llm_calls"] == 2 and stats["llm_cache_hits"] == 2
        assert stats["records"] == 4 and "llm_failed" not in stats
