"""LongBench-Chat (THUDM/LongAlign @450ecc8, `LongBench_Chat/eval.py`): 50 real long-context
instructions, answered with the model's chat template and rated 1-10 by an LLM judge.

As the reference: the case's `prompt` cut in the middle to `max_length` tokens (64000; and to the
length's budget when shorter), up to 1024 new tokens, the answer stripped with newlines turned into
spaces; the judge gets the system prompt, `prompt_fs.txt` filled with the question, the reference
answer, the three scored example answers of that case from `few_shots.json` and the answer, at
temperature 0; the rating is the first number inside the last `[[...]]`, asked up to 5 times.
The score is the mean rating (the reference prints the sum; both are in the report).

The judge's files and the test cases are read from the benchmark's files, never copied here:
`--task-args longbench_chat=FILE` (test_cases.json) and `longbench_chat_judge=DIR`, or
`D/longbench_chat/` (`--data-dir D`), or the published location.
"""

from __future__ import annotations

import hashlib
import re
import urllib.request
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.types import Message, Sample, ScoredSample
from harness.core.userfiles import check_type, parse_json, read_text
from harness.tasks.base import Counter, JudgeSpec, Metric, Task, mean
from harness.tasks.data import DataSource, TaskOptions, check_fields, local_source
from harness.tasks.docsource import Rows
from harness.tasks.options import Options
from harness.tasks.realdoc import DocFlow, Rendered

PUBLISHED = "https://raw.githubusercontent.com/THUDM/LongAlign/main/LongBench_Chat/"
SYSTEM_PROMPT = "You're a good assistant at evaluating the quality of texts."
MAX_NEW_TOKENS = 1024
MAX_LENGTH = 64000
JUDGE_TRIES = 5
JUDGE_MAX_TOKENS = 1024
CASE_SCHEMA = (("idx", int), ("query", str), ("prompt", str), ("answer", (str, int, float)))


@lru_cache(maxsize=16)
def _read(location: str) -> str:
    """A file's text from a local path or a URL."""
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=60) as response:
                text: str = response.read().decode("utf-8")
                return text
        except OSError as error:
            raise HarnessError(f"LongBench-Chat: could not download {location} ({error}); pass the benchmark's files "
                               "with --data-dir D (D/longbench_chat/) or --task-args longbench_chat=FILE") from error
    return read_text(Path(location), "LongBench-Chat: file")


def _location(options: TaskOptions, arg: str, name: str) -> str:
    given = options.args.get(arg)
    if given:
        path = Path(str(given)).expanduser()
        return str(path / name if path.is_dir() else path)
    root = options.data_root()
    if root is not None and (root / "longbench_chat" / name).exists():
        return str(root / "longbench_chat" / name)
    return PUBLISHED + name


def _digest(location: str) -> str:
    return hashlib.sha256(_read(location).encode()).hexdigest()[:16]


def _data_source(options: TaskOptions) -> DataSource:
    """Where the test cases were read: a URL (the published file) or a local file."""
    location = _location(options, "longbench_chat", "test_cases.json")
    if location.startswith(("http://", "https://")):
        return DataSource("url", location, _digest(location))
    return local_source(Path(location), _digest(location))


def test_cases(options: TaskOptions) -> list[dict[str, Any]]:
    """The benchmark's cases (`idx, query, prompt, answer`), checked."""
    location = _location(options, "longbench_chat", "test_cases.json")
    cases = parse_json(_read(location), f"LongBench-Chat: {location}")
    check_type(cases, list, f"LongBench-Chat: {location}: the list of cases")
    if not cases:
        raise HarnessError(f"LongBench-Chat: {location} holds no cases")
    for i, case in enumerate(cases):
        check_type(case, dict, f"LongBench-Chat: {location} case {i}")
        check_fields(case, CASE_SCHEMA, f"LongBench-Chat: {location} case {i}")
    checked: list[dict[str, Any]] = cases
    return checked


