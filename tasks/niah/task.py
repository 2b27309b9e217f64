"""The classic Needle-in-a-Haystack test (gkamradt/LLMTest_NeedleInAHaystack @7b90d28).

A needle sentence is placed at depth d% of a Paul Graham essay haystack of L tokens, moved back
to the sentence boundary before it (at 100% appended); the model is asked the needle's question.
Samples form a depth x length grid. Scoring: the needle's answer phrases found in the output
(default, 0-100), or an LLM judge with the reference's 1-10 rubric (`--judge`, scaled to 0-100).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Message, NeedleDepths, Prompt, Sample
from harness.tasks.base import Counter, JudgeSpec, Metric, Task, prompt_budget
from harness.tasks.data import TaskOptions
from harness.tasks.options import Options
from harness.tasks.ruler.haystacks import check_essay, essay_source, load_essay, sentence_starts_below
from harness.tasks.ruler.scoring import string_match_all
from harness.tasks.sizing import Layout, costs_of, fit_layout, insert_layout, to_sample, unit_sequence

MAX_NEW_TOKENS = 64
DEFAULT_DEPTH_STEPS = 11  # 0, 10, ..., 100


def templates() -> dict[str, Any]:
    return toml_beside(__file__, "templates.toml")


@dataclass(frozen=True)
class NiahSpec:
    """What is hidden and asked: needles, the question, the answer phrases, and the depth grid."""

    needles: tuple[str, ...]
    question: str
    answers: tuple[str, ...]
    depths: tuple[float, ...]


@dataclass(frozen=True)
class NiahOptions(Options):
    """NIAH's `--task-args`: the depth grid (`depths`, else `depth_steps` evenly spaced), the needle,
    its question and answer phrases, and the essay folder (`haystack_dir`, else `<data dir>/pg_essays`)."""

    shared: ClassVar[frozenset[str]] = frozenset({"haystack_dir"})

    depths: tuple[float, ...] | None = None
    depth_steps: int = DEFAULT_DEPTH_STEPS
    needle: str = ""
    question: str | None = None
    answers: tuple[str, ...] | None = None
    haystack_dir: str | None = None

    @classmethod
    def convert(cls, key: str, value: Any) -> Any:
        if key == "depths":
            entries = value if isinstance(value, (list, tuple)) else str(value).split(";")
            return tuple(_number(d, "depths") for d in entries)
        if key == "answers":  # "a;b" or a list; empty: the template's
            answers = tuple(value.split(";")) if isinstance(value, str) else tuple(str(a) for a in value or ())
            return answers if value else None
        if key == "depth_steps" and (not isinstance(value, int) or isinstance(value, bool)):
            raise HarnessError(f"bad --task-args depth_steps={value!r}: expected an integer")
        return super().convert(key, value)

    def check(self) -> None:
        if self.depths is None and self.depth_steps < 1:
            raise HarnessError(f"--depth-steps {self.depth_steps}: must be at least 1")
        for value in depth_grid(self):
            if not 0 <= value <= 100:
                raise HarnessError(f"depth {value} is outside 0-100")


def depth_grid(options: NiahOptions) -> tuple[float, ...]:
    """`--depths 0,25,50` or `--depth-steps N` (N evenly spaced depths in [0, 100])."""
    if options.depths is not None:
        return options.depths
    steps = options.depth_steps
    return tuple(float(v) for v in np.round(np.linspace(0, 100, steps), 2)) if steps > 1 else (50.0,)


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise HarnessError(f"bad --task-args {name} entry {value!r}: expected a number from 0 to 100") from None


def spec_for(kind: str, options: NiahOptions) -> NiahSpec:
    base = templates()[kind]
    needles = base["needles"] if kind == "multi" else [base["needle"]]
    if options.needle:
        needles = [options.needle]
    answers = options.answers or base["answers"]
    if isinstance(answers, str):
        answers = answers.split(";")
    question = options.question if options.question is not None else base["question"]
    return NiahSpec(tuple(needles), str(question), tuple(answers), depth_grid(options))


def needle_depths(depth: float, count: int) -> list[float]:
    """Multi-needle placement of the reference: the first at `depth`, the rest evenly after it."""
    step = (100 - depth) / count
    return [depth + i * step for i in range(count)]


def make_sample(spec: NiahSpec, options: TaskOptions, task: str, counter: Counter, length: int, index: int,
                seed: int) -> Sample:
    costs = costs_of(counter)
    essay = load_essay(options.find("haystack_dir", "pg_essays", f"{task} (essay haystack)"))
    units = unit_sequence(costs, f"essay:{essay.digest}", lambda: essay.words, " ")
    depth = spec.depths[index % len(spec.depths)]
    targets = needle_depths(depth, len(spec.needles))
    prompt_text = templates()["prompt"]

    def render(context: str) -> Prompt:
        messages: list[Message] = [
            {"role": "system", "content": prompt_text["system"]},
            {"role": "user", "content": context},
            {"role": "user", "content": spec.question + prompt_text["question_suffix"]},
        ]
        return messages

    def build(n: int) -> Layout:
        starts = sentence_starts_below(essay, n)
        total = units.cost(n)
        tokens_before = [units.cost(s) for s in starts]
        positions = []
        for d in targets:
            if d >= 100:
                positions.append(n)
                continue
            # the sentence start at or before d% of the haystack's tokens (reference: back to the last '.')
            k = bisect_right(tokens_before, total * d / 100) - 1
            positions.append(starts[k] if k >= 0 else 0)
        inserts = sorted(zip(positions, spec.needles), key=lambda p: p[0])
        return insert_layout(units, n, inserts, costs, depths=NeedleDepths(tuple(targets), grid=True))

    fitted = fit_layout(counter, render, "", build, " ", prompt_budget(MAX_NEW_TOKENS, length), min_units=0,
                        first_guess=(length * 3) // 4, what=f"{task} at length {length}", check_key=task)
    meta = {"question": spec.question, "needles": list(spec.needles), "haystack": essay.digest}
    return to_sample(task, length, index, seed, render, "", fitted, spec.answers, meta)


# -- judge -----------------------------------------------------------------------------------

_RATING = re.compile(r"\[\[(\d+(?:\.\d+)?)\]\]")
_NUMBER = re.compile(r"\b(10|[1-9])\b")


def judge_prompt(sample: Sample, output: str) -> list[Message]:
    spec = templates()["judge"]
    reference = " ".join(sample.meta.get("needles", [])) or "; ".join(sample.targets)
    text = spec["template"].format(criteria=spec["criteria"], reference=reference,
                                   question=sample.meta.get("question", ""), answer=output)
    return [{"role": "system", "content": spec["system"]}, {"role": "user", "content": text}]


def parse_rating(reply: str) -> float | None:
    """`[[n]]` (the rubric's format), else a bare 1-10 number; scaled to 0-100."""
    match = _RATING.search(reply) or _NUMBER.search(reply)
    if not match:
        return None
    rating = float(match.group(1))
    return 10.0 * rating if 1 <= rating <= 10 else None


def niah_task(name: str, kind: str, options: TaskOptions | None = None) -> Task:
    options = options or TaskOptions()
    own = NiahOptions.parse(options.args)
    spec = spec_for(kind, own)
    from harness.tasks.niah.heatmap import grid_report

    return Task(
        name=name,
        make_sample=partial(make_sample, spec, options, name),
        metric=Metric("needle_match", string_match_all),
        max_new_tokens=MAX_NEW_TOKENS,
        num_samples=len(spec.depths),
        params={"benchmark": "niah", "kind": kind, "needles": spec.needles, "question": spec.question,
                "answers": spec.answers, "depths": spec.depths, "generator_version": 1},
        judge=JudgeSpec(judge_prompt, parse_rating, int(templates()["judge"]["max_tokens"])),
        report=partial(grid_report, name),
        check=partial(check_essay, options, name),
        data_source=partial(essay_source, options, name),
        options=own,
    )
