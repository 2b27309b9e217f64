"""Needle drills: synthetic retrieval training data written by the RULER task generators of
`tasks/ruler` at chosen token lengths, with seeds far from evaluation's (7000+ against 42), and no
model called. The fine-tuning data of synthetic-retrieval papers (Xiong et al. 2024, "From
Artificial Needles to Real Haystacks", arXiv 2406.19292) is of this kind; here it is the cheap
variant a sweep can afford on a CPU, and the data the built-in `tiny` model was pretrained on.

Each record: the task's prompt (needles hidden in a haystack, then the question) as the user turn,
and the answer sentence (the task's answer prefix and the needle values) as the assistant turn.

`haystack` sets what surrounds the needles in every niah task named, for the composition ablation
of context synthesis's pilot study (arXiv 2502.15592): `none` (the relevant needles alone, however
long the length), `needle` (distractors of the same kind: other keys' needles), `noise` or `essay`
(irrelevant text of another kind). Unset, each task keeps its own (RULER's row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError
from harness.synth.context import SynthContext
from harness.synth.plugin import Record, SynthPlugin
from harness.tasks import get_task
from harness.tasks.base import Task
from harness.tasks.data import TaskOptions


@dataclass(frozen=True)
class NeedlesConfig:
    """`tokenizer`: the model whose tokenizer sizes the prompts (a built-in name, path or hub id:
    the model that will be trained); `lengths`: prompt lengths in its tokens, drawn in turn."""

    tokenizer: str = ""
    examples: int = 1000
    lengths: list[int] = field(default_factory=lambda: [512, 1024, 2048])
    tasks: list[str] = field(default_factory=lambda: ["niah_single_1"])
    seed: int = 7000  # plus the run's --seed
    data_dir: str | None = None  # D with D/pg_essays, for the tasks with an essay haystack
    haystack: str | None = None  # none | needle | noise | essay for every task (niah rows); None: each task's own

    def validate(self) -> str | None:
        from harness.tasks import GROUPS

        if not self.tokenizer:
            return "tokenizer: name the model whose tokenizer sizes the prompts (the one to be trained)"
        if self.examples < 1 or not self.lengths or min(self.lengths) < 64:
            return "examples >= 1 and lengths of at least 64 tokens are needed"
        for name in self.tasks:
            if name not in GROUPS["ruler"].tasks:
                return f"tasks: {name!r} is not a RULER task ({', '.join(GROUPS['ruler'].tasks)})"
        if self.haystack is not None:
            from harness.tasks.ruler.niah import HAYSTACKS
            from harness.tasks.ruler.tasks import ROWS

            if self.haystack not in HAYSTACKS:
                return f"haystack: {self.haystack!r} is not one of {', '.join(HAYSTACKS)}"
            others = [name for name in self.tasks if ROWS[name][0] != "niah"]
            if others:
                return f"haystack: only the niah tasks have one; {others[0]!r} does not (drop it or the haystack)"
        return None


class Needles(SynthPlugin):
    name = "needles"
    Config = NeedlesConfig
    description = "retrieval drills from RULER's generators at chosen token lengths, no model called (cf. 2406.19292)"
    uses_generator = False

    def __init__(self) -> None:
        super().__init__()
        self._ready: tuple[NeedlesConfig, Any, list[Task]] | None = None  # what `check` built, reused by `run`

    def planned(self, config: Any) -> int | None:
        return int(config.examples)

    def check(self, config: Any, corpus: list[dict[str, Any]]) -> None:
        """The data directory holds what the tasks read, the tokenizer loads, and the first sample
        of every (task, length) the run makes fits its length (one sample each, built now)."""
        assert isinstance(config, NeedlesConfig)
        tasks = [_task(config, name) for name in config.tasks]
        for task in tasks:
            _check_data(task, _options(config))
        fmt = _format(config)
        for index in range(min(config.examples, len(tasks) * len(config.lengths))):
            task, length = _slot(config, tasks, index)
            try:
                task.make_sample(fmt, length, index, config.seed)
            except HarnessError as error:
                raise _sized_error(task, fmt, length, index, config.seed, error) from error
        self._ready = (config, fmt, tasks)

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        assert isinstance(config, NeedlesConfig)
        if self._ready is None or self._ready[0] is not config:
            self.check(config, [])
        assert self._ready is not None
        _, fmt, tasks = self._ready
        seed = config.seed + ctx.seed  # the run's --seed (a sweep replicate's) moves every sample; 0 keeps config.seed's
        for index in range(config.examples):
            task, length = _slot(config, tasks, index)
            try:
                sample = task.make_sample(fmt, length, index, seed)
            except HarnessError as error:
                raise _sized_error(task, fmt, length, index, seed, error) from error
            if not isinstance(sample.prompt, str):
                raise HarnessError(f"needles: {task.name} gave a chat prompt; expected text")
            answer = f"{sample.answer_prefix.strip()} {', '.join(sample.targets)}.".strip()
            yield Record(id=f"needles-{sample.id}",
                         messages=({"role": "user", "content": sample.prompt}, {"role": "assistant", "content": answer}),
                         meta={"task": task.name, "length": length, "prompt_tokens": sample.prompt_tokens,
                               "instruction": sample.prompt.rsplit("\n", 1)[-1]})


def _task(config: NeedlesConfig, name: str) -> Task:
    """RULER's task `name`, with the config's haystack when it sets one."""
    if config.haystack is None:
        return get_task(name, _options(config))
    from harness.tasks.ruler.tasks import ruler_task

    return ruler_task(name, _options(config), haystack=config.haystack)


def _options(config: NeedlesConfig) -> TaskOptions:
    return TaskOptions(data_dir=Path(config.data_dir).expanduser() if config.data_dir else None)


def _slot(config: NeedlesConfig, tasks: list[Task], index: int) -> tuple[Task, int]:
    """Record `index`'s task and length: tasks in turn, each length for a round of tasks."""
    return tasks[index % len(tasks)], config.lengths[(index // len(tasks)) % len(config.lengths)]


def _format(config: NeedlesConfig) -> Any:
    """Plain-text prompts counted with the tokenizer of `config.tokenizer` (the trainer applies the
    chat template, if any)."""
    from harness.core.backends import parse_model_spec
    from harness.core.backends.hf import load_tokenizer
    from harness.core.prompt import PromptFormat

    try:
        tokenizer = load_tokenizer(parse_model_spec(config.tokenizer).model)
    except HarnessError as error:
        raise HarnessError(f"tokenizer: {error}") from error
    return PromptFormat.create(tokenizer, "off")


def _check_data(task: Task, options: TaskOptions) -> None:
    """The essay haystack in the data directory (no other source has it), then the task's own
    read of its files (content errors name the file; a QA source may also come from the hub)."""
    root = options.data_root()
    if task.params.get("haystack") == "essay" and (root is None or not (root / "pg_essays").is_dir()):
        where = f"{root / 'pg_essays'} is not a directory" if root is not None else "no data directory is set"
        raise HarnessError(f"data_dir: {task.name} reads the essays in D/pg_essays ({where}); set data_dir: D in the "
                           "needles config (or HARNESS_DATA_DIR)")
    try:
        task.preflight()
    except HarnessError as error:
        raise HarnessError(f"data_dir: {task.name}: {error}") from error


def _sized_error(task: Task, fmt: Any, length: int, index: int, seed: int, error: HarnessError) -> HarnessError:
    """The error for a sample that could not be built: when a longer length works it is a length
    too small (named, with the smallest that fits), else the task's own error."""
    smallest = _smallest_length(task, fmt, length, index, seed)
    if smallest is None:
        return HarnessError(f"tasks: {task.name} at {length} tokens: {error}")
    return HarnessError(f"lengths: {length} tokens is too small for {task.name} (sample {index} needs at least {smallest}: "
                        f"its question, needles and {task.max_new_tokens} tokens to generate); raise or drop it")


def _smallest_length(task: Task, fmt: Any, too_small: int, index: int, seed: int, tries: int = 8) -> int | None:
    """The smallest length at which sample `index` builds (doubling, then bisection); None when
    none does up to `too_small` x 2**tries."""
    def fits(length: int) -> bool:
        try:
            task.make_sample(fmt, length, index, seed)
        except HarnessError:
            return False
        return True

    low, high = too_small, too_small * 2
    for _ in range(tries):
        if fits(high):
            break
        low, high = high, high * 2
    else:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high
