"""The generator behind every plugin: the one cached LLM client (`harness.core.llm_client`) under the
name the plugins know, with the cache at `OUT/llm_cache.sqlite`.

What the client does (content-addressed cache of raw replies, the re-ask loop of `ask_parsed`,
failed calls counted by reason and never cached) is described there. The generator adds one rule:
when the backend says its server is gone, the finished batch is cached and the run stops with one
line.
"""

from __future__ import annotations

from typing import Any, Sequence

from harness.core.errors import HarnessError
from harness.core.llm_client import CallFailed, LLMClient, Params, ParseError, Reply
from harness.core.types import Message

__all__ = ["CallFailed", "Generator", "Params", "ParseError"]


class Generator(LLMClient):
    """Asks `backend` in batches of its `batch_hint` (the backend's own concurrency bounds parallel calls),
    caches every reply as its batch completes; a lost server stops the run."""

    def ask(self, prompts: Sequence[Sequence[Message]], params: Params = Params(), attempt: int = 0) -> list[Reply]:
        replies = super().ask(prompts, params, attempt)
        if self.abort:
            raise HarnessError(f"{self.abort}; the finished calls are cached in {self.cache_path}: rerun to continue")
        return replies

    def describe(self, role: str = "generator") -> dict[str, Any]:
        return super().describe(role)
