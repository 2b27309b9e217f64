"""The whole `helmet` group, `longbench_v2` and `babilong` end to end through the CLI on one folder of test-written
files of the real schemas (tests/tasks/demo_data.py): the categories x lengths table and HELMET's overall."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.tasks import GROUPS
from tests.tasks.demo_data import write_all


@pytest.fixture(scope="module")
def data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_all(tmp_path_factory.mktemp("demo-data"), shared_data / "pg_essays")


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_helmet_prints_its_categories_and_overall(tiny_path, data: Path, tmp_path: Path) -> None:
    out = tmp_path / "helmet"
    done = _harness("eval", "--model", "tiny-random", "--tasks", "helmet", "--lengths", "4k", "--limit", "1",
                    "--data-dir", str(data), "--judge", "tiny-random", "--max-new-tokens", "4", "--output", str(out),
                    "--task-args", "nli=llm:tiny-random,helmet_summ.judge_max_tokens=4")
    assert done.returncode == 0, done.stderr[-3000:]
    categories = [f"helmet_{c}" for c in ("recall", "rag", "rerank", "cite", "longqa", "summ", "icl")]
    for name in [*categories, "helmet"]:
        assert f"[{name}]" in done.stdout
    result = json.loads((out / "results.json").read_text())
    assert set(result["results"]) == set(GROUPS["helmet"].tasks)
    overall = result["groups"]["helmet"]["lengths"]["4096"]
    assert set(overall["categories"]) == set(categories)
    assert overall["score"] == round(sum(overall["categories"].values()) / 7, 4)
    assert result["config"]["judge"] == "tiny-random"


@pytest.mark.slow
@pytest.mark.parametrize("task,args", [("longbench_v2", "mode=direct"), ("longbench_v2", "mode=no_context"),
                                       ("longbench_v2", "mode=rag"), ("babilong", "haystack=generated")])
def test_each_family_runs_on_the_same_folder(tiny_path, data: Path, tmp_path: Path, task: str, args: str) -> None:
    done = _harness("eval", "--model", "tiny-random", "--tasks", task, "--lengths", "2k", "--limit", "1",
                    "--data-dir", str(data), "--task-args", args, "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert all(cell["2048"]["n"] == 1 for cell in results.values())
