"""Requests that still fail after a backend's own retries: a typed result per request, not a crash.

A backend that can lose single requests (an OpenAI-compatible server answering 500, malformed JSON
or no choices, a dropped connection) retries them itself. What still fails comes back as a
`RequestFailure` in the place of its answer, and the batch raises `RequestsFailed`, which carries
every answer and every failure. A caller that knows (the runner, the judge, the synthesis generator)
calls through `settle` and records each failure with its item, then keeps going; one that does not
stops with one clear line, since `RequestsFailed` is a `HarnessError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from harness.core.errors import HarnessError

Req = TypeVar("Req")
Ans = TypeVar("Ans")


@dataclass(frozen=True)
class RequestFailure:
    """One request that got no usable answer. `reason` is short and stable (it is counted by value:
    "HTTP 500", "malformed JSON reply", "connection dropped (RemoteProtocolError)") and holds no secret."""

    reason: str


class RequestsFailed(HarnessError):
    """Some requests of a batch failed after retries. `results[i]` is the answer to request i or its
    `RequestFailure`; `abort`, when set, says why the whole run should stop once this batch is
    recorded (the server is gone), in one line that names the server and the model."""

    def __init__(self, results: Sequence[Any], where: str, abort: str | None = None) -> None:
        self.results = list(results)
        self.where = where
        self.abort = abort
        failures = [r for r in self.results if isinstance(r, RequestFailure)]
        first = failures[0].reason if failures else "none"
        super().__init__(abort or f"{len(failures)} of {len(self.results)} requests to {where} failed after retries "
                                   f"(first: {first})")

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt from its arguments when it crosses from a model worker process to the coordinator."""
        return RequestsFailed, (self.results, self.where, self.abort)


class WorkerLost(HarnessError):
    """A model worker (a process or a Ray actor of a `--replicas` run) is gone: the requests it held get no answer
    from it, and the coordinator gives its samples to the other workers."""


def settle(call: Callable[[Sequence[Req]], list[Ans]], requests: Sequence[Req]) -> tuple[list[Ans | RequestFailure], str | None]:
    """`call(requests)` as answers or failures in request order, and the reason to stop the run
    after recording them (None: keep going)."""
    try:
        return list(call(requests)), None
    except RequestsFailed as failed:
        return failed.results, failed.abort
