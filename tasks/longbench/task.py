"""LongBench (v1): 21 datasets, and LongBench-E (13 of them, bucketed by length), on the published
files, truncated to each context length.

As the reference (`pred.py`, `eval.py`, `metrics.py` @2e00731): the dataset's prompt filled with
the example's fields, middle truncation of the prompt tokens, the chat template except for trec,
triviaqa, samsum, lsht, lcc and repobench-p, per-dataset generation lengths; each example scored as
the best over its answers (first line only for trec, triviaqa, samsum, lsht), the mean x 100.
One deviation: samsum stops on EOS only (the reference also stops on a newline, after forbidding
an empty answer with `min_length`); first-line scoring gives the same answer line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, ClassVar

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import ScoredSample
from harness.tasks.base import Counter, Metric, Task, mean
from harness.tasks.data import TaskOptions
from harness.tasks.docsource import DocSource
from harness.tasks.options import Options
from harness.tasks.realdoc import DocFlow, Rendered
from harness.tasks.textmetrics import code_similarity, qa_f1, qa_f1_zh_words, rouge_l, rouge_l_zh
from harness.tasks.truncation import check_mode

HUB_ID = "THUDM/LongBench"
NO_CHAT = ("trec", "triviaqa", "samsum", "lsht", "lcc", "repobench-p")
FIRST_LINE = ("trec", "triviaqa", "samsum", "lsht")
E_DATASETS = ("qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "gov_report", "multi_news", "trec", "triviaqa",
              "samsum", "passage_count", "passage_retrieval_en", "lcc", "repobench-p")
ALL = 10**9
BUCKETS = (("0-4k", 4000), ("4-8k", 8000), ("8k+", None))


def count_score(prediction: str, truth: str, all_classes: list[str]) -> float:
    """Share of the numbers in the output that equal the count."""
    numbers = re.findall(r"\d+", prediction)
    return sum(n == str(truth) for n in numbers) / len(numbers) if numbers else 0.0


def _retrieval(pattern: str) -> Callable[[str, str, list[str]], float]:
    def score(prediction: str, truth: str, all_classes: list[str]) -> float:
        matches = re.findall(pattern, truth)
        if not matches:
            raise HarnessError(f"LongBench retrieval answer {truth!r} does not match {pattern!r}")
        numbers = re.findall(r"\d+", prediction)
        return sum(n == matches[0] for n in numbers) / len(numbers) if numbers else 0.0

    return score


def classification_score(prediction: str, truth: str, all_classes: list[str]) -> float:
    """1 / (number of classes named in the output) when the true class is among them; a class
    contained in the true class's name (and not equal to it) does not count."""
    matched = [c for c in all_classes if c in prediction]
    for term in matched:  # removing while iterating (it skips the next term), exactly as the reference does
        if term in truth and term != truth:
            matched.remove(term)
    return 1.0 / len(matched) if truth in matched else 0.0


def _plain(metric: Callable[[str, str], float]) -> Callable[[str, str, list[str]], float]:
    return lambda prediction, truth, all_classes: metric(prediction, truth)


METRICS: dict[str, tuple[str, Callable[[str, str, list[str]], float]]] = {
    **{d: ("qa_f1", _plain(qa_f1)) for d in ("narrativeqa", "qasper", "multifieldqa_en", "hotpotqa", "2wikimqa", "musique", "triviaqa")},
    "multifieldqa_zh": ("qa_f1_zh", _plain(qa_f1_zh_words)),
    **{d: ("rouge_zh", _plain(rouge_l_zh)) for d in ("dureader", "vcsum")},
    **{d: ("rouge", _plain(rouge_l)) for d in ("gov_report", "qmsum", "multi_news", "samsum")},
    **{d: ("classification", classification_score) for d in ("trec", "lsht")},
    "passage_retrieval_en": ("retrieval", _retrieval(r"Paragraph (\d+)")),
    "passage_retrieval_zh": ("retrieval_zh", _retrieval(r"段落(\d+)")),
    "passage_count": ("count", count_score),
    **{d: ("code_sim", _plain(code_similarity)) for d in ("lcc", "repobench-p")},
}