def judge_files(options: TaskOptions) -> tuple[str, list[list[dict[str, Any]]]]:
    """The judge template (`prompt_fs.txt`) and the scored example answers (`few_shots.json`)."""
    template = _read(_location(options, "longbench_chat_judge", "prompt_fs.txt"))
    location = _location(options, "longbench_chat_judge", "few_shots.json")
    shots = parse_json(_read(location), f"LongBench-Chat: {location}")
    check_type(shots, list, f"LongBench-Chat: {location}: the list of cases' examples")
    for i, examples in enumerate(shots):
        check_type(examples, list, f"LongBench-Chat: {location} [{i}]")
        for j, example in enumerate(examples):
            check_type(example, dict, f"LongBench-Chat: {location} [{i}][{j}]")
            check_fields(example, (("answer", str), ("score", (int, float))), f"LongBench-Chat: {location} [{i}][{j}]")
    return template, shots


def judge_prompt(options: TaskOptions, sample: Sample, output: str) -> list[Message]:
    """The reference's judge messages for one answer."""
    template, shots = judge_files(options)
    idx = int(sample.meta["idx"])
    if not 1 <= idx <= len(shots):
        raise HarnessError(f"LongBench-Chat: case idx {idx} has no few-shot examples ({len(shots)} in few_shots.json)")
    examples = shots[idx - 1]
    filled: list[Any] = []
    for example in examples[:3]:
        filled += [example["answer"], example["score"]]
    prompt = template.format(sample.meta["query"], sample.targets[0], *filled, output)
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]


def parse_rating(reply: str) -> float | None:
    """The first number inside the last `[[...]]`; None when there is none."""
    found = re.findall(r"\[\[([^\]]+)\]\]", reply)
    if not found:
        return None
    numbers = re.findall(r"\d+\.\d+|\d+", found[-1])
    return float(numbers[0]) if numbers else None


def rows(options: TaskOptions) -> Rows:
    """The test cases as the real-document flow reads them."""
    location = _location(options, "longbench_chat", "test_cases.json")
    return Rows(tuple(test_cases(options)), location, _digest(location), _data_source(options))


def render(case: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """The case's prompt as it is (cut in the middle); the reference answer is the target."""
    return Rendered(case["prompt"], (str(case["answer"]),), {"idx": case["idx"], "query": case["query"]})


def report(records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """Per length: the mean and the sum of the ratings (the reference prints the sum), and failures."""
    by_length: dict[str, list[ScoredSample]] = {}
    for record in records:
        by_length.setdefault(str(record.length), []).append(record)
    return {length: {"mean": round(mean([r.score for r in rs]), 4), "sum": round(sum(r.score for r in rs), 4), "cases": len(rs),
                     "judge_failed": sum(bool(r.meta.get("judge_failed")) for r in rs)}
            for length, rs in sorted(by_length.items(), key=lambda kv: int(kv[0]))}


def _needs_judge(output: str, targets: object) -> float:
    raise HarnessError("longbench_chat is scored by an LLM judge: pass --judge MODEL (e.g. --judge openai:gpt-4 --judge-base-url URL)")


@dataclass(frozen=True)
class LongBenchChatOptions(Options):
    """LongBench-Chat's `--task-args`: the prompt cap (`max_length`, the reference's), its test cases
    (`longbench_chat`: the file or its folder) and the judge's few-shot files (`longbench_chat_judge`)."""

    max_length: int = MAX_LENGTH
    longbench_chat: str | None = None
    longbench_chat_judge: str | None = None


def longbench_chat_task(options: TaskOptions) -> Task:
    """LongBench-Chat; its files are read on first use."""
    flow = DocFlow("longbench_chat", "LongBench-Chat", partial(rows, options), render, MAX_NEW_TOKENS,
                   max_prompt=int(options.args.get("max_length", MAX_LENGTH)))
    return Task(
        name="longbench_chat",
        make_sample=flow.make_sample,
        metric=Metric("judge_rating_1_10", _needs_judge, percent=False),
        max_new_tokens=MAX_NEW_TOKENS,
        postprocess=lambda text: text.strip().replace("\n", " "),
        chat=True,
        num_samples=10**9,
        params={"benchmark": "longbench_chat", "max_length": int(options.args.get("max_length", MAX_LENGTH))},
        judge=JudgeSpec(partial(judge_prompt, options), parse_rating, JUDGE_MAX_TOKENS, tries=JUDGE_TRIES, required=True),
        report=report,
        size=lambda: len(test_cases(options)),
        data_digest=lambda: _digest(_location(options, "longbench_chat", "test_cases.json")),
        data_source=partial(_data_source, options),
        options=LongBenchChatOptions.parse(options.args),
        halve_generation=True,
    )
