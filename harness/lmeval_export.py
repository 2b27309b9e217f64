"""`OUTPUT/results_lm_eval.json`: a run's results in lm-evaluation-harness 0.4's layout, for tools that read it
(`lm_eval.utils.make_table`, lm-eval's result viewers, W&B's lm-eval integration).

Metric keys are `"<metric>,<filter>"` as lm-eval writes them. Tasks swept over context lengths use the length
as the metric (`"4096,none"`), as lm-eval's own RULER tasks do; short-context tasks use their metric
(`"acc,none"`, `"exact_match,strict-match"`). Values are on lm-eval's scale: a metric that is a percentage here
(`task_info[task].percent`, every metric but LongBench-Chat's 1-10 judge rating) is written as a 0-1 fraction, as
lm-eval writes accuracies, exact matches and RULER's string matches, and so is its stderr (the standard error of
the mean; `"N/A"` for groups); other metrics keep their own scale. A group's cells are fractions when all its
tasks' metrics are percentages. A pure function of `results.json`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.core.records import write_atomic
from harness.results import Result, group_label

FILE = "results_lm_eval.json"


def _metric(length: str, metric: str) -> str:
    """The `metric,filter` key of one cell: the length for long-context cells, the metric for short ones."""
    name = metric if length == "0" else length
    return name if "," in name else f"{name},none"


def _fraction(value: Any, percent: bool) -> Any:
    """A 0-100 value as lm-eval's 0-1 fraction (None and "N/A" as they are); other scales unchanged."""
    return round(value / 100, 6) if percent and isinstance(value, (int, float)) else value


def _split(key: str) -> tuple[str, str]:
    name, _, filt = key.partition(",")
    return name, filt


def lm_eval_layout(result: Result) -> dict[str, Any]:
    """The lm-eval 0.4 results dict of `result`."""
    config = result.config
    task_info: dict[str, Any] = config.get("task_info", {})
    results: dict[str, dict[str, Any]] = {}
    higher: dict[str, dict[str, bool | None]] = {}
    n_samples: dict[str, dict[str, int]] = {}
    percent = {task: bool(task_info.get(task, {}).get("percent", True)) for task in result.results}
    for task, cells in sorted(result.results.items()):
        entry: dict[str, Any] = {"alias": task}
        effective = 0
        for length, cell in sorted(cells.items(), key=lambda kv: int(kv[0])):
            effective += cell["n"]
            if cell["score"] is None:
                continue
            key = _metric(length, cell["metric"])
            name, filt = _split(key)
            entry[key] = _fraction(cell["score"], percent[task])
            entry[f"{name}_stderr,{filt}"] = _fraction(cell["stderr"], percent[task])
            higher.setdefault(task, {})[name] = bool(cell.get("higher_is_better", True))
        entry["sample_len"] = effective
        results[task] = entry
        info = task_info.get(task, {})
        available = info.get("samples_available")
        n_samples[task] = {"original": available * len(cells) if available is not None else effective, "effective": effective}
    groups: dict[str, dict[str, Any]] = {}
    for group, info in sorted(result.groups.items()):
        entry = {"alias": group_label(group, info)}
        metric = next((c["metric"] for t in info.get("tasks", []) for c in result.results.get(t, {}).values()), "score")
        fractions = all(percent.get(t, True) for t in info.get("tasks", []))
        for length, cell in sorted(info.get("lengths", {}).items(), key=lambda kv: int(kv[0])):
            key = _metric(length, metric)
            name, filt = _split(key)
            entry[key] = _fraction(cell["score"], fractions)
            entry[f"{name}_stderr,{filt}"] = "N/A"
            directions = {higher.get(t, {}).get(name) for t in info.get("tasks", [])} - {None}
            higher.setdefault(group, {})[name] = directions.pop() if len(directions) == 1 else None
        groups[group] = entry
        results[group] = entry
    environment = config.get("environment", {})
    started = config.get("date")
    return {
        "results": results,
        **({"groups": groups} if groups else {}),
        "group_subtasks": {group: list(info.get("tasks", [])) for group, info in sorted(result.groups.items())},
        "configs": {task: _task_config(task, info) for task, info in sorted(task_info.items())},
        "versions": {task: info["version"] for task, info in sorted(task_info.items()) if "version" in info},
        "n-shot": {task: info["params"]["num_fewshot"] for task, info in sorted(task_info.items())
                   if isinstance(info.get("params", {}).get("num_fewshot"), int)},
        "higher_is_better": higher,
        "n-samples": n_samples,
        "config": {
            "model": config.get("model"),
            "model_args": config.get("model_args", {}),
            "backend": config.get("backend"),
            "limit": config.get("limit"),
            "random_seed": config.get("seed"),
            "chat_template": config.get("chat_template"),
            "lengths": config.get("lengths"),
        },
        "git_hash": environment.get("git_sha"),
        "date": datetime.fromisoformat(started).timestamp() if started else None,
        "harness": "lc-harness",
    }


def _task_config(task: str, info: dict[str, Any]) -> dict[str, Any]:
    params = info.get("params", {})
    return {
        "task": task,
        "num_fewshot": params.get("num_fewshot"),
        "generation_kwargs": {"until": info.get("stop", []), "max_gen_toks": info.get("max_new_tokens"), "do_sample": False,
                              "temperature": 0.0},
        "metric_list": [{"metric": info.get("metric"), "higher_is_better": info.get("higher_is_better", True)}],
        "metadata": {"version": info.get("version"), "params": params},
    }


def write_lm_eval(result: Result, output: Path) -> Path:
    """Write `OUTPUT/results_lm_eval.json` atomically; returns its path."""
    path = output / FILE
    write_atomic(path, json.dumps(lm_eval_layout(result), indent=2, sort_keys=True) + "\n")
    return path
