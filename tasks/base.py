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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from harness.core.prompt import TokenCosts
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


def generation_budget(max_new_tokens: int, length: int, halved: bool = False) -> int:
    """Tokens reserved for the answer at `length`: `max_new_tokens`, or with `halved` at most half the
    length (real documents: InfiniteBench's math_calc asks for 30,000)."""
    return min(max_new_tokens, length // 2) if halved else max_new_tokens


def prompt_budget(max_new_tokens: int, length: int, halved: bool = False) -> int:
    """Tokens a prompt may take at `length`: the length minus the generation budget (`Task.prompt_budget`;
    a sample factory that runs before its task exists calls this with the task's own numbers)."""
    return length - generation_budget(max_new_tokens, length, halved)


@dataclass(frozen=True)
class JudgeSpec:
    """How an LLM judge scores a task's outputs: the judge's chat prompt and how to read its
    verdict (a score on the task's scale, or None when the reply has no readable rating)."""

    prompt: Callable[[Sample, str], list[Message]]
    parse: Callable[[str], float | None]
    max_tokens: int = 256
    tries: int = 1  # ask again (a fresh, separately cached call) while the reply has no readable rating
    required: bool = False  # the task has no other metric: evaluating it without --judge is an error


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
    size: Callable[[], int] | None = None  # how many samples the task's data holds (real-document tasks)
    data_digest: Callable[[], str] | None = None  # content digest of the task's data (sample caches key on it)
    target_delimiter: str = " "  # multiple choice: between the prompt and each choice (lm-eval's)
    short: bool = False  # a short-context task (MMLU, GSM8K): run once, at length 0 ("short"), whatever --lengths
    check: Callable[[], None] | None = None  # reads and checks data files `size` does not (essay haystacks, QA sources)
    data_source: Callable[[], DataSource] | None = None  # where the data came from (its loader says); None: generated
    options: Options = NO_OPTIONS  # the task's own typed `--task-args` (only these enter its cache key)
    halve_generation: bool = False  # the generation budget is at most half the length (real documents)

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
        """`n` samples sized to `length` tokens (prompt + generation)."""
        return [self.make_sample(counter, length, index, seed) for index in range(n)]

    def score(self, sample: Sample, output: str) -> float:
        """Score one model output against the sample's targets."""
        if self.score_sample is not None:
            return self.score_sample(sample, self.postprocess(output))
        return self.metric.per_sample(self.postprocess(output), sample.targets)

    def lengths_for(self, lengths: Sequence[int]) -> list[int]:
        """The lengths this task runs at: the run's, or only 0 ("short") for a short-context task."""
        return [SHORT] if self.short else list(lengths)

    def generation_budget(self, length: int) -> int:
        """Tokens reserved for the answer at `length` (see `generation_budget`)."""
        return generation_budget(self.max_new_tokens, length, self.halve_generation)

    def prompt_budget(self, length: int) -> int:
        """Tokens a prompt may take at `length`: the length minus the generation budget."""
        return prompt_budget(self.max_new_tokens, length, self.halve_generation)

    def max_new_tokens_for(self, sample: Sample) -> int:
        """Generation budget of one sample: the task's, unless the sample caps it (`Sample.max_new_tokens`)."""
        return sample.max_new_tokens if sample.max_new_tokens is not None else self.max_new_tokens
