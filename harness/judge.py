"""An LLM judge: the one cached LLM client (`harness.core.llm_client`) over any backend, greedy.

Every call is cached (`<cache>/judge.db` by default; a judge cache written before the client was one
is still read, see `LLMClient._adopt`), so rerunning a judged evaluation costs no judge call. The
judge's identity goes into the run's results. A verdict the task cannot read is asked again (the
client's re-ask loop, up to the task's `tries`). A call that fails after the judge backend's own
retries is counted (`failed`) and not cached, so a rerun asks it again; when the judge's server is
gone, `abort` says why and the runner stops the run once the batch is recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from harness.core.backends.base import Backend
from harness.core.backends.failures import RequestFailure
from harness.core.llm_client import CallFailed, LLMClient, Params, ParseError
from harness.core.paths import cache_dir
from harness.core.types import Message

Verdict = tuple[float | None, str]  # the score (None: no readable rating after every try) and the last reply
T = TypeVar("T")


class Judge:
    """Asks `backend` (named `name` in cache keys and results) to grade; remembers every answer."""

    def __init__(self, backend: Backend, name: str, cache_path: Path | None = None) -> None:
        self.backend = backend
        self.name = name
        self.cache_path = cache_path or cache_dir() / "judge.db"
        # a runner batch's prompts go to the backend in one call, batched by the backend itself
        self.client = LLMClient(backend, name, self.cache_path, batch=0)

    @property
    def hits(self) -> int:
        return self.client.hits

    @property
    def calls(self) -> int:
        return self.client.calls

    @property
    def failed(self) -> int:
        """Calls that got no usable reply after the backend's retries."""
        return sum(self.client.failed.values())

    @property
    def abort(self) -> str | None:
        """The judge backend's reason to stop the run (its server is gone)."""
        return self.client.abort

    def verdicts(self, prompts: Sequence[Sequence[Message]], max_tokens: int,
                 parsers: Sequence[Callable[[str], T | None]], tries: Sequence[int]) -> list[tuple[T | None, str] | RequestFailure]:
        """Each prompt's verdict read by its parser (None: no rating; a rating, or the numbers of a several-prompt
        judge's reply) with the last reply, asked again while unreadable up to its `tries`; or the failure of its call.
        All prompts go to the backend together (one batch)."""

        def reader(parse: Callable[[str], T | None]) -> Callable[[str], tuple[T, str]]:
            def read(reply: str) -> tuple[T, str]:
                score = parse(reply)
                if score is None:
                    raise ParseError("no readable rating")
                return score, reply

            return read

        out: list[tuple[T | None, str] | RequestFailure] = []
        for result in self.client.ask_parsed(prompts, [reader(p) for p in parsers], Params(max_tokens, 0.0), tries):
            if isinstance(result, CallFailed):
                out.append(RequestFailure(result.reason))
            elif isinstance(result, ParseError):
                out.append((None, result.reply))
            else:
                out.append(result)
        return out

    def describe(self) -> dict[str, Any]:
        return self.client.describe("judge")
