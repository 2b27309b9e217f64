"""GSM8K as lm-evaluation-harness's `gsm8k_cot`: 8 chain-of-thought exemplars (`Q: ..\\nA: ..`, joined
by blank lines), greedy generation until `Q:`, exact match of the number after "The answer is"
(strict-match, the score) and of the last number in the output (flexible-extract, in the report),
both after lm-eval's `regexes_to_ignore` and ignoring case. No chat template (lm-eval's default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Sequence

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Sample, ScoredSample, sample_id
from harness.tasks.base import Counter, Metric, Task, mean
from harness.tasks.data import TaskOptions
from harness.tasks.docsource import DocSource, Rows
from harness.tasks.options import Options

INVALID = "[invalid]"  # lm-eval's RegexFilter fallback


def spec() -> dict[str, Any]:
    """The exemplars and settings of `gsm8k_cot` (`cot.toml` beside this file)."""
    return toml_beside(__file__, "cot.toml")


def _hub(split: str, revision: str | None) -> Any:
    import datasets

    return datasets.load_dataset("openai/gsm8k", "main", split=split, revision=revision)


SOURCE = DocSource("GSM8K", "gsm8k", lambda split: f"{split}.jsonl", _hub, (("question", str), ("answer", str)),
                   hub_id="openai/gsm8k")


def target_of(answer: str) -> str:
    """lm-eval's doc_to_target: the text after the last `####`."""
    return answer.split("####")[-1].strip()


def prompt_for(question: str) -> str:
    s = spec()
    template: str = s["doc_to_text"]
    delimiter: str = s["fewshot_delimiter"]
    shots = [template.format(question=x["question"]) + s["target_delimiter"] + x["target"] for x in s["fewshot"]]
    return delimiter.join([*shots, template.format(question=question)])


def extract(output: str, pattern: str, group_select: int) -> str:
    """lm-eval's RegexFilter: the selected match (first non-empty group of a tuple), stripped."""
    matches = re.findall(pattern, output)
    if not matches:
        return INVALID
    match: str | tuple[str, ...] = matches[group_select]  # a tuple when the pattern has groups
    if isinstance(match, tuple):
        match = next((m for m in match if m), INVALID)
    return match.strip()


def exact_match(prediction: str, reference: str) -> float:
    """lm-eval's exact_match with gsm8k_cot's regexes_to_ignore and ignore_case."""
    for pattern in spec()["regexes_to_ignore"]:
        prediction = re.sub(pattern, "", prediction)
        reference = re.sub(pattern, "", reference)
    return float(prediction.lower() == reference.lower())


def strict(output: str, targets: Sequence[str]) -> float:
    return 100.0 * exact_match(extract(output, spec()["strict_regex"], 0), targets[0])


def flexible(output: str, targets: Sequence[str]) -> float:
    return 100.0 * exact_match(extract(output, spec()["flexible_regex"], -1), targets[0])


def make_sample(load: Any, counter: Counter, length: int, index: int, seed: int) -> Sample:
    data: Rows = load()
    if index >= len(data.rows):
        raise HarnessError(f"GSM8K: {data.source} has {len(data.rows)} questions, asked for #{index}")
    row = data.rows[index]
    return Sample(
        id=sample_id("gsm8k", length, index, seed),
        task="gsm8k",
        length=length,
        index=index,
        prompt=prompt_for(row["question"]),
        targets=(target_of(row["answer"]),),
    )


def report(records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """The flexible-extract score beside strict-match (the task's score), as lm-eval prints both."""
    return {"flexible-extract": round(mean([flexible(r.output, r.targets) for r in records]), 4),
            "strict-match": round(mean([r.score for r in records]), 4)}


@dataclass(frozen=True)
class Gsm8kOptions(Options):
    """GSM8K's `--task-args`: the split (`gsm8k_split`) and the folder of its jsonl files (`gsm8k`, else
    `<data dir>/gsm8k`, else the hub)."""

    gsm8k_split: str = "test"
    gsm8k: str | None = None


def gsm8k_task(options: TaskOptions) -> Task:
    """GSM8K test questions, 8-shot chain of thought."""
    own = Gsm8kOptions.parse(options.args)
    load = partial(SOURCE.load, options, own.gsm8k_split)
    return Task(
        name="gsm8k",
        make_sample=partial(make_sample, load),
        metric=Metric("exact_match,strict-match", strict),
        max_new_tokens=256,  # lm-eval's default max_gen_toks
        postprocess=lambda text: text,
        stop=tuple(spec()["until"]),
        chat=False,
        num_samples=10**9,
        params={"benchmark": "gsm8k_cot"},
        size=lambda: len(load().rows),
        data_digest=lambda: load().digest,
        data_source=lambda: load().origin,
        report=report,
        short=True,
        options=own,
    )
