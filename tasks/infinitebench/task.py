"""InfiniteBench's 12 tasks on the published files, truncated to each context length.

A task's sample `index` is the file's `index`-th example. Its prompt is the benchmark's template
(`--prompt-style chat`: the instruction set the benchmark wrote for chat models, with its system
message; `completion`: the set ending in an answer prefix, for base models; default by whether the
model's tokenizer has a chat template), then truncated to the length (`--truncate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, ClassVar, Sequence

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Message, Prompt, Sample
from harness.tasks.base import Counter, Metric, Task
from harness.tasks.data import TaskOptions
from harness.tasks.docsource import DocSource
from harness.tasks.infinitebench import metrics
from harness.tasks.options import Options, one_of
from harness.tasks.realdoc import DocFlow, Rendered
from harness.tasks.truncation import check_mode

HUB_ID = "xinrongzhang2022/InfiniteBench"
STYLES = ("chat", "completion")
OPTIONS = "ABCD"

SCORERS: dict[str, Callable[[str, Sequence[str]], float]] = {
    "passkey": metrics.passkey,
    "number_string": metrics.passkey,
    "kv_retrieval": metrics.kv_retrieval,
    "longbook_sum_eng": metrics.longbook_sum_eng,
    "longbook_qa_eng": metrics.longbook_qa_eng,
    "longbook_choice_eng": metrics.longbook_choice_eng,
    "longdialogue_qa_eng": metrics.longdialogue_qa_eng,
    "longbook_qa_chn": metrics.longbook_qa_chn,
    "code_debug": metrics.code_debug,
    "code_run": metrics.code_run,
    "math_calc": metrics.math_calc,
    "math_find": metrics.math_find,
}
METRIC_NAMES = {
    "passkey": "first_int_match", "number_string": "first_int_match", "kv_retrieval": "label_in_words",
    "longbook_sum_eng": "rougeLsum", "longbook_qa_eng": "qa_f1", "longbook_choice_eng": "choice_match",
    "longdialogue_qa_eng": "label_in_words", "longbook_qa_chn": "qa_f1_zh_char", "code_debug": "choice_or_function",
    "code_run": "last_int_match", "math_calc": "prefix_fraction", "math_find": "first_number_match",
}


def templates() -> dict[str, Any]:
    """The benchmark's templates and generation lengths (`templates.toml` beside this file)."""
    return toml_beside(__file__, "templates.toml")


def _hub(name: str, revision: str | None) -> Any:
    import datasets

    features = datasets.Features({
        "id": datasets.Value("int64"), "context": datasets.Value("string"), "input": datasets.Value("string"),
        "answer": datasets.Sequence(datasets.Value("string")), "options": datasets.Sequence(datasets.Value("string")),
    })
    return datasets.load_dataset(HUB_ID, features=features, split=name, revision=revision)


SOURCE = DocSource("InfiniteBench", "infinitebench", lambda name: f"{name}.jsonl", _hub,
                   (("context", str), ("input", str), ("answer", (list, str, int, float))),
                   (("options", (list, type(None))), ("id", (int, str))), hub_id=HUB_ID)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def targets_of(name: str, row: dict[str, Any]) -> tuple[str, ...]:
    """The labels as text: (option text, letter) for choice tasks, the values for math_calc,
    the answers otherwise (`get_answer` of the reference)."""
    answer = row["answer"]
    if name in ("code_debug", "longbook_choice_eng"):
        answers = _as_list(answer)
        if len(answers) == 2 and answers[1] in ("A", "B", "C", "D"):
            return (str(answers[0]), str(answers[1]))
        options = list(row.get("options") or [])
        if answers[0] not in options:
            raise HarnessError(f"InfiniteBench {name} id {row.get('id')}: answer {answers[0]!r} is not one of its options")
        return (str(answers[0]), OPTIONS[options.index(answers[0])])
    if name == "math_calc":
        values = _as_list(answer)
        if values and isinstance(values[0], (list, tuple)):
            values = list(values[0])
        return tuple(str(v) for v in values)
    return tuple(str(a) for a in _as_list(answer))


