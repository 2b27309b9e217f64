"""lc-harness's InfiniteBench metrics against the reference scorer, on the reference's own predictions.

Needs a checkout of OpenBMB/InfiniteBench (its `src/compute_scores.py` and the `results/<model>/preds_*.jsonl`
files it ships): `python bench/infinitebench_vs_reference.py --reference PATH`. For every prediction line it
scores with the reference's `get_score_one` and with lc-harness's metric (labels turned into text, as lc-harness
reads them) and prints, per task, the number of lines, both means and the number of disagreeing lines.
The reference computes ROUGE through `evaluate.load("rouge")`, which needs the hub; a stand-in with the same
`rouge-score` call is injected, so longbook_sum_eng compares the two code paths around the same scorer.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness.tasks.infinitebench.task import SCORERS


class _RougeStandIn:
    """What `evaluate.load("rouge").compute(..., use_aggregator=False)` returns, from `rouge-score` directly."""

    def compute(self, predictions: list[str], references: list[Any], use_aggregator: bool = False) -> dict[str, list[float]]:
        from rouge_score import rouge_scorer

        scorer = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=False)
        out = []
        for pred, ref in zip(predictions, references):
            result = scorer.score_multi(ref, pred) if isinstance(ref, list) else scorer.score(ref, pred)
            out.append(result["rougeLsum"].fmeasure)
        return {"rougeLsum": out}


def load_reference(src: Path) -> Any:
    sys.modules["evaluate"] = types.SimpleNamespace(load=lambda name: _RougeStandIn())  # type: ignore[assignment]
    sys.modules["args"] = types.SimpleNamespace(parse_args=lambda: None)  # type: ignore[assignment]
    sys.path.insert(0, str(src))
    return importlib.import_module("compute_scores")


def as_targets(task: str, label: Any) -> tuple[str, ...]:
    """The label as lc-harness's samples carry it (text)."""
    if task == "math_calc":
        values = label[0] if isinstance(label, list) and label and isinstance(label[0], list) else label
        return tuple(str(v) for v in values)
    values = label if isinstance(label, list) else [label]
    return tuple(str(v) for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, required=True, help="checkout of OpenBMB/InfiniteBench")
    args = parser.parse_args()
    reference = load_reference(args.reference / "src")
    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    crashed: dict[str, int] = defaultdict(int)
    for path in sorted((args.reference / "results").glob("*/preds_*.jsonl")):
        model = path.parent.name
        task = path.stem.removeprefix("preds_")
        if task not in SCORERS:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a few shipped files hold concatenated or cut records
                continue
            pred = record.get("prediction", record.get("pred", ""))
            label = record.get("ground_truth", record.get("label"))
            try:
                theirs = float(reference.get_score_one(pred, label, task, model))
            except Exception:  # the reference crashes on some lines (e.g. an int() of a float): not comparable
                crashed[task] += 1
                continue
            if task == "math_calc":
                from harness.tasks.infinitebench.metrics import math_calc

                ours = math_calc(pred, as_targets(task, label), skip_first=model == "gpt4")
            else:
                ours = SCORERS[task](pred, as_targets(task, label))
            rows[task].append((theirs, ours))
    print(f"{'task':22} {'lines':>6} {'reference':>10} {'lc-harness':>10} {'differ':>7} {'ref-crash':>9}")
    for task, pairs in sorted(rows.items()):
        differ = sum(abs(a - b) > 1e-9 for a, b in pairs)
        ref_mean = 100 * sum(a for a, _ in pairs) / len(pairs)
        our_mean = 100 * sum(b for _, b in pairs) / len(pairs)
        print(f"{task:22} {len(pairs):>6} {ref_mean:>10.3f} {our_mean:>10.3f} {differ:>7} {crashed[task]:>9}")


if __name__ == "__main__":
    main()
