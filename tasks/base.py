"""`Task` and `Metric`: a benchmark task is a small factory of pure functions.

A task builds samples with `make_sample(counter, length, index, seed)` (pure: the same inputs give
the same sample) and scores an output with its metric. Tasks never import a backend: token
counting arrives as a `Counter`.

What the runner reads from a sample is typed (`Sample.skipped`, `truncated_from`,
`max_new_tokens`, `needle_depths`); a task's `--task-args` are its own typed `Options`
(`harness.tasks.options`). A sample with `choices` is answered by loglikelihood (the most likely
choice after `target_delimiter`), not by generation.

Token budgets have one rule (`prompt_budget`): at length L a prompt may take L minus the task's
generation budget (`generation_budget`), so prompt and answer fit in L.
"""

from __future__ import annotations

import statistics
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from harness.core.prompt import TokenCosts
from harness.core.thinking import NO_BUDGET, Budget
from harness.core.types import Message, Prompt, Sample, ScoredSample
from harness.tasks.data import GENERATED, DataSource
from harness.tasks.options import NO_OPTIONS, Options


class Counter(Protocol):
    """Counts the tokens the evaluated model sees for a prompt (chat template and prefix included).

    `costs` caches token counts of short strings under the same tokenizer (for fast sizing).
    """

    @property
    def costs(self) -> TokenCosts | None: ...

    @property
    def tokenizer(self) -> Any: ...

    def count(self, prompt: Prompt, answer_prefix: str = "") -> int: ...


SHORT = 0  # the length key of short-context tasks (no context-length sweep)


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for no values."""
    return statistics.fmean(values) if values else 0.0


def stderr_of_mean(values: Sequence[float]) -> float:
    """Standard error of the mean (sample standard deviation / sqrt(n)); 0.0 below two values."""
    if len(values) < 2:
        return 0.0
    root_n: float = len(values) ** 0.5
    return statistics.stdev(values) / root_n


@dataclass(frozen=True)
class Metric:
    """A metric declares its per-sample function, its aggregation, its direction and its scale: `percent`
    scores run 0-100 (exported to lm-eval's layout as 0-1 fractions); others (a 1-10 rating) are kept as they are."""

    name: str
    per_sample: Callable[[str, Sequence[str]], float]
    aggregate: Callable[[Sequence[float]], float] = mean
    higher_is_better: bool = True
    percent: bool = True


SampleFactory = Callable[[Counter, int, int, int], Sample]


# The run's budget while a task makes its samples (`Task.samples`, `budget_scope`): sample factories call the two
# functions below with their task's own numbers, and a run's --max-new-tokens / --max-think-tokens reach them here.
_BUDGET: ContextVar[Budget] = ContextVar("generation_budget", default=NO_BUDGET)


@contextmanager
def budget_scope(budget: Budget) -> Iterator[None]:
    """Samples made inside are sized to `budget` (the run's answer and thinking tokens) instead of their task's own."""
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)


