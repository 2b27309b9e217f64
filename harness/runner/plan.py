"""Phase 1: build every sample a run needs (from the sample cache when it has them), skipping
the ones already finished in this output directory."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import HarnessError
from harness.lengths import format_length
from harness.prompt import ChatMode, PromptFormat
from harness.runner.sample_cache import SampleCache
from harness.types import Sample
from tasks.base import Task
from tasks.data import TaskOptions


@dataclass(frozen=True)
class WorkItem:
    """A sample to run, with the task that scores it and its exact prompt token count."""

    task: Task
    sample: Sample
    prompt_format: PromptFormat
    prompt_tokens: int


def check_lengths(lengths: list[int], max_length: int, model: str) -> None:
    """Refuse lengths the model cannot take, naming them."""
    too_long = [length for length in lengths if length > max_length]
    if too_long:
        shown = ", ".join(format_length(length) for length in too_long)
        raise HarnessError(
            f"length {shown} is above the maximum context of {model} ({max_length} tokens); "
            "raise it with --model-args max_length=N if the model can extrapolate"
        )


@dataclass
class Plan:
    """The samples to run, and per (task, length) how many samples were skipped (too long to fit)."""

    work: list[WorkItem]
    skipped: dict[tuple[str, int], int]


def build_work(
    tasks: list[Task],
    lengths: list[int],
    n: int | None,
    seed: int,
    tokenizer: object,
    chat_mode: ChatMode,
    done: set[str],
    options: TaskOptions | None = None,
    cache: SampleCache | None = None,
) -> Plan:
    """Every (task, length, index) sample not in `done`, with its prompt sized and counted.

    Real-document tasks hold a fixed number of samples: `n` (or the task's default) is capped by it.
    Samples whose `meta["skipped"]` gives a reason are counted, not run."""
    options = options or TaskOptions()
    shared = PromptFormat.create(tokenizer, chat_mode)
    plan = Plan([], {})
    for task in tasks:
        fmt = PromptFormat.create(tokenizer, chat_mode, task.chat, costs=shared.costs)
        count = n if n is not None else task.num_samples
        if task.size is not None:
            count = min(count, task.size())
        for length in task.lengths_for(lengths):
            if cache is not None:
                samples = cache.samples(task, options, fmt, length, count, seed)
            else:
                samples = task.samples(fmt, length, count, seed)
            for sample in samples:
                if sample.meta.get("skipped"):
                    plan.skipped[(task.name, length)] = plan.skipped.get((task.name, length), 0) + 1
                    continue
                if sample.id in done:
                    continue
                tokens = sample.prompt_tokens or fmt.count(sample.prompt, sample.answer_prefix)
                plan.work.append(WorkItem(task, sample, fmt, tokens))
    return plan