def fill(name: str, template: str, row: dict[str, Any]) -> str:
    """The reference's `create_prompt`: the task's fields into its template."""
    context = row.get("context", row.get("content", ""))
    if name == "code_run":
        calls = re.findall(r"func_[0-9]+\(\-?[0-9]+\)", row["input"])
        if not calls:
            raise HarnessError(f"InfiniteBench code_run id {row.get('id')}: no func_N(x) call in its input")
        return template.format(func=calls[0].split("(")[0], func_call=calls[0], context=context)
    if name in ("code_debug", "longbook_choice_eng"):
        options = list(row.get("options") or [])
        if len(options) != 4:
            raise HarnessError(f"InfiniteBench {name} id {row.get('id')}: expected 4 options, got {len(options)}")
        letters = {f"OPTION_{c}": o for c, o in zip(OPTIONS, options)}
        return template.format(context=context, question=row["input"], **letters)
    if name == "math_find":
        found = re.findall(r"The .+ of", row["input"])
        if not found:
            raise HarnessError(f"InfiniteBench math_find id {row.get('id')}: cannot find 'The ... of' in its input")
        prefix = f"What is {found[0].lower()[:-3]} in the following list?"
        return template.format(prefix=prefix, context=context, input=row["input"])
    return template.format(context=context, input=row["input"], question=row["input"])


def chat_prompt(name: str, text: str) -> list[Message]:
    """The benchmark's chat messages: its system message, and for math_calc its worked example."""
    system = templates()["system"]
    if name == "math_calc":
        return [
            {"role": "system", "content": system["math_calc"]},
            {"role": "user", "content": system["math_calc_example"]},
            {"role": "assistant", "content": system["math_calc_example_answer"]},
            {"role": "user", "content": text},
        ]
    return [{"role": "system", "content": system["default"]}, {"role": "user", "content": text}]


def style_of(options: TaskOptions, counter: Counter) -> str:
    """`--prompt-style`, else chat when the model's chat template is in use."""
    style = options.args.get("prompt_style") or ("chat" if getattr(counter, "chat", False) else "completion")
    if style not in STYLES:
        raise HarnessError(f"bad --prompt-style {style!r}: expected chat or completion")
    return str(style)


def render(name: str, options: TaskOptions, row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """The task's template filled with the row (`chat`: inside the benchmark's chat messages)."""
    spec = templates()[name]
    style = style_of(options, counter)
    text = row.get("context", "") if style == "chat" and name == "math_calc" else fill(name, spec[style], row)

    def build(body: str) -> Prompt:
        return chat_prompt(name, body) if style == "chat" else body

    return Rendered(text, targets_of(name, row), {"example_id": row.get("id", index), "prompt_style": style}, build)


def score(name: str, sample: Sample, output: str) -> float:
    """The official metric, as a percentage."""
    if name == "math_calc":
        return 100.0 * metrics.math_calc(output, sample.targets, skip_first=sample.meta.get("prompt_style") == "chat")
    return 100.0 * SCORERS[name](output, sample.targets)


@dataclass(frozen=True)
class InfiniteBenchOptions(Options):
    """InfiniteBench's `--task-args`: how a long prompt is cut (`truncate`), the prompt style (`prompt_style`:
    chat | completion; default: the model's) and the folder of its jsonl files (`infinitebench`)."""

    shared: ClassVar[frozenset[str]] = frozenset({"truncate"})

    truncate: str = "middle"
    prompt_style: str | None = None
    infinitebench: str | None = None

    def check(self) -> None:
        check_mode(self.truncate)
        if self.prompt_style is not None:
            one_of("prompt_style", self.prompt_style, ("chat", "completion"))


def infinitebench_task(name: str, options: TaskOptions) -> Task:
    """One InfiniteBench task; its data is read on first use."""
    spec = templates()[name]
    load = partial(SOURCE.load, options, name)
    style = options.args.get("prompt_style")
    flow = DocFlow(f"infinitebench_{name}", f"InfiniteBench {name}", load, partial(render, name, options),
                   spec["max_new_tokens"], check_mode(str(options.args.get("truncate", "middle"))))
    return Task(
        name=f"infinitebench_{name}",
        make_sample=flow.make_sample,
        metric=Metric(METRIC_NAMES[name], lambda output, targets: 100.0 * SCORERS[name](output, targets)),
        max_new_tokens=spec["max_new_tokens"],
        postprocess=lambda text: text,  # the reference scores the raw output
        chat=style != "completion",
        num_samples=10**9,  # every example of the file (`size`; the published files hold spec["examples"]), unless --limit
        params={"benchmark": "infinitebench", "task": name, "prompt_style": style, "truncate": options.args.get("truncate", "middle")},
        score_sample=partial(score, name),
        size=lambda: len(load().rows),
        data_digest=lambda: load().digest,
        data_source=lambda: load().origin,
        options=InfiniteBenchOptions.parse(options.args),
        halve_generation=True,
    )


TASK_NAMES = tuple(SCORERS)
