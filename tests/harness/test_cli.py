"""The `harness` command as a user runs it: real tiny model, real files, real exit codes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HARNESS = [sys.executable, "-m", "harness"]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_eval_writes_results_and_samples_then_resumes(tiny_path, tmp_path: Path) -> None:
    out = tmp_path / "D"
    args = ("eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "256,512", "--limit", "4", "--output", str(out))
    first = run(*args)
    assert first.returncode == 0, first.stderr
    results = json.loads((out / "results.json").read_text())
    assert set(results["results"]["niah_single_1"]) == {"256", "512"}
    assert len((out / "samples" / "niah_single_1.jsonl").read_text().splitlines()) == 8
    assert "8 samples computed, 0 reused" in first.stdout
    second = run(*args)
    assert second.returncode == 0, second.stderr
    assert "0 samples computed, 8 reused" in second.stdout
    listed = run("runs")
    assert "tiny-random" in listed.stdout
    run_id = listed.stdout.splitlines()[2].split()[0]
    shown = run("show", run_id)
    assert shown.returncode == 0 and "niah_single_1" in shown.stdout and "256" in shown.stdout


@pytest.mark.slow
def test_kill_9_mid_run_loses_at_most_the_batch_in_flight(tiny_path, tmp_path: Path) -> None:
    out = tmp_path / "K"
    log = out / "samples" / "niah_single_1.jsonl"
    args = ["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "1k", "--limit", "80",
            "--batch-size", "2", "--output", str(out)]
    proc = subprocess.Popen([*HARNESS, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 6):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = len({json.loads(line)["id"] for line in log.read_text().splitlines() if line.endswith("}")})
    assert 6 <= before < 80
    rerun = run(*args)
    assert rerun.returncode == 0, rerun.stderr
    after = {json.loads(line)["id"] for line in log.read_text().splitlines()}
    assert len(after) == 80
    assert f"{80 - before} samples computed, {before} reused" in rerun.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["eval", "--model", "tiny-random", "--tasks", "niah_singel_1"], "unknown task or group 'niah_singel_1'; did you mean niah_single_1"),
        (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "4q"], "bad length '4q'"),
        (["eval", "--model", "./missing/model", "--tasks", "niah_single_1"], "model path './missing/model' does not exist"),
        (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--model-args", "dtype"], "malformed --model-args entry 'dtype'"),
        (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "16k"], "length 16k is above the maximum context"),
        (["eval", "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1", "--tasks", "niah_single_1"],
         "cannot reach the OpenAI-compatible server at http://127.0.0.1:9/v1"),
        (["show", "nosuchrun"], "no run 'nosuchrun'"),
    ],
)
def test_errors_are_one_clear_line(tiny_path, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_debug_shows_the_traceback() -> None:
    result = run("--debug", "eval", "--model", "./missing/model", "--tasks", "niah_single_1")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_tasks_and_models_list() -> None:
    tasks = run("tasks")
    assert tasks.returncode == 0 and "niah_single_1" in tasks.stdout and "ruler" in tasks.stdout
    models = run("models", "list")
    assert models.returncode == 0 and "smollm2-135m" in models.stdout and "tiny" in models.stdout


@pytest.mark.slow
def test_eval_ruler_group_on_the_tiny_model(tiny_path, ruler_data, tmp_path: Path) -> None:
    out = tmp_path / "R"
    # 2k and 4k: the tiny models' own 4k-token BPE spends more tokens on prose than SmolLM2's, and qa_2's ten
    # HotpotQA paragraphs alone need about 1k of them
    result = run("eval", "--model", "tiny-random", "--tasks", "ruler", "--lengths", "2k,4k", "--limit", "2",
                 "--data-dir", str(ruler_data), "--output", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads((out / "results.json").read_text())
    assert len(data["results"]) == 13 and all(set(cells) == {"2048", "4096"} for cells in data["results"].values())
    ruler = data["groups"]["ruler"]
    assert ruler["complete"] and {"avg", "wavg_inc", "wavg_dec", "effective_length"} <= set(ruler)
    assert "wAvg(inc)" in result.stdout and "effective length" in result.stdout


@pytest.mark.slow
def test_eval_niah_grid_writes_heatmap(tiny_path, shared_data, tmp_path: Path) -> None:
    out = tmp_path / "N"
    result = run("eval", "--model", "tiny-random", "--tasks", "niah", "--lengths", "1k,2k,4k", "--depth-steps", "5",
                 "--data-dir", str(shared_data), "--output", str(out))
    assert result.returncode == 0, result.stderr
    grid = json.loads((out / "results.json").read_text())["reports"]["niah"]["grid"]
    assert grid["lengths"] == [1024, 2048, 4096] and len(grid["depths"]) == 5
    assert (out / "niah_heatmap.png").stat().st_size > 1000


@pytest.mark.slow
def test_real_document_benchmarks_across_lengths(tiny_path, tmp_path: Path) -> None:
    from tests.tasks.longdoc_fixtures import write_infinitebench, write_longbench

    data = write_longbench(write_infinitebench(tmp_path / "data"), n=2)
    out = tmp_path / "out"
    done = run("eval", "--model", "tiny-random", "--tasks", "infinitebench_passkey,longbench_trec,longbench_e_lcc",
               "--data-dir", str(data), "--lengths", "256,max", "--limit", "2", "--output", str(out), "--model-args", "max_length=1024")
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())["results"]
    assert set(results["infinitebench_passkey"]) == {"256", "1024"}
    assert results["infinitebench_passkey"]["256"]["truncated"] == 2
    assert "infinitebench_passkey: 256 2/2 truncated" in done.stdout


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--truncate", "right", "bad --truncate 'right'"),
    ("--prompt-style", "base", "bad --prompt-style 'base'"),
])
def test_bad_truncation_flags_are_named(flag: str, value: str, message: str) -> None:
    done = run("eval", "--model", "tiny-random", "--tasks", "infinitebench_passkey", flag, value)
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.slow
def test_synth_list_run_stats(tiny_path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps({"instruction": f"Question {i}?", "answer": f"A{i}"}) + "\n" for i in range(3)))
    config = tmp_path / "cfg.yaml"
    config.write_text(f"seeds:\n  hotpotqa: {seeds}\ndistractors: 1\nmax_tokens: 8\ntries: 1\n")
    assert "context_synthesis" in run("synth", "list").stdout
    out = tmp_path / "out"
    done = run("synth", "run", "context_synthesis", "--config", str(config), "--out", str(out), "--generator", "tiny-random")
    assert done.returncode == 0, done.stderr
    assert "3 records" in done.stdout and len((out / "data.jsonl").read_text().splitlines()) == 3
    stats = json.loads(run("synth", "stats", str(out)).stdout)
    assert stats["records"] == 3 and stats["llm_calls"] == 3
    config.write_text("seeds: {hotpotqa: x}\ndistractors: many\n")
    bad = run("synth", "run", "context_synthesis", "--config", str(config), "--out", str(out), "--generator", "tiny-random")
    assert bad.returncode == 2 and "field 'distractors' = 'many'" in bad.stderr


@pytest.mark.slow
def test_synth_hierarchical_and_wildlong_through_the_cli(tiny_path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(2):
        (docs / f"d{i}.txt").write_text(" ".join(f"word{i}x{j}" for j in range(120)))
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text(f"- path: {docs}\n  kind: note\n")
    config = tmp_path / "h.yaml"
    config.write_text("small_chunk_tokens: 64\nhierarchical_questions: 2\ndiverse_questions: 0\ntarget_tokens: 2000\n"
                      "max_tokens: 8\nsummary_max_tokens: 8\ntries: 1\n")
    out = tmp_path / "h"
    done = run("synth", "run", "hierarchical", "--config", str(config), "--corpus", str(corpus), "--out", str(out),
               "--generator", "tiny-random")
    assert done.returncode == 0, done.stderr
    stats = json.loads(run("synth", "stats", str(out)).stdout)
    assert stats["plugin"]["documents"] == 2 and stats["llm_calls"] > 0  # a random model writes no readable question
    assert stats["records"] + stats["dropped"].get("record without a readable question", 0) == 1
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"query": "Summarize this report."}) + "\n")
    config.write_text(f"queries: {queries}\ninstructions: 2\nmax_tokens: 8\ntries: 1\n")
    failed = run("synth", "run", "wildlong", "--config", str(config), "--corpus", str(corpus), "--out", str(tmp_path / "w"),
                 "--generator", "tiny-random")
    assert failed.returncode == 2 and "no query's meta-information could be read" in failed.stderr
