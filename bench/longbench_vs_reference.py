"""lc-harness's LongBench scoring against the reference `eval.py` + `metrics.py`, on generated predictions.

Needs the reference's `LongBench/` folder (THUDM/LongBench: `eval.py`, `metrics.py`) and its metric
dependencies (`pip install fuzzywuzzy`; jieba and rouge come with lc-harness):
`python bench/longbench_vs_reference.py --reference PATH/LongBench [--per-dataset 400]`.
For each of the 21 datasets it draws predictions of many shapes (the answer, the answer inside a sentence,
on a later line, perturbed, truncated, other answers, class lists, paragraph numbers, code lines, Chinese),
scores each with the reference's `scorer` and with lc-harness, and prints both means and the disagreements.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
from pathlib import Path

from harness.tasks.longbench.task import DATASETS, score_example

WORDS = ["river", "lantern", "harbor", "copper", "the", "a", "of", "Paris", "1912", "yes", "no", "unanswerable"]
ZH = ["会议", "讨论", "预算", "计划", "我们", "。", "，", "的", "了"]
CLASSES = ["Location", "Number", "Description", "Human being", "Human", "Entity", "Abbreviation"]


def answers_for(dataset: str, rng: random.Random) -> tuple[list[str], list[str] | None]:
    if dataset in ("trec", "lsht"):
        return [rng.choice(CLASSES)], CLASSES
    if dataset == "passage_retrieval_en":
        return [f"Paragraph {rng.randint(1, 30)}"], None
    if dataset == "passage_retrieval_zh":
        return [f"段落{rng.randint(1, 30)}"], None
    if dataset == "passage_count":
        return [str(rng.randint(1, 30))], None
    if dataset in ("lcc", "repobench-p"):
        return [f"    return {rng.choice(WORDS)} + {rng.randint(0, 9)}"], None
    if dataset.endswith("_zh") or dataset in ("dureader", "vcsum"):
        return ["".join(rng.choices(ZH, k=rng.randint(2, 8))) for _ in range(rng.randint(1, 2))], None
    return [" ".join(rng.choices(WORDS, k=rng.randint(1, 6))) for _ in range(rng.randint(1, 3))], None


def prediction_for(dataset: str, answers: list[str], classes: list[str] | None, rng: random.Random) -> str:
    answer = rng.choice(answers)
    pool = ZH if (dataset.endswith("_zh") or dataset in ("dureader", "vcsum", "lsht")) else WORDS
    noise = (" " if pool is WORDS else "").join(rng.choices(pool, k=rng.randint(0, 5)))
    shapes = [
        answer, f"{noise} {answer}.", f"\n{answer}\n{noise}", f"{noise}\n{answer}", answer.upper(), answer[: len(answer) // 2],
        noise, "", f"```\n{answer}", f"# comment\n{answer}", f"{answer} and {noise}",
        " ".join(rng.sample(classes, k=rng.randint(1, 3))) if classes else noise,
        f"Paragraph {rng.randint(1, 30)} and Paragraph {rng.randint(1, 30)}", f"{rng.randint(1, 30)}, {rng.randint(1, 30)}",
    ]
    return rng.choice(shapes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, required=True, help="the reference's LongBench/ folder")
    parser.add_argument("--per-dataset", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sys.path.insert(0, str(args.reference))
    reference = importlib.import_module("eval")
    print(f"{'dataset':22} {'n':>5} {'reference':>10} {'lc-harness':>10} {'differ':>7}")
    total_differ = 0
    for dataset in DATASETS:
        rng = random.Random(f"{dataset}|{args.seed}")
        preds, answers, ours = [], [], []
        classes: list[str] | None = None
        for _ in range(args.per_dataset):
            truths, classes = answers_for(dataset, rng)
            pred = prediction_for(dataset, truths, classes, rng)
            preds.append(pred)
            answers.append(truths)
            ours.append(100 * score_example(dataset, pred, tuple(truths), classes or []))
        theirs_mean = reference.scorer(dataset, preds, answers, classes)
        our_mean = round(sum(ours) / len(ours), 2)
        differ = sum(
            abs(reference.scorer(dataset, [p], [a], classes) - o) > 0.01 for p, a, o in zip(preds, answers, ours)
        )
        total_differ += differ
        print(f"{dataset:22} {len(preds):>5} {theirs_mean:>10.2f} {our_mean:>10.2f} {differ:>7}")
    print(f"disagreeing predictions: {total_differ}")


if __name__ == "__main__":
    main()
