"""Bad input to every command of `harness --help`, table-driven: each command x each kind of bad input
it can be handed (a missing file, a directory for a file, an empty file, garbage bytes, non-UTF-8 text,
JSON/YAML of the wrong shape, a bad number, an unknown name, an output that is a file or lies under one,
a damaged file the harness itself wrote: results database, run.json, results.json, sweep.json, manifests).

Each row must end as `harness.cli.main` promises for user errors: exit 2, exactly one line on stderr
starting with `error:` and naming the file, field or value; never a traceback. The data files tasks and
`harness train` read are covered, kind by kind, in tests/test_bad_input_data.py; this table covers the
rest of each command's inputs. Every case fails before a model loads (no row loads one), so the whole
table runs in this process.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core.outputs import ensure_dir
from harness.core.types import ScoredSample
from harness.results import Result
from tests.clirun import run_cli
from tests.test_bad_input_data import CHAT, assert_one_error_line

KINDS = ("missing", "directory", "empty", "garbage", "non_utf8", "wrong_shape", "bad_number", "unknown_name",
         "output_is_file", "output_under_file", "damaged_state", "bad_flag")
GARBAGE = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))  # binary: neither text, JSON, YAML nor SQLite
NON_UTF8 = b"name: demo\nnote: caf\xe9\n"  # Latin-1 text


@dataclass(frozen=True)
class Row:
    """`harness ARGV` with bad input of one kind; the error line must contain each of `says`
    (`{w}` is the workspace directory)."""

    command: str
    kind: str
    argv: list[str]
    says: list[str]


# -- the workspace: good inputs every row starts from, and the bad ones it hands over ------------------

def _workspace(w: Path) -> None:
    (w / "afile").write_text("just a file\n")
    (w / "adir").mkdir()
    (w / "empty").write_bytes(b"")
    (w / "garbage").write_bytes(GARBAGE)
    (w / "non_utf8.yaml").write_bytes(NON_UTF8)
    (w / "list.yaml").write_text("- a\n- b\n")
    (w / "list.json").write_text("[1, 2]\n")
    (w / "train.jsonl").write_text(json.dumps(CHAT) + "\n")
    # results databases that are not one
    (w / "garbage.db").write_bytes(GARBAGE)
    (w / "header_only.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
    foreign = sqlite3.connect(w / "foreign.db")
    foreign.execute("CREATE TABLE runs (id INTEGER, name TEXT)")
    foreign.commit()
    foreign.close()
    # a finished run (no model: written as the runner writes it)
    run = w / "run"
    (run / "samples").mkdir(parents=True)
    cell = {"score": 50.0, "stderr": 5.0, "n": 2, "metric": "string_match_all", "higher_is_better": True}
    Result(results={"niah_single_1": {"256": cell}}, groups={}, config={"model": "tiny-random", "backend": "hf"}).write(
        run / "results.json")
    rows = [ScoredSample(id=f"s{i}", task="niah_single_1", length=256, index=i, prompt_tokens=200, targets=("1",),
                         output="x", score=100.0 * (i % 2), latency_s=0.1) for i in range(2)]
    (run / "samples" / "niah_single_1.jsonl").write_text("".join(r.to_json() + "\n" for r in rows))
    # run directories whose run.json is damaged: eval must refuse to resume there, naming the file
    for name, content in {"run_json_garbage": GARBAGE, "run_json_empty": b"", "run_json_truncated": b'{"fingerprint": {',
                          "run_json_list": b"[]", "run_json_no_fingerprint": b'{"version": 1}'}.items():
        (w / name).mkdir()
        (w / name / "run.json").write_bytes(content)
    # run directories whose results.json is damaged
    for name, content in {"results_garbage": GARBAGE, "results_empty": b"", "results_list": b"[1]",
                          "results_no_results": b'{"config": {}}', "results_non_utf8": b'{"results": "caf\xe9"}'}.items():
        (w / name).mkdir()
        (w / name / "results.json").write_bytes(content)
    # synthesis: a good config, and an output dir of `synth run` with damaged side files
    (w / "seeds.jsonl").write_text(json.dumps({"instruction": "i", "answer": "a"}) + "\n")
    (w / "synth.yaml").write_text(f"seeds: {{narrativeqa: {w / 'seeds.jsonl'}}}\n")
    record = {"id": "r0", "messages": CHAT["messages"], "meta": {}}
    for name, side in {"synth_stats_garbage": ("stats.json", GARBAGE), "synth_stats_list": ("stats.json", b"[]"),
                       "synth_manifest_garbage": ("manifest.json", b"{\"plugin\": "),
                       "synth_manifest_no_plugin": ("manifest.json", b"{}"),
                       "synth_manifest_unknown": ("manifest.json", b'{"plugin": "needels"}')}.items():
        (w / name).mkdir()
        (w / name / "data.jsonl").write_text(json.dumps(record) + "\n")
        (w / name / side[0]).write_bytes(side[1])
    # sweeps and boards
    (w / "sweep.yaml").write_text("name: s\nbase_model: tiny-random\nvariants: [{name: control, kind: none}]\n"
                                  "eval: {tasks: [niah_single_1], lengths: [256], limit: 1}\n")
    for name, summary in {"sweep_ok": None, "sweep_garbage": GARBAGE, "sweep_list": b"[]", "sweep_no_variants": b"{}",
                          "sweep_variant_list": b'{"variants": {"control": [1]}}',
                          "sweep_results_damaged": None}.items():
        (w / name).mkdir()
        results = w / ("results_garbage" if name == "sweep_results_damaged" else "run") / "results.json"
        content = summary if summary is not None else json.dumps(
            {"variants": {"control": {"status": "done", "kind": "none", "results": str(results), "stages": []}}}).encode()
        (w / name / "sweep.json").write_bytes(content)
        (w / f"board_{name}.yaml").write_text(f"name: b\nsweep: {w / name}\ncolumns: [{{task: niah_single_1}}]\n")
    (w / "training").mkdir()
    (w / "training" / "manifest.json").write_bytes(b'{"spec_digest": ')  # a damaged training manifest
    for k in range(3):  # three runs to correlate: ruler and two of its tasks
        cells = {task: {"256": {**cell, "score": float(k * i)}} for i, task in enumerate(["niah_single_1", "vt"])}
        Result(results=cells, groups={"ruler": {"lengths": {"256": {"score": float(k)}}, "avg": float(k), "tasks": list(cells)}},
               config={}).write(ensure_dir(w / f"corr{k}") / "results.json")


EVAL = ["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "256", "--limit", "1"]
NIAH = ["eval", "--model", "tiny-random", "--tasks", "niah", "--output", "{w}/out"]  # classic niah: essays, depths


CORR = ["report", "correlation", "{w}/corr0", "{w}/corr1", "{w}/corr2"]
NOISE = ["noise", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "256", "--limit", "1", "--output", "{w}/out"]


def _eval(*more: str) -> list[str]:
    return [*EVAL, "--output", "{w}/out", *more]


def _train(*more: str) -> list[str]:
    return ["train", "--model", "tiny-random", "--data", "{w}/train.jsonl", "--stages", "64:1", *more]


def _synth(*more: str, config: str = "{w}/synth.yaml") -> list[str]:
    return ["synth", "run", "context_synthesis", "--config", config, "--generator", "tiny-random", *more]


def _sweep(config: str = "{w}/sweep.yaml", *more: str) -> list[str]:
    return ["sweep", config, *more]


DB_ROWS = [  # a results database that cannot be one, for every command that reads or writes it
    ("directory", "{w}/adir", ["results database {w}/adir", "is a directory"]),
    ("garbage", "{w}/garbage.db", ["results database {w}/garbage.db", "not an SQLite database"]),
    ("damaged_state", "{w}/header_only.db", ["results database {w}/header_only.db", "not an SQLite database"]),
    ("wrong_shape", "{w}/foreign.db", ["results database {w}/foreign.db", "not a harness results database"]),
    ("output_under_file", "{w}/afile/results.db", ["results database {w}/afile/results.db", "{w}/afile is a file"]),
]

ROWS = [
    # -- eval --------------------------------------------------------------------------------------------
    *[Row("eval", kind, _eval("--db", db), says) for kind, db, says in DB_ROWS],
    Row("eval", "output_is_file", [*EVAL, "--output", "{w}/afile"], ["--output directory {w}/afile is a file"]),
    Row("eval", "output_under_file", [*EVAL, "--output", "{w}/afile/out"], ["{w}/afile/out", "{w}/afile is a file"]),
    Row("eval", "garbage", [*EVAL, "--output", "{w}/run_json_garbage"], ["{w}/run_json_garbage/run.json", "not UTF-8"]),
    Row("eval", "empty", [*EVAL, "--output", "{w}/run_json_empty"], ["{w}/run_json_empty/run.json", "empty"]),
    Row("eval", "damaged_state", [*EVAL, "--output", "{w}/run_json_truncated"], ["{w}/run_json_truncated/run.json", "not valid JSON"]),
    Row("eval", "wrong_shape", [*EVAL, "--output", "{w}/run_json_list"], ["{w}/run_json_list/run.json", "an array"]),
    Row("eval", "wrong_shape", [*EVAL, "--output", "{w}/run_json_no_fingerprint"],
        ["{w}/run_json_no_fingerprint/run.json", "'fingerprint'"]),
    Row("eval", "missing", _eval("--data-dir", "{w}/nowhere"), ["--data-dir {w}/nowhere does not exist"]),
    Row("eval", "directory", _eval("--data-dir", "{w}/afile"), ["--data-dir {w}/afile is not a directory"]),
    Row("eval", "missing", [*NIAH, "--task-args", "haystack_dir={w}/nowhere"],
        ["{w}/nowhere", "does not exist"]),
    Row("eval", "bad_number", _eval("--seed", "many"), ["'--seed'", "integer"]),
    Row("eval", "bad_number", _eval("--limit", "-3"), ["--limit", "-3"]),
    Row("eval", "bad_number", _eval("--num_fewshot", "-1"), ["--num_fewshot -1"]),
    Row("eval", "bad_number", [*NIAH, "--depth-steps", "0"], ["--depth-steps 0"]),
    Row("eval", "bad_number", _eval("--batch-size", "0"), ["--batch-size '0'"]),
    Row("eval", "bad_number", _eval("--lengths", "4q"), ["'4q'"]),
    Row("eval", "bad_number", _eval("--model-args", "dtype=float99"), ["dtype=float99"]),
    Row("eval", "unknown_name", _eval("--model-args", "device=cuda:99"), ["device=cuda:99"]),  # no machine here has 100
    Row("eval", "unknown_name", ["eval", "--model", "tiny-random", "--tasks", "niah_singel_1", "--output", "{w}/out"],
        ["'niah_singel_1'", "niah_single_1"]),
    Row("eval", "unknown_name", ["eval", "--model", "vlm:x", "--tasks", "niah_single_1", "--output", "{w}/out"], ["vlm"]),
    Row("eval", "unknown_name", _eval("--chat-template", "sometimes"), ["--chat-template 'sometimes'"]),
    Row("eval", "bad_flag", _eval("--no-such-flag"), ["--no-such-flag", "harness eval --help"]),
    Row("eval", "bad_number", _eval("--max-think-tokens", "-1"), ["--max-think-tokens -1"]),
    Row("eval", "bad_number", _eval("--max-new-tokens", "0"), ["--max-new-tokens 0"]),
    Row("eval", "bad_number", _eval("--max-think-tokens", "256"), ["--max-think-tokens 256", "length 256", "niah_single_1"]),
    Row("eval", "bad_number", _eval("--max-new-tokens", "200", "--max-think-tokens", "56"),
        ["--max-think-tokens 56 + --max-new-tokens 200", "length 256"]),
    Row("eval", "wrong_shape", _eval("--think-markers", "<think>"), ["--think-markers '<think>'"]),
    Row("eval", "bad_number", _eval("--replicas", "0"), ["--replicas 0"]),
    Row("eval", "bad_number", _eval("--replicas", "two"), ["'--replicas'", "integer"]),
    Row("eval", "unknown_name", _eval("--executor", "slurm"), ["--executor 'slurm'", "local or ray"]),
    Row("eval", "unknown_name", _eval("--schedule", "random"), ["--schedule 'random'", "prefix or length"]),
    Row("eval", "wrong_shape", _eval("--ray-address", "ray://head:10001"), ["--ray-address ray://head:10001", "--executor ray"]),
    Row("eval", "wrong_shape", ["eval", "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1", "--replicas", "2",
                                "--tasks", "niah_single_1", "--output", "{w}/out"], ["--replicas 2", "2 endpoints"]),
    Row("eval", "wrong_shape", ["eval", "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1,http://127.0.0.1:8/v1",
                                "--replicas", "3", "--tasks", "niah_single_1", "--output", "{w}/out"],
        ["--replicas 3", "2 --base-url"]),
    Row("eval", "wrong_shape", ["eval", "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1,http://127.0.0.1:8/v1",
                                "--executor", "ray", "--tasks", "niah_single_1", "--output", "{w}/out"], ["--executor ray"]),
    Row("eval", "wrong_shape", _eval("--base-url", "http://127.0.0.1:9/v1,http://127.0.0.1:8/v1"), ["--base-url", "openai:"]),
    # -- train -------------------------------------------------------------------------------------------
    Row("train", "output_is_file", _train("--output", "{w}/afile"), ["--output directory {w}/afile is a file"]),
    Row("train", "output_under_file", _train("--output", "{w}/afile/model"), ["{w}/afile/model", "{w}/afile is a file"]),
    Row("train", "damaged_state", _train("--output", "{w}/training"), ["{w}/training/manifest.json", "not valid JSON"]),
    Row("train", "bad_number", _train("--output", "{w}/m", "--lora", "r=abc"), ["--lora r=", "'abc'"]),
    Row("train", "bad_number", _train("--output", "{w}/m", "--lr", "fast"), ["'--lr'"]),
    Row("train", "unknown_name", _train("--output", "{w}/m", "--report-to", "wandbb"), ["--report-to", "'wandbb'"]),
    Row("train", "missing", ["train", "--model", "tiny-random", "--data", "{w}/nowhere.jsonl", "--stages", "64:1",
                             "--output", "{w}/m"], ["{w}/nowhere.jsonl", "does not exist"]),
    Row("train", "bad_flag", ["train", "--model", "tiny-random"], ["--data", "harness train --help"]),
    # -- tasks -------------------------------------------------------------------------------------------
    Row("tasks", "unknown_name", ["tasks", "rulr"], ["'rulr'", "ruler"]),
    Row("tasks", "bad_flag", ["tasks", "ruler", "extra"], ["extra"]),
    # -- runs and show: the results database -------------------------------------------------------------
    *[Row("runs", kind, ["runs", "--db", db], says) for kind, db, says in DB_ROWS],
    *[Row("show", kind, ["show", "abc", "--db", db], says) for kind, db, says in DB_ROWS],
    Row("show", "unknown_name", ["show", "nosuchrun", "--db", "{w}/new.db"], ["'nosuchrun'"]),
    Row("show", "unknown_name", ["show", "{w}/run", "--sample", "zzz"], ["'zzz'", "{w}/run/samples"]),
    Row("show", "missing", ["show", "{w}/adir", "--sample", "s0"], ["{w}/adir", "no results.json"]),
    Row("show", "garbage", ["show", "{w}/results_garbage", "--sample", "s0"], ["{w}/results_garbage/results.json", "not UTF-8"]),
    Row("show", "empty", ["show", "{w}/results_empty", "--sample", "s0"], ["{w}/results_empty/results.json", "empty"]),
    Row("show", "wrong_shape", ["show", "{w}/results_list", "--sample", "s0"], ["{w}/results_list/results.json", "an array"]),
    Row("show", "wrong_shape", ["show", "{w}/results_no_results", "--sample", "s0"],
        ["{w}/results_no_results/results.json", "'results'"]),
    Row("show", "non_utf8", ["show", "{w}/results_non_utf8", "--sample", "s0"], ["{w}/results_non_utf8/results.json", "not UTF-8"]),
    # -- models ------------------------------------------------------------------------------------------
    Row("models build", "unknown_name", ["models", "build", "tiny-randm"], ["'tiny-randm'", "tiny-random"]),
    Row("models list", "bad_flag", ["models", "list", "--all"], ["--all"]),
    Row("models", "unknown_name", ["models", "delete"], ["'delete'"]),
    # -- synth -------------------------------------------------------------------------------------------
    Row("synth list", "bad_flag", ["synth", "list", "--verbose"], ["--verbose"]),
    Row("synth run", "unknown_name", ["synth", "run", "neddles", "--config", "{w}/synth.yaml", "--out", "{w}/o"],
        ["'neddles'", "needles"]),
    Row("synth run", "missing", _synth("--out", "{w}/o", config="{w}/nowhere.yaml"), ["{w}/nowhere.yaml", "does not exist"]),
    Row("synth run", "directory", _synth("--out", "{w}/o", config="{w}/adir"), ["{w}/adir", "directory"]),
    Row("synth run", "empty", _synth("--out", "{w}/o", config="{w}/empty"), ["{w}/empty", "seeds"]),
    Row("synth run", "garbage", _synth("--out", "{w}/o", config="{w}/garbage"), ["{w}/garbage", "not UTF-8"]),
    Row("synth run", "non_utf8", _synth("--out", "{w}/o", config="{w}/non_utf8.yaml"), ["{w}/non_utf8.yaml:2", "not UTF-8"]),
    Row("synth run", "wrong_shape", _synth("--out", "{w}/o", config="{w}/list.yaml"), ["{w}/list.yaml", "expected a mapping"]),
    Row("synth run", "missing", _synth("--out", "{w}/o", "--corpus", "{w}/nowhere.yaml"), ["{w}/nowhere.yaml", "does not exist"]),
    Row("synth run", "garbage", _synth("--out", "{w}/o", "--corpus", "{w}/garbage"), ["{w}/garbage", "not UTF-8"]),
    Row("synth run", "output_is_file", _synth("--out", "{w}/afile"), ["--out directory {w}/afile is a file"]),
    Row("synth run", "output_under_file", _synth("--out", "{w}/afile/o"), ["{w}/afile/o", "{w}/afile is a file"]),
    Row("synth run", "bad_number", _synth("--out", "{w}/o", "--seed", "x"), ["'--seed'"]),
    Row("synth run", "bad_number", _synth("--out", "{w}/o", "--model-args", "dtype=float99"), ["dtype=float99"]),
    Row("synth stats", "missing", ["synth", "stats", "{w}/nowhere"], ["{w}/nowhere/data.jsonl", "does not exist"]),
    Row("synth stats", "directory", ["synth", "stats", "{w}/afile"], ["{w}/afile/data.jsonl"]),
    Row("synth stats", "garbage", ["synth", "stats", "{w}/synth_stats_garbage"], ["{w}/synth_stats_garbage/stats.json", "not UTF-8"]),
    Row("synth stats", "wrong_shape", ["synth", "stats", "{w}/synth_stats_list"], ["{w}/synth_stats_list/stats.json", "an array"]),
    Row("synth stats", "damaged_state", ["synth", "stats", "{w}/synth_manifest_garbage"],
        ["{w}/synth_manifest_garbage/manifest.json", "not valid JSON"]),
    Row("synth stats", "wrong_shape", ["synth", "stats", "{w}/synth_manifest_no_plugin"],
        ["{w}/synth_manifest_no_plugin/manifest.json", "'plugin'"]),
    Row("synth stats", "unknown_name", ["synth", "stats", "{w}/synth_manifest_unknown"], ["'needels'", "needles"]),
    # -- sweep -------------------------------------------------------------------------------------------
    Row("sweep", "missing", _sweep("{w}/nowhere.yaml"), ["{w}/nowhere.yaml", "does not exist"]),
    Row("sweep", "directory", _sweep("{w}/adir"), ["{w}/adir", "directory"]),
    Row("sweep", "empty", _sweep("{w}/empty"), ["{w}/empty", "'name' is required"]),
    Row("sweep", "garbage", _sweep("{w}/garbage"), ["{w}/garbage", "not UTF-8"]),
    Row("sweep", "non_utf8", _sweep("{w}/non_utf8.yaml"), ["{w}/non_utf8.yaml:2", "not UTF-8"]),
    Row("sweep", "wrong_shape", _sweep("{w}/list.yaml"), ["{w}/list.yaml", "expected a mapping"]),
    Row("sweep", "output_is_file", _sweep("{w}/sweep.yaml", "--output", "{w}/afile"), ["{w}/afile is a file"]),
    Row("sweep", "output_under_file", _sweep("{w}/sweep.yaml", "--output", "{w}/afile/s"), ["{w}/afile/s", "{w}/afile is a file"]),
    Row("sweep", "bad_number", _sweep("{w}/sweep.yaml", "--output", "{w}/s", "--jobs", "-1"), ["--jobs -1"]),
    Row("sweep", "unknown_name", _sweep("{w}/sweep.yaml", "--output", "{w}/s", "--executor", "slurm"), ["--executor 'slurm'"]),
    Row("sweep", "unknown_name", _sweep("{w}/sweep.yaml", "--output", "{w}/s", "--only", "contrl"), ["'contrl'", "control"]),
    # -- leaderboard -------------------------------------------------------------------------------------
    Row("leaderboard build", "unknown_name", ["leaderboard", "build", "tiny-dmo"], ["'tiny-dmo'", "tiny-demo"]),
    Row("leaderboard build", "missing", ["leaderboard", "build", "{w}/nowhere.yaml"], ["{w}/nowhere.yaml", "does not exist"]),
    Row("leaderboard build", "directory", ["leaderboard", "build", "{w}/adir"], ["{w}/adir", "directory"]),
    Row("leaderboard build", "empty", ["leaderboard", "build", "{w}/empty"], ["{w}/empty", "'name' is required"]),
    Row("leaderboard build", "garbage", ["leaderboard", "build", "{w}/garbage"], ["{w}/garbage", "not UTF-8"]),
    Row("leaderboard build", "non_utf8", ["leaderboard", "build", "{w}/non_utf8.yaml"], ["{w}/non_utf8.yaml:2", "not UTF-8"]),
    Row("leaderboard build", "wrong_shape", ["leaderboard", "build", "{w}/list.yaml"], ["{w}/list.yaml", "expected a mapping"]),
    Row("leaderboard build", "damaged_state", ["leaderboard", "build", "{w}/board_sweep_garbage.yaml", "--output", "{w}/b"],
        ["{w}/sweep_garbage/sweep.json", "not UTF-8"]),
    Row("leaderboard build", "wrong_shape", ["leaderboard", "build", "{w}/board_sweep_list.yaml", "--output", "{w}/b"],
        ["{w}/sweep_list/sweep.json", "an array"]),
    Row("leaderboard build", "wrong_shape", ["leaderboard", "build", "{w}/board_sweep_no_variants.yaml", "--output", "{w}/b"],
        ["{w}/sweep_no_variants/sweep.json", "'variants'"]),
    Row("leaderboard build", "wrong_shape", ["leaderboard", "build", "{w}/board_sweep_variant_list.yaml", "--output", "{w}/b"],
        ["{w}/sweep_variant_list/sweep.json", "variants.control"]),
    Row("leaderboard build", "damaged_state", ["leaderboard", "build", "{w}/board_sweep_results_damaged.yaml", "--output", "{w}/b"],
        ["{w}/results_garbage/results.json", "not UTF-8"]),
    Row("leaderboard build", "output_is_file", ["leaderboard", "build", "{w}/board_sweep_ok.yaml", "--output", "{w}/afile"],
        ["{w}/afile", "is a file"]),
    # -- check (the rows its own fixes make pass; see tests/harness/test_check.py for the rest) ----------
    Row("check", "missing", ["check", "--run", "{w}/run", "--baseline", "{w}/nowhere.json"], ["{w}/nowhere.json", "does not exist"]),
    Row("check", "missing", ["check", "--run", "{w}/nowhere", "--baseline", "{w}/run/results.json"], ["{w}/nowhere"]),
    Row("check", "directory", ["check", "--run", "{w}/adir", "--baseline", "{w}/run/results.json"], ["{w}/adir"]),
    Row("check", "empty", ["check", "--run", "{w}/run", "--baseline", "{w}/empty"], ["{w}/empty", "empty"]),
    Row("check", "garbage", ["check", "--run", "{w}/run", "--baseline", "{w}/garbage"], ["{w}/garbage", "not UTF-8"]),
    Row("check", "wrong_shape", ["check", "--run", "{w}/run", "--baseline", "{w}/list.json"], ["{w}/list.json"]),
    Row("check", "garbage", ["check", "--run", "{w}/results_garbage", "--baseline", "{w}/run/results.json"],
        ["{w}/results_garbage/results.json", "not UTF-8"]),
    Row("check", "bad_number", ["check", "--run", "{w}/run", "--baseline", "{w}/run/results.json", "--alpha", "2"], ["--alpha 2"]),
    Row("check", "bad_number", ["check", "--run", "{w}/run", "--baseline", "{w}/run/results.json", "--max-drop", "-1"],
        ["--max-drop -1"]),
    # -- noise -------------------------------------------------------------------------------------------
    *[Row("noise", kind, [*NOISE, "--db", db], says) for kind, db, says in DB_ROWS[:2]],
    Row("noise", "output_is_file", [*NOISE[:-2], "--output", "{w}/afile"], ["--output directory {w}/afile is a file"]),
    Row("noise", "output_under_file", [*NOISE[:-2], "--output", "{w}/afile/out"], ["{w}/afile/out", "{w}/afile is a file"]),
    Row("noise", "bad_number", [*NOISE, "--eval-seeds", "1"], ["--eval-seeds 1"]),
    Row("noise", "bad_number", [*NOISE, "--alpha", "2"], ["--alpha 2"]),
    Row("noise", "bad_number", [*NOISE, "--max-think-tokens", "300"], ["--max-think-tokens 300", "length 256"]),
    Row("noise", "bad_number", [*NOISE, "--lengths", "4q"], ["'4q'"]),
    Row("noise", "unknown_name", [*NOISE, "--tasks", "niah_singel_1"], ["'niah_singel_1'", "niah_single_1"]),
    Row("noise", "missing", [*NOISE, "--data-dir", "{w}/nowhere"], ["--data-dir {w}/nowhere does not exist"]),
    Row("noise", "bad_flag", [*NOISE, "--no-such-flag"], ["--no-such-flag", "harness noise --help"]),
    # -- report correlation ------------------------------------------------------------------------------
    Row("report correlation", "missing", [*CORR, "{w}/nowhere"], ["run {w}/nowhere", "not a run directory"]),
    Row("report correlation", "garbage", [*CORR, "{w}/results_garbage"], ["{w}/results_garbage/results.json", "not UTF-8"]),
    Row("report correlation", "wrong_shape", [*CORR, "{w}/results_list"], ["{w}/results_list/results.json", "an array"]),
    Row("report correlation", "missing", ["report", "correlation", "--sweep", "{w}/adir"], ["--sweep {w}/adir", "no sweep.json"]),
    Row("report correlation", "damaged_state", ["report", "correlation", "--sweep", "{w}/sweep_garbage"],
        ["{w}/sweep_garbage/sweep.json", "not UTF-8"]),
    Row("report correlation", "bad_number", ["report", "correlation", "{w}/corr0", "{w}/corr1"], ["2 run(s) given", "at least 3"]),
    Row("report correlation", "bad_number", [*CORR, "{w}/corr0"], ["{w}/corr0/results.json is given twice"]),
    Row("report correlation", "unknown_name", [*CORR, "--categories", "ruler,vtt"], ["'vtt'", "did you mean vt"]),
    Row("report correlation", "unknown_name", [*CORR, "--reference", "rulr"], ["--reference", "'rulr'", "ruler"]),
    Row("report correlation", "wrong_shape", ["report", "correlation", "{w}/corr0", "{w}/corr1", "{w}/run"],
        ["no two categories scored in every run", "--categories"]),
    Row("report correlation", "wrong_shape", ["report", "correlation", "{w}/corr0", "{w}/corr1", "{w}/run", "--categories", "ruler,vt"],
        ["'ruler' has no score in run(s) run ({w}/run/results.json)"]),
    Row("report correlation", "bad_number", [*CORR, "--length", "4q"], ["'4q'"]),
    Row("report correlation", "bad_number", [*CORR, "--resamples", "0"], ["--resamples 0"]),
    Row("report correlation", "bad_number", [*CORR, "--seed", "-1"], ["--seed -1"]),
    Row("report correlation", "bad_number", [*CORR, "--length", "8k"], ["no two categories scored in every run at --length 8k"]),
    Row("report correlation", "bad_number", [*CORR, "--length", "8k", "--categories", "vt,ruler"],
        ["--length 8k: category 'vt' has no score at that length", "run(s) corr0: 256"]),
    Row("report correlation", "output_under_file", [*CORR, "--output", "{w}/afile/c.json"],
        ["--output {w}/afile/c.json", "{w}/afile is a file"]),
    Row("report correlation", "output_is_file", [*CORR, "--plot", "{w}/adir"], ["--plot {w}/adir", ".png or .svg"]),
    Row("report correlation", "bad_flag", [*CORR, "--no-such-flag"], ["--no-such-flag", "harness report correlation --help"]),
    Row("report", "unknown_name", ["report", "corelation"], ["'corelation'", "correlation"]),
    # -- the root --------------------------------------------------------------------------------------------
    Row("harness", "unknown_name", ["evl"], ["'evl'", "eval"]),
    Row("harness", "bad_flag", ["--verbose", "eval"], ["--verbose"]),
]


def _fill(text: str, w: Path) -> str:
    return text.replace("{w}", str(w))


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing here may wait on the network
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from transformers import AutoModelForCausalLM

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model's weights were loaded for bad input that should be refused before")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", no_loading)  # backends check their arguments first
    _workspace(tmp_path)
    return tmp_path


def _ids(row: Row) -> str:
    return f"{row.command}-{row.kind}-{' '.join(a.replace('{w}/', '') for a in row.argv[len(row.command.split()):])}"[:90]


@pytest.mark.parametrize("row", [pytest.param(row, id=_ids(row)) for row in ROWS])
def test_bad_input_is_one_error_line_and_exit_2(row: Row, workspace: Path, tiny_path: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    before = _snapshot(workspace)
    code, out, err = run_cli([_fill(a, workspace) for a in row.argv], capfd)
    assert_one_error_line(code, out, err, [_fill(s, workspace) for s in row.says])
    assert _snapshot(workspace) - {"o", "m", "s", "b", "out", "new.db", "results.db"} <= before  # nothing else appeared ...
    assert all((workspace / name).read_bytes() == content for name, content in _files(before, workspace))  # ... or changed


def _snapshot(w: Path) -> set[str]:
    return {p.name for p in w.iterdir()}


def _files(names: set[str], w: Path) -> list[tuple[str, bytes]]:
    return [(name, (w / name).read_bytes()) for name in names if (w / name).is_file()]


def _commands() -> set[str]:
    """Every command `harness --help` lists, sub-commands as `models build`."""
    import typer

    from harness.cli import app

    def walk(command: object, prefix: str) -> set[str]:
        children = getattr(command, "commands", None)
        if not children:
            return {prefix}
        return {name for key, child in children.items() for name in walk(child, f"{prefix} {key}".strip())}

    return walk(typer.main.get_command(app), "")


def test_the_table_covers_every_command() -> None:
    """A new command must come with its bad-input rows; each command meets the kinds its inputs can be."""
    commands = _commands()
    covered = {row.command for row in ROWS}
    assert commands <= covered, f"commands without bad-input rows: {sorted(commands - covered)}"
    kinds = {command: {row.kind for row in ROWS if row.command == command} for command in covered}
    assert {row.kind for row in ROWS} == set(KINDS)
    for command in ("sweep", "leaderboard build", "synth run"):  # the config-file readers: every file kind
        assert {"missing", "directory", "empty", "garbage", "non_utf8", "wrong_shape", "unknown_name"} <= kinds[command], command
    for command in ("eval", "runs", "show"):  # the database readers and the run-directory reader
        assert {"directory", "garbage", "wrong_shape", "damaged_state"} <= kinds[command], command
    for command in ("eval", "train", "synth run", "sweep"):  # the writers
        assert {"output_is_file", "output_under_file"} <= kinds[command], command


def test_a_damaged_run_json_is_refused_before_the_model_loads_and_the_samples_stay(workspace: Path, tiny_path: Path,
                                                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """Nothing already computed is lost: the samples beside a damaged run.json are left as they were."""
    out = workspace / "run_json_truncated"
    (out / "samples").mkdir()
    (out / "samples" / "niah_single_1.jsonl").write_text('{"id": "a"}\n')
    code, _, err = run_cli([*EVAL, "--output", str(out)], capfd)
    assert code == 2 and "run.json" in err
    assert (out / "samples" / "niah_single_1.jsonl").read_text() == '{"id": "a"}\n'
    assert (out / "run.json").read_bytes() == b'{"fingerprint": {'


def test_usage_errors_from_click_are_one_line_too(capfd: pytest.CaptureFixture[str]) -> None:
    """Typer's boxed usage errors become one `error:` line naming the flag, with where to look."""
    code, out, err = run_cli(["eval", "--seed", "abc"], capfd)
    assert_one_error_line(code, out, err, ["'--seed'", "`harness eval --help`"])
    assert "╭" not in err and "Usage:" not in err


