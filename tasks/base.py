"""`Task` and `Metric`: a benchmark task is a small factory of pure functions.

A task builds samples with `make_sample(counter, length, index, seed)` (pure: the same inputs give
the same sample) and scores an output with its metric. Tasks never import a backend: token
counting arrives as a `Counter`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from harness.prompt import TokenCosts
from harness.types import Message, Prompt, Sample, ScoredSample


class Counter(Protocol):
    """Counts the tokens the evaluated model sees for a prompt (chat template and prefix included).

    `costs` caches token counts of short strings under the same tokenizer (for fast sizing).
    """

    @property
    def costs(self) -> TokenCosts | None: ...

    def count(self, prompt: Prompt, answer_prefix: str = "") -> int: ...


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for no values."""
    return statistics.fmean(values) if values else 0.0


def stderr_of_mean(values: Sequence[float]) -> float:
    """Standard error of the mean (sample standard deviation / sqrt(n)); 0.0 below two values."""
    if len(values) < 2:
        return 0.0
    return statistics.stdev(values) / len(values) ** 0.5


@dataclass(frozen=True)
class Metric:
    """A metric declares its per-sample function, its aggregation and its direction."""

    name: str
    per_sample: Callable[[str, Sequence[str]], float]
    aggregate: Callable[[Sequence[float]], float] = mean
    higher_is_better: bool = True


SampleFactory = Callable[[Counter, int, int, int], Sample]


@dataclass(frozen=True)
class JudgeSpec:
    """How an LLM judge scores a task's outputs: the judge's chat prompt and how to read its
    verdict (a score on the task's scale, or None when the reply has no readable rating)."""

    prompt: Callable[[Sample, str], list[Message]]
    parse: Callable[[str], float | None]
    max_tokens: int = 256


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

    def samples(self, counter: Counter, length: int, n: int, seed: int) -> list[Sample]:
        """`n` samples sized to `length` tokens (prompt + generation)."""
        return [self.make_sample(counter, length, index, seed) for index in range(n)]

    def score(self, sample: Sample, output: str) -> float:
        """Score one model output against the sample's targets."""
        return self.metric.per_sample(self.postprocess(output), sample.targets)
