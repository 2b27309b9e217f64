"""`openai`: chat and completions against any OpenAI-compatible server (vLLM, SGLang, OpenAI).

Bounded concurrency with a thread pool; retries with exponential backoff on 429, 5xx, timeouts
and dropped connections are the `openai` client's own (`max_retries`). Token counting needs the
model's tokenizer (`--tokenizer`). The API key is read from the environment and never recorded.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from harness.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    truncate_at_stop,
)
from harness.backends.hf import load_tokenizer
from harness.errors import HarnessError
from harness.model_args import check_known

KNOWN_ARGS = ("mode", "concurrency", "max_retries", "timeout", "max_length", "assistant_prefill")


class OpenAIBackend(Backend):
    """A model served behind an OpenAI-compatible HTTP API."""

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        tokenizer: str | None = None,
        batch_size: int | str = 1,
        **model_args: Any,
    ) -> None:
        import openai

        check_known(self.name, model_args, KNOWN_ARGS)
        self.model_name = model
        self.model_args = dict(model_args)
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.mode = model_args.get("mode", "chat")
        if self.mode not in ("chat", "completions"):
            raise HarnessError(f"--model-args mode={self.mode!r}: expected chat or completions")
        self.concurrency = int(model_args.get("concurrency", 8))
        self.requested_batch = batch_size if isinstance(batch_size, int) else self.concurrency
        self.assistant_prefill = bool(model_args.get("assistant_prefill", True))
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get("OPENAI_API_KEY", "EMPTY"),
            max_retries=int(model_args.get("max_retries", 5)),
            timeout=float(model_args.get("timeout", 600)),
        )
        self._server_max_length = self._check_server()
        self.tokenizer_name = tokenizer
        self._tokenizer = load_tokenizer(tokenizer) if tokenizer else None

    def _check_server(self) -> int | None:
        """Fail fast, with the URL, when the server is unreachable or lacks the model."""
        import openai

        try:
            models = self.client.with_options(max_retries=1, timeout=30).models.list().data
        except openai.APIConnectionError as error:
            raise HarnessError(f"cannot reach the server at {self.base_url}: {error}") from error
        except openai.AuthenticationError as error:
            raise HarnessError(f"the server at {self.base_url} refused the API key (OPENAI_API_KEY)") from error
        served = {m.id: m for m in models}
        if served and self.model_name not in served:
            raise HarnessError(
                f"the server at {self.base_url} does not serve {self.model_name!r}; it serves {', '.join(sorted(served))}"
            )
        found = served.get(self.model_name)
        value = getattr(found, "max_model_len", None) if found is not None else None
        return int(value) if value else None

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def batch_hint(self) -> int:
        return max(self.concurrency, self.requested_batch)

    @property
    def max_length(self) -> int:
        if self.model_args.get("max_length"):
            return int(self.model_args["max_length"])
        if self._server_max_length:
            return self._server_max_length
        if self._tokenizer is not None and 0 < getattr(self._tokenizer, "model_max_length", 0) < 10**8:
            return int(self._tokenizer.model_max_length)
        return 131072

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_name,
            "base_url": self.base_url,
            "mode": self.mode,
            "model_args": self.model_args,
            "tokenizer": self.tokenizer_name,
        }

    def _map(self, fn: Any, items: Sequence[Any]) -> list[Any]:
        import openai

        try:
            with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
                return list(pool.map(fn, items))
        except openai.APIConnectionError as error:
            raise HarnessError(f"lost the server at {self.base_url}: {error}") from error
        except openai.APIStatusError as error:
            raise HarnessError(f"the server at {self.base_url} answered {error.status_code}: {error.message}") from error

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self._map(self._generate_one, requests)

    def _generate_one(self, request: GenerationRequest) -> Generation:
        stop = list(request.stop) or None
        if self.mode == "chat" and request.messages is not None:
            messages = list(request.messages)
            extra: dict[str, Any] = {}
            if messages[-1]["role"] == "assistant":
                if self.assistant_prefill:
                    # vLLM continues the final assistant message: the answer prefix stays inside the turn.
                    extra = {"add_generation_prompt": False, "continue_final_message": True}
                else:
                    messages = messages[:-1]
            response = self.client.chat.completions.create(
                model=self.model_name,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=request.seed if request.temperature > 0 else None,
                stop=stop,
                extra_body=extra or None,
            )
            text = response.choices[0].message.content or ""
            used = response.usage.completion_tokens if response.usage else 0
        else:
            completion = self.client.completions.create(
                model=self.model_name, prompt=request.text, max_tokens=request.max_tokens, temperature=request.temperature,
                seed=request.seed if request.temperature > 0 else None, stop=stop,
            )
            text = completion.choices[0].text or ""
            used = completion.usage.completion_tokens if completion.usage else 0
        return Generation(text=truncate_at_stop(text, request.stop), output_tokens=used)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        return self._map(self._loglikelihood_one, requests)

    def _loglikelihood_one(self, request: LoglikelihoodRequest) -> Loglikelihood:
        """Echo the prompt with logprobs and sum those of the continuation's tokens."""
        response = self.client.completions.create(
            model=self.model_name,
            prompt=request.context + request.continuation,
            max_tokens=1,
            temperature=0.0,
            echo=True,
            logprobs=1,
        )
        logprobs = response.choices[0].logprobs
        if logprobs is None or logprobs.text_offset is None or logprobs.token_logprobs is None:
            raise HarnessError(f"the server at {self.base_url} returned no prompt logprobs (echo=True)")
        start = len(request.context)
        end = start + len(request.continuation)
        total, greedy = 0.0, True
        tops = logprobs.top_logprobs or []
        for i, (offset, lp) in enumerate(zip(logprobs.text_offset, logprobs.token_logprobs)):
            if offset < start or offset >= end or lp is None:
                continue
            total += lp
            top = tops[i] if i < len(tops) and tops[i] else {}
            if top and max(top.values()) > lp + 1e-6:
                greedy = False
        return Loglikelihood(logprob=total, is_greedy=greedy)