def test_help_and_version_still_exit_0(capfd: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["eval", "--help"], ["--version"]):
        code, out, err = run_cli(argv, capfd)
        assert code == 0 and out and "error" not in err, argv
    code, out, err = run_cli([], capfd)  # no command: the help, as before
    assert code == 2 and "Usage" in out + err and "error:" not in err


# -- the cache dir (HARNESS_CACHE) where it cannot be one ----------------------------------------------

CACHE_USERS = {
    "models build": (["models", "build", "tiny-random"], True),
    "eval, its built-in model": (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "256",
                                  "--output", "{w}/o"], True),
    "eval, the default database": (["eval", "--model", "tiny-random", "--tasks", "niah_single_1", "--lengths", "256",
                                    "--output", "{w}/o"], False),
    "runs, the default database": (["runs"], False),
}


@pytest.mark.parametrize("argv, own_db", CACHE_USERS.values(), ids=CACHE_USERS.keys())
def test_a_cache_dir_that_is_a_file_is_one_error_line_before_any_work(
        argv: list[str], own_db: bool, workspace: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HARNESS_CACHE", str(workspace / "afile"))
    if not own_db:  # the results database's default place is the cache dir too
        monkeypatch.delenv("HARNESS_DB")
    built: list[str] = []
    from harness.train import tiny

    monkeypatch.setattr(tiny, "build_random", lambda target: built.append(str(target)))  # must not be reached
    code, out, err = run_cli([_fill(a, workspace) for a in argv], capfd)
    assert_one_error_line(code, out, err, [str(workspace / "afile"), "is a file, not a directory"])
    assert built == [] and (workspace / "afile").read_text() == "just a file\n"


def test_a_file_system_fault_no_check_caught_is_one_line_naming_the_path(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    import errno

    from harness import store

    def full_disk(self: object, path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store.Store, "__init__", full_disk)
    code, out, err = run_cli(["runs", "--db", str(workspace / "r.db")], capfd)
    assert code == 1 and "Traceback" not in err + out
    assert err.strip() == f"error: {workspace / 'r.db'}: No space left on device"
    monkeypatch.setenv("HARNESS_CACHE", str(workspace / "c"))
    code, out, err = run_cli(["runs", "--db", str(workspace / "c" / "r.db")], capfd)
    assert code == 1 and err.strip().endswith(f"(in the cache dir {workspace / 'c'}: HARNESS_CACHE moves it)")
