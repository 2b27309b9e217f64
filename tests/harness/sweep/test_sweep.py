"""Sweeps on the tiny random model: stages cached by content, failures isolated, a kill resumed to
the same board, a variant added later runs alone, the Ray executor on a local instance."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml

from harness.core.errors import HarnessError
from harness.sweep import run_sweep
from harness.sweep.config import parse_sweep
from harness.sweep.stages import plan_variant

NEEDLES = {"plugin": "needles", "config": {"tokenizer": "tiny-random", "examples": 8, "lengths": [256]}}
SWEEP = {
    "name": "plumbing",
    "base_model": "tiny-random",
    "variants": [
        {"name": "control", "kind": "none"},
        {"name": "needles", "synth": NEEDLES},
        {"name": "broken", "synth": {"plugin": "needles", "config": {"tokenizer": "tiny-random", "examples": 2, "lengths": [99999]}}},
    ],
    "train": {"stages": "256:4", "learning_rate": 1e-3, "save_steps": 2},
    "eval": {"tasks": ["niah_single_1"], "lengths": [256], "limit": 2},
}


def test_config_errors_name_the_field() -> None:
    cases = [
        ({**SWEEP, "variants": [{"name": "a", "synth": NEEDLES, "data": "x"}]}, r"variants\[0\] \(a\): give exactly one of"),
        ({**SWEEP, "variants": [{"name": "a", "kind": "none"}, {"name": "a", "kind": "none"}]}, "variant name 'a' is used twice"),
        ({**SWEEP, "train": {"stage": "1k:3"}}, "train: unknown field 'stage'"),
        ({**SWEEP, "eval": {"tasks": ["niah_single_1"]}}, r"eval.lengths is required"),
        ({**SWEEP, "variants": [{"name": "a", "synth": {"config": {}}}]}, r"'plugin' .* is required"),
        ({**SWEEP, "variants": [{"name": "a", "synth": {**NEEDLES, "generator_args": {"api_key": "sk-1"}}}]}, "secret"),
    ]
    for data, message in cases:
        with pytest.raises(HarnessError, match=message):
            parse_sweep(data, "sweep.yaml")


def test_stage_keys_follow_content() -> None:
    config = parse_sweep(SWEEP, "sweep.yaml")
    control, needles, broken = (plan_variant(config, v) for v in config.variants)
    assert [s.kind for s in control] == ["eval"] and [s.kind for s in needles] == ["synth", "train", "eval"]
    assert needles[1].needs == (needles[0].id,) and needles[2].needs == (needles[1].id,)
    assert len({s.id for s in [*control, *needles, *broken]}) == 7  # the control's eval differs from the trained ones
    again = parse_sweep(json.loads(json.dumps(SWEEP)), "sweep.yaml")
    assert [s.id for s in plan_variant(again, again.variants[1])] == [s.id for s in needles]
    changed = parse_sweep({**SWEEP, "train": {**SWEEP["train"], "learning_rate": 2e-3}}, "sweep.yaml")
    moved = plan_variant(changed, changed.variants[1])
    assert moved[0].id == needles[0].id and moved[1].id != needles[1].id and moved[2].id != needles[2].id


@pytest.mark.slow
def test_sweep_caches_isolates_failures_and_adds_variants(tiny_path, tmp_path: Path) -> None:
    config = parse_sweep(SWEEP, "sweep.yaml")
    first = run_sweep(config, tmp_path / "sweep")
    assert first["variants"]["control"]["status"] == "done" and first["variants"]["needles"]["status"] == "done"
    broken = first["variants"]["broken"]
    assert broken["status"] == "failed" and "no usable training examples" in broken["error"]
    assert [s["status"] for s in broken["stages"]] == ["done", "failed", "not run"]
    assert first["stages_run"] == 5
    results = json.loads(Path(first["variants"]["needles"]["results"]).read_text())
    assert results["results"]["niah_single_1"]["256"]["n"] == 2
    again = run_sweep(config, tmp_path / "sweep")
    assert again["stages_run"] == 0 and all(s["cached"] for s in again["variants"]["needles"]["stages"])
    more = parse_sweep({**SWEEP, "variants": [*SWEEP["variants"], {"name": "needles-6", "synth": {
        **NEEDLES, "config": {**NEEDLES["config"], "examples": 6}}}]}, "sweep.yaml")
    added = run_sweep(more, tmp_path / "sweep")
    assert added["stages_run"] == 3 and not any(s["cached"] for s in added["variants"]["needles-6"]["stages"])
    assert all(s["cached"] for s in added["variants"]["needles"]["stages"])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True, cwd=cwd, env=os.environ.copy())


@pytest.mark.slow
def test_a_killed_sweep_reruns_to_the_same_board(tiny_path, tmp_path: Path) -> None:
    sweep = {**SWEEP, "variants": SWEEP["variants"][:2]}
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    (tmp_path / "board.yaml").write_text(yaml.safe_dump({"name": "plumbing", "sweep": "runs/sweeps/plumbing", "baseline": "control",
                                                         "columns": [{"task": "niah_single_1"}]}))
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "sweep.yaml").write_text((tmp_path / "sweep.yaml").read_text())
    (clean / "board.yaml").write_text((tmp_path / "board.yaml").read_text())
    assert _cli("sweep", "sweep.yaml", cwd=clean).returncode == 0
    assert _cli("leaderboard", "build", "board.yaml", cwd=clean).returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "harness", "sweep", "sweep.yaml"], cwd=tmp_path, env=os.environ.copy(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stages = tmp_path / "runs" / "sweeps" / "plumbing" / "stages"
    deadline = time.time() + 120
    while time.time() < deadline and not any('"done"' in p.read_text() for p in stages.glob("synth-*/stage.json")):
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)  # killed midway: after the synthesis, before the end
    process.wait()
    assert not (tmp_path / "runs" / "sweeps" / "plumbing" / "sweep.json").exists()
    resumed = _cli("sweep", "sweep.yaml", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert re.search(r"needles\s+done\s+\d\s+[1-3]", resumed.stdout)  # the synthesis at least was reused
    assert _cli("leaderboard", "build", "board.yaml", cwd=tmp_path).returncode == 0
    for name in ("board.csv", "board.md"):
        assert (tmp_path / "runs" / "leaderboards" / "plumbing" / name).read_text() == \
            (clean / "runs" / "leaderboards" / "plumbing" / name).read_text()


@pytest.mark.slow
@pytest.mark.skipif(find_spec("ray") is None, reason="needs Ray (pip install -e '.[dev]' installs it)")
def test_the_ray_executor_on_a_local_instance(tiny_path, tmp_path: Path) -> None:
    config = parse_sweep({**SWEEP, "variants": SWEEP["variants"][:2]}, "sweep.yaml")
    summary = run_sweep(config, tmp_path / "ray", executor="ray")
    assert {v["status"] for v in summary["variants"].values()} == {"done"} and summary["stages_run"] == 4
    local = run_sweep(config, tmp_path / "ray")  # the same stages, now cached
    assert local["stages_run"] == 0


@pytest.mark.slow
def test_a_process_pool_runs_a_shared_stage_once(tiny_path, tmp_path: Path) -> None:
    same = {"name": "twin", "synth": NEEDLES}
    config = parse_sweep({**SWEEP, "variants": [SWEEP["variants"][1], same]}, "sweep.yaml")
    summary = run_sweep(config, tmp_path / "pool", jobs=2)
    assert {v["status"] for v in summary["variants"].values()} == {"done"}
    ran = [s["id"] for v in summary["variants"].values() for s in v["stages"] if not s["cached"]]
    assert len(ran) == 3 and len(set(ran)) == 3  # each of the three shared stages ran in one worker only
