"""`results_lm_eval.json` on lm-eval's scale: percentages become 0-1 fractions (scores and stderrs, tasks and
groups), other scales (LongBench-Chat's 1-10 rating) stay; lm-eval's own `make_table` renders it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.lmeval_export import lm_eval_layout
from harness.results import Result
from harness.tasks import TASKS, get_task

LM_EVAL_PYTHON = Path(os.environ.get("LM_EVAL_PYTHON", "/tmp/lmeval-venv/bin/python"))


def _cell(score: float | None, stderr: float | None, metric: str, n: int = 4) -> dict[str, Any]:
    return {"score": score, "stderr": stderr, "n": n, "metric": metric, "higher_is_better": True}


def _info(task: str) -> dict[str, Any]:
    """The task_info fields the export reads, from the registered task's own metric."""
    metric = get_task(task).metric
    return {"version": 1, "params": {}, "metric": metric.name, "higher_is_better": metric.higher_is_better,
            "percent": metric.percent, "samples_available": 10}


def _result() -> Result:
    tasks = ("niah_single_1", "mmlu_anatomy", "longbench_chat")
    return Result(
        results={
            "niah_single_1": {"4096": _cell(75.0, 25.0, "string_match_all"), "8192": _cell(None, None, "string_match_all", 0)},
            "mmlu_anatomy": {"0": _cell(33.3333, 19.2450, "acc")},
            "longbench_chat": {"0": _cell(7.5, 0.5, "judge_rating_1_10")},
        },
        groups={"ruler": {"tasks": ["niah_single_1"], "lengths": {"4096": {"score": 75.0}}},
                "chat": {"tasks": ["longbench_chat"], "lengths": {"0": {"score": 7.5}}}},
        config={"task_info": {t: _info(t) for t in tasks}, "model": "tiny-random", "date": "2026-01-01T00:00:00+00:00"},
    )


def test_only_the_1_to_10_rating_is_not_a_percentage() -> None:
    """Every registered task's metric declares its scale; all but LongBench-Chat's rating are percentages."""
    not_percent = {name for name in TASKS.names() if not get_task(name).metric.percent}
    assert not_percent == {"longbench_chat"}


def test_percentages_are_exported_as_fractions_other_scales_as_they_are() -> None:
    out = lm_eval_layout(_result())["results"]
    assert out["niah_single_1"]["4096,none"] == 0.75 and out["niah_single_1"]["4096_stderr,none"] == 0.25
    assert out["mmlu_anatomy"]["acc,none"] == 0.333333 and out["mmlu_anatomy"]["acc_stderr,none"] == 0.19245
    assert out["longbench_chat"]["judge_rating_1_10,none"] == 7.5 and out["longbench_chat"]["judge_rating_1_10_stderr,none"] == 0.5
    assert out["ruler"]["4096,none"] == 0.75 and out["ruler"]["4096_stderr,none"] == "N/A"
    assert out["chat"]["judge_rating_1_10,none"] == 7.5
    assert "8192,none" not in out["niah_single_1"]  # a cell without a score is left out, as before


@pytest.mark.skipif(not LM_EVAL_PYTHON.exists(), reason=f"no lm-eval environment at {LM_EVAL_PYTHON} (set LM_EVAL_PYTHON)")
def test_lm_evals_make_table_renders_the_export(tmp_path: Path) -> None:
    path = tmp_path / "results_lm_eval.json"
    path.write_text(json.dumps(lm_eval_layout(_result())))
    script = ("import json, sys; from lm_eval.utils import make_table; d = json.load(open(sys.argv[1])); "
              "print(make_table(d)); print(make_table(d, 'groups'))")
    shown = subprocess.run([str(LM_EVAL_PYTHON), "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("|")[1].strip(" -"): line for line in shown.stdout.splitlines() if line.startswith("|")}
    assert "0.7500" in rows["niah_single_1"] and "0.2500" in rows["niah_single_1"]
    assert "0.3333" in rows["mmlu_anatomy"] and "7.5000" in rows["longbench_chat"]
    assert "0.75" in rows["ruler"] and "7.50" in rows["chat"]  # the groups table
