"""`Result`: scores per task x length with n and stderr, group averages, and the run's config.

Written as `OUTPUT/results.json`, shaped like lm-eval's: `results[task][length] = {score, stderr, n}`; the record
itself (`Result`: fields, version, reading and writing) is `harness.core.records`'.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

from harness.core.records import Result
from harness.core.types import ScoredSample
from harness.scored_lines import scored_rows
from harness.tasks.base import Task, mean, stderr_of_mean

__all__ = ["Result", "aggregate", "failed_samples", "group_label", "group_scores", "sample_rows"]


def aggregate(tasks: list[Task], records: list[ScoredSample], lengths: list[int],
              skipped: dict[tuple[str, int], int] | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per task and length: the metric's aggregate, the stderr of the mean, and n; for tasks that
    truncate or skip inputs, how many samples were truncated and skipped. Failed samples (no answer
    after the backend's retries) are left out of the score and of n, and counted as `failed` (a key
    only in cells that have some)."""
    skipped = skipped or {}
    grouped: dict[tuple[str, int], list[float]] = defaultdict(list)
    judge_failed: dict[tuple[str, int], int] = defaultdict(int)
    truncated: dict[tuple[str, int], int] = defaultdict(int)
    failed: dict[tuple[str, int], int] = defaultdict(int)
    truncating = {r.task for r in records if r.truncated_from is not None} | {task for task, _ in skipped}
    for record in records:
        if record.failed:
            failed[(record.task, record.length)] += 1
            continue
        grouped[(record.task, record.length)].append(record.score)
        judge_failed[(record.task, record.length)] += bool(record.meta.get("judge_failed"))
        truncated[(record.task, record.length)] += bool(record.truncated_from)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for task in tasks:
        for length in task.lengths_for(lengths):
            scores = grouped.get((task.name, length))
            if not scores and not skipped.get((task.name, length)) and not failed.get((task.name, length)):
                continue
            cell: dict[str, Any] = {
                "score": round(task.metric.aggregate(scores), 4) if scores else None,
                "stderr": round(stderr_of_mean(scores), 4) if scores else None,
                "n": len(scores or ()),
                "metric": task.metric.name,
                "higher_is_better": task.metric.higher_is_better,
            }
            if task.name in truncating:
                cell["truncated"] = truncated[(task.name, length)]
                cell["skipped"] = skipped.get((task.name, length), 0)
            if "judge_failed" in next((r.meta for r in records if r.task == task.name), {}):
                cell["judge_failed"] = judge_failed[(task.name, length)]
            if failed.get((task.name, length)):
                cell["failed"] = failed[(task.name, length)]
            cell.update(_limit_counts(records, task.name, length))
            table.setdefault(task.name, {})[str(length)] = cell
    return table


LIMIT_KEYS = ("hit_limit", "think_truncated")  # generations that ended at their token limit; think blocks left open


def _limit_counts(records: list[ScoredSample], task: str, length: int) -> dict[str, int]:
    """Per cell, answered samples whose generation hit its token limit and whose think block was left open; each key
    present for a task whose samples record it (always with a thinking budget, else only once one hit the limit)."""
    mine = [r for r in records if r.task == task and not r.failed]
    return {key: sum(bool(r.meta.get(key)) for r in mine if r.length == length)
            for key in LIMIT_KEYS if any(key in r.meta for r in mine)}


def group_scores(table: dict[str, dict[str, dict[str, Any]]], groups: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per group present in the run: at each length the mean over its tasks (`macro`) and over its
    samples (`micro`; the group's `score` when it is size-weighted, as lm-eval's MMLU), Avg over
    lengths, and the group's own summary (RULER: wAvg, effective length). A group run on a subset of its
    tasks (`mmlu` from 1 of 57 subjects) is flagged `partial`, with `tasks_run` of `tasks_total`."""
    out: dict[str, dict[str, Any]] = {}
    ordered = sorted(groups.items(), key=lambda item: bool(getattr(item[1], "categories", ())))  # categories first
    for group, spec in ordered:
        present = [t for t in spec.tasks if t in table]
        if not present:
            continue
        lengths = sorted({length for t in present for length in table[t]}, key=int)
        per_length = {}
        for length in lengths:
            cells = [table[t][length] for t in present if table[t].get(length, {}).get("score") is not None]
            if not cells:
                continue
            macro = mean([c["score"] for c in cells])
            n = sum(c["n"] for c in cells)
            micro = sum(c["score"] * c["n"] for c in cells) / n if n else 0.0
            per_length[length] = {"score": round(micro if getattr(spec, "weighted", False) else macro, 4),
                                  "macro": round(macro, 4), "micro": round(micro, 4), "n": n, "tasks": len(cells)}
            categories = getattr(spec, "categories", ())
            if categories:
                per_length[length].update(_category_mean(out, categories, length))
        avg = round(mean([v["score"] for v in per_length.values()]), 4)
        complete = len(present) == len(spec.tasks)
        out[group] = {"lengths": per_length, "avg": avg, "tasks": present, "complete": complete,
                      "partial": not complete, "tasks_run": len(present), "tasks_total": len(spec.tasks)}
        if spec.summarize is not None:
            out[group].update(spec.summarize({int(k): v["score"] for k, v in per_length.items()}))
    return out


def _category_mean(done: dict[str, dict[str, Any]], categories: tuple[str, ...], length: str) -> dict[str, Any]:
    """A group of categories (HELMET's overall) at one length: the mean of its categories' scores (each the
    mean of its own tasks), not of all tasks; the categories' scores beside it."""
    scores = {c: done[c]["lengths"][length]["score"] for c in categories
              if c in done and length in done[c]["lengths"]}
    if not scores:
        return {}
    return {"score": round(mean(list(scores.values())), 4), "categories": scores}


def group_label(group: str, info: dict[str, Any]) -> str:
    """How a group is shown: `mmlu (1/57)` when only some of its tasks ran, else its name."""
    if info.get("partial") or not info.get("complete", True):
        run, total = info.get("tasks_run", len(info.get("tasks", []))), info.get("tasks_total")
        return f"{group} ({run}/{total})" if total else f"{group} ({run} of its tasks)"
    return group


def sample_rows(results_path: Path) -> Iterator[dict[str, Any]]:
    """The scored samples of a run, as written to `samples/<task>.jsonl` beside its results.json (failed
    samples, which have no score, left out). A bad line is skipped and reported, the others kept."""
    for file in sorted((results_path.parent / "samples").glob("*.jsonl")):
        yield from (row for row in scored_rows(file) if not row.get("failed"))


def scores_by_cell(results_path: Path) -> dict[tuple[str, int], dict[str, float]]:
    """Per cell (task, length), the run's scored samples: sample id -> score (`sample_rows`' lines)."""
    found: dict[tuple[str, int], dict[str, float]] = {}
    for row in sample_rows(results_path):
        found.setdefault((row["task"], int(row["length"])), {})[row["id"]] = float(row["score"])
    return found


def failed_samples(result: Result) -> int:
    """How many samples of a run got no answer (its cells' `failed`)."""
    return sum(int(cell.get("failed", 0)) for cells in result.results.values() for cell in cells.values())