def templates() -> dict[str, Any]:
    """The datasets' prompts and generation lengths (`templates.toml` beside this file)."""
    return toml_beside(__file__, "templates.toml")


def _hub(config: str, revision: str | None) -> Any:
    import datasets

    return datasets.load_dataset(HUB_ID, config, split="test", revision=revision)


SOURCE = DocSource("LongBench", "longbench", lambda config: f"{config}.jsonl", _hub,
                   (("context", str), ("input", str), ("answers", (list, str))),
                   (("all_classes", (list, type(None))), ("length", (int, type(None)))), hub_id=HUB_ID)


def first_line(text: str) -> str:
    return text.lstrip("\n").split("\n")[0]


def score_example(dataset: str, prediction: str, answers: tuple[str, ...], all_classes: list[str]) -> float:
    """The reference's per-example score (0-1): the best over the answers."""
    if dataset in FIRST_LINE:
        prediction = first_line(prediction)
    metric = METRICS[dataset][1]
    return max((metric(prediction, truth, all_classes) for truth in answers), default=0.0)


def render(dataset: str, row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """The dataset's prompt filled with the row's fields (cut as a whole: no chat wrapper of ours)."""
    answers = row["answers"] if isinstance(row["answers"], list) else [row["answers"]]
    meta = {"example_id": row.get("_id", index), "all_classes": list(row.get("all_classes") or []),
            "source_length": row.get("length")}
    return Rendered(templates()[dataset]["prompt"].format(**row), tuple(str(a) for a in answers), meta)


def bucket_of(source_length: int) -> str:
    """LongBench-E's bucket of an example by its length field (words, or characters for Chinese)."""
    return next(name for name, bound in BUCKETS if bound is None or source_length < bound)


def e_report(records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """LongBench-E's scores per length bucket, at each evaluated context length."""
    by_length: dict[str, dict[str, list[float]]] = {}
    for record in records:
        source_length = record.meta.get("source_length")
        if source_length is None:
            continue
        by_length.setdefault(str(record.length), {}).setdefault(bucket_of(int(source_length)), []).append(record.score)
    return {"buckets": {length: {name: round(mean(buckets[name]), 2) for name, _ in BUCKETS if name in buckets}
                        for length, buckets in sorted(by_length.items(), key=lambda kv: int(kv[0]))}}


@dataclass(frozen=True)
class LongBenchOptions(Options):
    """LongBench's `--task-args`: how a long prompt is cut (`truncate`) and the folder of its jsonl files
    (`longbench`, else `<data dir>/longbench`, else the hub)."""

    shared: ClassVar[frozenset[str]] = frozenset({"truncate"})

    truncate: str = "middle"
    longbench: str | None = None

    def check(self) -> None:
        check_mode(self.truncate)


def longbench_task(dataset: str, options: TaskOptions, e: bool = False) -> Task:
    """One LongBench dataset (`e`: its LongBench-E file); data read on first use."""
    spec = templates()[dataset]
    config = f"{dataset}_e" if e else dataset
    task_name = f"longbench_e_{dataset}" if e else f"longbench_{dataset}"
    load = partial(SOURCE.load, options, config)
    metric_name, metric = METRICS[dataset]
    flow = DocFlow(task_name, f"LongBench {dataset}", load, partial(render, dataset), spec["max_new_tokens"],
                   check_mode(str(options.args.get("truncate", "middle"))))
    return Task(
        name=task_name,
        make_sample=flow.make_sample,
        metric=Metric(metric_name, lambda output, targets: 100.0 * score_example(dataset, output, tuple(targets), [])),
        max_new_tokens=spec["max_new_tokens"],
        postprocess=lambda text: text,
        chat=dataset not in NO_CHAT,
        num_samples=ALL,  # every example of the file (`size`), unless --limit
        params={"benchmark": "longbench", "dataset": config, "truncate": options.args.get("truncate", "middle")},
        score_sample=lambda sample, output: 100.0 * score_example(dataset, output, sample.targets, sample.meta.get("all_classes", [])),
        size=lambda: len(load().rows),
        data_digest=lambda: load().digest,
        data_source=lambda: load().origin,
        report=e_report if e else None,
        options=LongBenchOptions.parse(options.args),
        halve_generation=True,
    )


DATASETS = tuple(METRICS)
