"""The `Backend` interface: every model (hf, vllm, openai) sits behind these four members.

Batching is the backend's job: each method takes a list of requests (lm-eval's `LM` shape).
Backends never know a task; the runner turns samples into requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.core.types import Message


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: greedy, or sampled at `temperature` with its own `seed` (same seed, same text).

    `text` is the fully rendered prompt (chat template applied when chat is on, answer prefix
    appended); `messages` is the same prompt in chat form for chat APIs, with the answer prefix
    as a final partial assistant message; `None` when the prompt is plain completion text.
    """

    text: str
    max_tokens: int
    messages: tuple[Message, ...] | None = None
    stop: tuple[str, ...] = ()
    add_special_tokens: bool = True
    temperature: float = 0.0  # 0: greedy (every evaluation); above 0: sampling (synthesis), seeded by `seed`
    seed: int = 0


@dataclass(frozen=True)
class Generation:
    """A backend's answer to one `GenerationRequest`."""

    text: str
    output_tokens: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    hit_limit: bool = False  # generation stopped at `max_tokens` (not at a stop string or the end of text)


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """log P(continuation | context), summed over the continuation's tokens."""

    context: str
    continuation: str


@dataclass(frozen=True)
class Loglikelihood:
    """The summed log-probability and whether greedy decoding would produce the continuation."""

    logprob: float
    is_greedy: bool


class Backend(ABC):
    """A model behind one interface. Only `generate` is required of a new backend."""

    name: str = "backend"

    @abstractmethod
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        """Greedy-decode each request; results in request order."""

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        """Score continuations; backends that cannot say so clearly."""
        raise NotImplementedError(f"the {self.name} backend does not support loglikelihood requests")

    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer (used to count tokens and apply the chat template)."""
        return None

    def count_tokens(self, text: str, add_special_tokens: bool = True) -> int:
        """How many tokens the model sees for `text`."""
        tokenizer = self.tokenizer
        if tokenizer is None:
            raise NotImplementedError(f"the {self.name} backend has no tokenizer to count tokens with")
        return len(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])

    @property
    @abstractmethod
    def max_length(self) -> int:
        """The longest context (prompt + generation) the model accepts, in tokens."""

    @property
    def batch_hint(self) -> int:
        """How many requests the runner should hand over at once (also what a kill can lose)."""
        return 1

    def describe(self) -> dict[str, Any]:
        """What goes into a run's config to identify this model (never secrets)."""
        return {"backend": self.name}

    def close(self) -> None:  # noqa: B027  an optional hook; most backends hold nothing to release
        """Release resources (servers, GPU memory)."""


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut `text` at the first occurrence of any stop string."""
    cut = len(text)
    for s in stop:
        if s:
            pos = text.find(s)
            if pos != -1:
                cut = min(cut, pos)
    return text[:cut]
