"""A scripted backend for runner tests: real tokenizer, answers chosen by the test."""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

from harness.core.backends.base import Backend, Generation, GenerationRequest, Loglikelihood, LoglikelihoodRequest


class ScriptedBackend(Backend):
    """Answers each request with `answer(request)`; can fail after a number of batches."""

    name = "scripted"

    def __init__(
        self,
        tokenizer: Any,
        answer: Callable[[GenerationRequest], str] | None = None,
        fail_after_batches: int | None = None,
        batch: int = 2,
        max_len: int = 8192,
        choice_logprob: Callable[[LoglikelihoodRequest], float] | None = None,
    ) -> None:
        self.choice_logprob = choice_logprob or (lambda request: 0.0)
        self.loglikelihood_requests: list[LoglikelihoodRequest] = []
        self._tokenizer = tokenizer
        self.answer = answer or echo_needle
        self.fail_after_batches = fail_after_batches
        self.batches = 0
        self.requests: list[GenerationRequest] = []
        self._batch = batch
        self._max_len = max_len

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def max_length(self) -> int:
        return self._max_len

    @property
    def batch_hint(self) -> int:
        return self._batch

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        if self.fail_after_batches is not None and self.batches >= self.fail_after_batches:
            raise KeyboardInterrupt
        self.batches += 1
        self.requests += requests
        return [Generation(text=self.answer(r), output_tokens=3) for r in requests]

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        self.loglikelihood_requests += requests
        return [Loglikelihood(self.choice_logprob(r), False) for r in requests]


def echo_needle(request: GenerationRequest) -> str:
    """A perfect model for niah: reads the needle's value out of the prompt."""
    match = re.search(r"is: (\S+)\.", request.text)
    return f" {match.group(1)}." if match else ""