def generation_budget(max_new_tokens: int, length: int, halved: bool = False) -> int:
    """Tokens reserved for the answer at `length`: `max_new_tokens` (the run's `--max-new-tokens` inside a
    `budget_scope`), or with `halved` at most half of what the thinking budget leaves of the length (real
    documents: InfiniteBench's math_calc asks for 30,000)."""
    budget = _BUDGET.get()
    answer = budget.answer if budget.answer is not None else max_new_tokens
    return min(answer, (length - budget.think) // 2) if halved else answer


def prompt_budget(max_new_tokens: int, length: int, halved: bool = False) -> int:
    """Tokens a prompt may take at `length`: the length minus the generation budget, thinking (inside a
    `budget_scope`) plus answer (`Task.prompt_budget`; a sample factory that runs before its task exists calls this
    with the task's own numbers)."""
    return length - _BUDGET.get().think - generation_budget(max_new_tokens, length, halved)


Reading = dict[str, float]  # the numbers a judge's reply gives (the JSON fields its prompt asks for)


@dataclass(frozen=True)
class JudgeCall:
    """One of the prompts a several-prompt judge asks about one output: its name (the key of its reading),
    the chat messages, and how to read the reply (None: no readable verdict)."""

    name: str
    prompt: list[Message]
    parse: Callable[[str], Reading | None]


@dataclass(frozen=True)
class MultiJudge:
    """A judge that asks several prompts per output (`calls`) and combines their readings (None: a reply that
    stayed unreadable) into the score on the task's scale (None: no score) and the details a sample records."""

    calls: Callable[[Sample, str], list[JudgeCall]]
    combine: Callable[[Sample, dict[str, Reading | None]], tuple[float | None, dict[str, Any]]]


@dataclass(frozen=True)
class JudgeSpec:
    """How an LLM judge scores a task's outputs: the judge's chat prompt and how to read its
    verdict (a score on the task's scale, or None when the reply has no readable rating); or, with
    `multi`, several prompts per output whose readings combine into the score (HELMET's summaries)."""

    prompt: Callable[[Sample, str], list[Message]] | None = None
    parse: Callable[[str], float | None] | None = None
    max_tokens: int = 256
    tries: int = 1  # ask again (a fresh, separately cached call) while the reply has no readable rating
    required: bool = False  # the task has no other metric: evaluating it without --judge is an error
    multi: MultiJudge | None = None

    def __post_init__(self) -> None:
        if (self.multi is None) == (self.prompt is None or self.parse is None):
            raise ValueError("a JudgeSpec has either a prompt and a parser, or `multi`")


Reporter = Callable[[list[ScoredSample], Path], dict[str, Any]]


@dataclass(frozen=True)
class Task:
    """A benchmark task: how to make its samples, how to score them, how to generate."""

    name: str
    make_sample: SampleFactory
    metric: Metric
    max_new_tokens: int
    postprocess: Callable[[str], str] = str.strip
    stop: tuple[str, ...] = ()
    chat: bool = True
    num_samples: int = 500
    params: dict[str, object] = field(default_factory=dict)
    judge: JudgeSpec | None = None
    report: Reporter | None = None  # extra results and files (e.g. a NIAH heatmap) from the scored samples
    score_sample: Callable[[Sample, str], float] | None = None  # a scorer that needs the sample (its meta), not only targets
    # a scorer that also returns per-sample details (metric components) the sample's record keeps in its meta
    score_parts: Callable[[Sample, str], tuple[float, dict[str, Any]]] | None = None
    size: Callable[[], int] | None = None  # how many samples the task's data holds (real-document tasks)
    data_digest: Callable[[], str] | None = None  # content digest of the task's data (sample caches key on it)
    target_delimiter: str = " "  # multiple choice: between the prompt and each choice (lm-eval's)
    short: bool = False  # a short-context task (MMLU, GSM8K): run once, at length 0 ("short"), whatever --lengths
    check: Callable[[], None] | None = None  # reads and checks data files `size` does not (essay haystacks, QA sources)
    data_source: Callable[[], DataSource] | None = None  # where the data came from (its loader says); None: generated
    options: Options = NO_OPTIONS  # the task's own typed `--task-args` (only these enter its cache key)
    halve_generation: bool = False  # the generation budget is at most half the length (real documents)
    # a second generation from the first (postprocessed) output: (prompt, max new tokens), or None to score the
    # first; the runner scores the second output and keeps the first in the sample's `meta["first_output"]`
    follow_up: Callable[[Sample, str], tuple[Prompt, int] | None] | None = None
    budget: Budget = NO_BUDGET  # the run's answer and thinking budgets (`with_budget`); the default: the task's own

    def data(self) -> DataSource:
        """Where the task's data came from (file, package, hub, url), as results record it; "generated" by default."""
        return self.data_source() if self.data_source is not None else GENERATED

    def preflight(self) -> None:
        """Read and check the task's data now, so that a bad file fails before any model loads."""
        if self.check is not None:
            self.check()
        if self.size is not None:
            self.size()

    def samples(self, counter: Counter, length: int, n: int, seed: int) -> list[Sample]:
        """`n` samples sized to `length` tokens (prompt + generation, under the task's `budget`)."""
        with budget_scope(self.budget):
            return [self.make_sample(counter, length, index, seed) for index in range(n)]

    def with_budget(self, budget: Budget) -> Task:
        """The task under a run's budgets: `budget.answer` replaces `max_new_tokens`, `budget.think` is added."""
        return replace(self, budget=budget, max_new_tokens=self.max_new_tokens if budget.answer is None else budget.answer)

    def score(self, sample: Sample, output: str) -> float:
        """Score one model output against the sample's targets."""
        return self.scored(sample, output)[0]

    def scored(self, sample: Sample, output: str) -> tuple[float, dict[str, Any]]:
        """The score of one output and the details its record keeps (`score_parts`; none by default)."""
        if self.score_parts is not None:
            score, parts = self.score_parts(sample, self.postprocess(output))
            return float(score), parts
        if self.score_sample is not None:
            return self.score_sample(sample, self.postprocess(output)), {}
        return self.metric.per_sample(self.postprocess(output), sample.targets), {}

    def lengths_for(self, lengths: Sequence[int]) -> list[int]:
        """The lengths this task runs at: the run's, or only 0 ("short") for a short-context task."""
        return [SHORT] if self.short else list(lengths)

    def answer_budget(self, length: int) -> int:
        """Tokens reserved for the answer at `length` (see `generation_budget`)."""
        with budget_scope(self.budget):
            return generation_budget(self.max_new_tokens, length, self.halve_generation)

    def generation_budget(self, length: int) -> int:
        """Tokens reserved for generation at `length`: the thinking budget plus the answer's."""
        return self.budget.think + self.answer_budget(length)

    def prompt_budget(self, length: int) -> int:
        """Tokens a prompt may take at `length`: the length minus the generation budget."""
        return length - self.generation_budget(length)

    def max_new_tokens_for(self, sample: Sample) -> int:
        """Generation limit of one sample: the thinking budget plus the answer's, the task's unless the sample caps
        it (`Sample.max_new_tokens`); a real-document task's answer is at most half of what thinking leaves."""
        answer = sample.max_new_tokens if sample.max_new_tokens is not None else self.max_new_tokens
        if self.halve_generation and sample.length:
            answer = min(answer, self.answer_budget(sample.length))
        return self.budget.think + answer
