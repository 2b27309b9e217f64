"""Phase 1: build every sample a run needs (from the sample cache when it has them), skipping
the ones already finished in this output directory."""

from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from harness.core.errors import HarnessError
from harness.core.lengths import format_length
from harness.core.limit import sample_count
from harness.core.prompt import ChatMode, PromptFormat
from harness.core.types import Sample
from harness.runner.sample_cache import SampleCache, cache_key
from harness.tasks.base import Task, budget_scope
from harness.tasks.data import TaskOptions


@dataclass(frozen=True)
class WorkItem:
    """A sample to run, with the task that scores it and its exact prompt token count."""

    task: Task
    sample: Sample
    prompt_format: PromptFormat
    prompt_tokens: int
    sample_cache: str | None = None  # the sample cache entry holding the prompt (`harness show RUN --sample ID`)


def check_budgets(tasks: list[Task], lengths: list[int]) -> None:
    """Refuse a length where a task's generation budget (thinking + answer) leaves no room for a prompt."""
    for task in tasks:
        for length in task.lengths_for(lengths):
            if length and task.prompt_budget(length) < 1:
                budget = task.budget
                think = f"--max-think-tokens {budget.think} + " if budget.think else ""
                answer = f"--max-new-tokens {budget.answer}" if budget.answer is not None else \
                    f"the answer budget of {task.max_new_tokens} tokens"
                raise HarnessError(f"{think}{answer} leave no room for a prompt at length {format_length(length)} "
                                   f"({length} tokens) for task {task.name}: lower them or raise --lengths")


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
    n: int | float | None,
    seed: int,
    tokenizer: object,
    chat_mode: ChatMode,
    done: set[str],
    options: TaskOptions | None = None,
    cache: SampleCache | None = None,
) -> Plan:
    """Every (task, length, index) sample not in `done`, with its prompt sized and counted.

    Real-document tasks hold a fixed number of samples: `n` (or the task's default) is capped by it; a
    fractional `n` is that share of the task's own count (`harness.core.limit.sample_count`).
    Samples whose `skipped` gives a reason are counted, not run."""
    options = options or TaskOptions()
    shared = PromptFormat.create(tokenizer, chat_mode)
    plan = Plan([], {})
    bar = tqdm(total=sum(len(t.lengths_for(lengths)) for t in tasks), desc="building samples", unit="cell", dynamic_ncols=True)
    for task in tasks:
        fmt = PromptFormat.create(tokenizer, chat_mode, task.chat, costs=shared.costs)
        count = sample_count(n, task.num_samples, task.size() if task.size is not None else None)
        for length in task.lengths_for(lengths):
            bar.set_description_str(f"building samples: {task.name} {format_length(length)}", refresh=True)
            key = cache_key(task, options, fmt, length, seed) if cache is not None else None
            if cache is not None:
                with budget_scope(task.budget):  # the cache makes missing samples with the task's factory
                    samples = cache.samples(task, options, fmt, length, count, seed)
            else:
                samples = task.samples(fmt, length, count, seed)
            bar.update(1)
            for sample in samples:
                if sample.skipped:
                    plan.skipped[(task.name, length)] = plan.skipped.get((task.name, length), 0) + 1
                    continue
                if sample.id in done:
                    continue
                tokens = sample.prompt_tokens or fmt.count(sample.prompt, sample.answer_prefix)
                plan.work.append(WorkItem(task, sample, fmt, tokens, key))
    bar.close()
    return plan
