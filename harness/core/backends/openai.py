"""`openai`: chat and completions against any OpenAI-compatible server (vLLM, SGLang, OpenAI).

Bounded concurrency with a thread pool. Token counting needs the model's tokenizer (`--tokenizer`).
The API key is read from the environment and never recorded.

Faults (see `openai_faults`): one retry layer, ours. The `openai` client is built with
`max_retries=0`, because it retries only HTTP-level faults (connection errors, timeouts, 408/409/
429/5xx) and knows nothing of a 200 whose body is malformed JSON or has no choices; retrying those
on top of the client's own retries would multiply the attempts (and the waits) of a request whose
faults alternate. So every transient fault is retried here, `max_retries` times (default 5) with
exponential backoff from `retry_base_s` (default 1 s, doubling, at most 30 s; a server's
Retry-After up to 60 s is honoured). A request that still fails becomes a `RequestFailure` and
the batch raises `RequestsFailed` with every answer and failure, so the runner records that
sample as failed and keeps going. Faults that can never succeed stop at once with one line naming
the server and the model: a refused connection at start-up, 401/403 (the key), 404 (the model).
A server that goes away mid-run (connection refused after the retries), or fails `abort_after`
requests in a row (default 50; 0: never), stops the run once the batch is recorded.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

from harness.core.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    truncate_at_stop,
)
from harness.core.backends.failures import RequestFailure, RequestsFailed
from harness.core.backends.hf import load_tokenizer
from harness.core.backends.openai_faults import REFUSED, Fault, backoff, classify, first_choice, output_tokens, reply_object
from harness.core.errors import HarnessError
from harness.core.model_args import check_known
from harness.core.redaction import redact_text

KNOWN_ARGS = ("mode", "concurrency", "max_retries", "retry_base_s", "abort_after", "timeout", "max_length",
              "assistant_prefill")
STARTUP_TIMEOUT_S = 30.0

Req = TypeVar("Req")
Ans = TypeVar("Ans")


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
        self.where = redact_text(self.base_url)  # the server as errors name it (no credentials)
        self.mode = model_args.get("mode", "chat")
        if self.mode not in ("chat", "completions"):
            raise HarnessError(f"--model-args mode={self.mode!r}: expected chat or completions")
        self.concurrency = int(model_args.get("concurrency", 8))
        self.requested_batch = batch_size if isinstance(batch_size, int) else self.concurrency
        self.assistant_prefill = bool(model_args.get("assistant_prefill", True))
        self.max_retries = _number(model_args, "max_retries", 5, int)
        self.retry_base_s = _number(model_args, "retry_base_s", 1.0, float)
        self.abort_after = _number(model_args, "abort_after", 50, int)
        self.timeout = float(model_args.get("timeout", 600))
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=os.environ.get("OPENAI_API_KEY", "EMPTY"),
            max_retries=0,  # one retry layer: ours (see the module docstring)
            timeout=self.timeout,
        )
        self._stop = threading.Event()  # set by a fatal fault: the other requests stop retrying
        self._lock = threading.Lock()
        self._streak = 0  # requests failed in a row (after their retries)
        self._server_max_length = self._check_server()
        self.tokenizer_name = tokenizer
        self._tokenizer = load_tokenizer(tokenizer) if tokenizer else None

    def _check_server(self) -> int | None:
        """Fail fast, naming the server and the model, when the server is unreachable or lacks the model;
        the model's context length when the server says it (vLLM's `max_model_len`)."""
        client = self.client.with_options(timeout=min(self.timeout, STARTUP_TIMEOUT_S))
        answer = self._attempt(lambda _: reply_object(client.models.with_raw_response.list().text), None, retry_refused=False)
        if isinstance(answer, Fault):
            if answer.status == 404:
                return None  # a server without GET /models: nothing to check
            if answer.fatal:
                raise HarnessError(answer.reason)
            if answer.refused:
                raise HarnessError(f"cannot reach the OpenAI-compatible server at {self.where} for model {self.model_name!r} "
                                   f"({REFUSED})")
            raise HarnessError(f"the OpenAI-compatible server at {self.where} gave no usable list of models (GET /models) "
                               f"for model {self.model_name!r}: {answer.reason}, after {self.max_retries} retries")
        listed = answer.get("data")
        served = {m["id"]: m for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)} if isinstance(listed, list) else {}
        if served and self.model_name not in served:
            raise HarnessError(
                f"the server at {self.where} does not serve {self.model_name!r}; it serves {', '.join(sorted(served))}"
            )
        value = served.get(self.model_name, {}).get("max_model_len")
        return int(value) if isinstance(value, (int, float)) and value > 0 else None

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
            "base_url": self.where,
            "mode": self.mode,
            "model_args": self.model_args,
            "tokenizer": self.tokenizer_name,
        }

    # -- one request, retried ----------------------------------------------------------------

    def _attempt(self, fn: Callable[[Req], Ans], request: Req, retry_refused: bool = True) -> Ans | Fault:
        """`fn(request)`, retried with backoff while its fault is transient: the answer, or the last fault
        (a fatal or permanent one at once)."""
        fault: Fault | None = None
        for attempt in range(self.max_retries + 1):
            if fault is not None:
                self._stop.wait(backoff(attempt - 1, self.retry_base_s, fault.retry_after))
            if self._stop.is_set():
                return Fault("stopped: another request failed fatally", transient=False)
            try:
                return fn(request)
            except Exception as error:  # noqa: BLE001  classified below; anything that is not a fault re-raises
                fault = classify(error, self.where, self.model_name)
                if fault is None:
                    raise
                if fault.fatal or not fault.transient or (fault.refused and not retry_refused):
                    return fault
        assert fault is not None
        return fault

    def _call(self, fn: Callable[[Req], Ans], request: Req) -> Ans | RequestFailure:
        """One request of a batch: its answer or its failure; a fatal fault raises (one line)."""
        answer = self._attempt(fn, request)
        with self._lock:
            self._streak = self._streak + 1 if isinstance(answer, Fault) else 0
        if not isinstance(answer, Fault):
            return answer
        if answer.fatal:
            self._stop.set()
            raise HarnessError(answer.reason)
        return RequestFailure(answer.reason)

    def _map(self, fn: Callable[[Req], Ans], items: Sequence[Req]) -> list[Ans]:
        """Every request, `concurrency` at a time, answers in request order; raises `RequestsFailed`
        (every answer and failure) when some failed after their retries."""
        self._stop.clear()
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            results = list(pool.map(lambda item: self._call(fn, item), items))
        failures = [r for r in results if isinstance(r, RequestFailure)]
        if not failures:  # every result is an answer
            return [r for r in results if not isinstance(r, RequestFailure)]
        abort = None
        if any(f.reason == REFUSED for f in failures):
            abort = (f"lost the OpenAI-compatible server at {self.where} for model {self.model_name!r} "
                     f"({REFUSED} after {self.max_retries} retries)")
        elif self.abort_after and self._streak >= self.abort_after:
            abort = (f"the OpenAI-compatible server at {self.where} failed {self._streak} requests in a row for model "
                     f"{self.model_name!r} (last: {failures[-1].reason})")
        raise RequestsFailed(results, f"{self.where} (model {self.model_name!r})", abort)

    # -- requests ----------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self._map(self._generate_one, requests)

    def _generate_one(self, request: GenerationRequest) -> Generation:
        stop = list(request.stop) or None
        seed = request.seed if request.temperature > 0 else None
        if self.mode == "chat" and request.messages is not None:
            messages = list(request.messages)
            extra: dict[str, Any] = {}
            if messages[-1]["role"] == "assistant":
                if self.assistant_prefill:
                    # vLLM continues the final assistant message: the answer prefix stays inside the turn.
                    extra = {"add_generation_prompt": False, "continue_final_message": True}
                else:
                    messages = messages[:-1]
            data = reply_object(self.client.chat.completions.with_raw_response.create(
                model=self.model_name,
                messages=messages,  # type: ignore[arg-type]  # openai types turns as one TypedDict per role; ours are plain dicts
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=seed,
                stop=stop,
                extra_body=extra or None,
            ).text)
            message = first_choice(data).get("message")
            text = message.get("content") if isinstance(message, dict) else None
            if text is None and isinstance(message, dict) and isinstance(message.get("reasoning_content", message.get("reasoning")), str):
                text = ""  # a server's reasoning parser split the thinking off, and it ran out of tokens before an answer
            if not isinstance(text, str):
                raise Fault("reply without message content")
        else:
            data = reply_object(self.client.completions.with_raw_response.create(
                model=self.model_name, prompt=request.text, max_tokens=request.max_tokens, temperature=request.temperature,
                seed=seed, stop=stop,
            ).text)
            text = first_choice(data).get("text")
            if not isinstance(text, str):
                raise Fault("reply without text")
        return Generation(text=truncate_at_stop(text, request.stop), output_tokens=output_tokens(data),
                          hit_limit=first_choice(data).get("finish_reason") == "length")

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        return self._map(self._loglikelihood_one, requests)

    def _loglikelihood_one(self, request: LoglikelihoodRequest) -> Loglikelihood:
        """Echo the prompt with logprobs and sum those of the continuation's tokens."""
        data = reply_object(self.client.completions.with_raw_response.create(
            model=self.model_name,
            prompt=request.context + request.continuation,
            max_tokens=1,
            temperature=0.0,
            echo=True,
            logprobs=1,
        ).text)
        logprobs = first_choice(data).get("logprobs")
        offsets = logprobs.get("text_offset") if isinstance(logprobs, dict) else None
        token_logprobs = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
        if not isinstance(offsets, list) or not isinstance(token_logprobs, list):
            raise Fault("reply without prompt logprobs (echo=True)")
        start = len(request.context)
        end = start + len(request.continuation)
        total, greedy = 0.0, True
        tops = (logprobs or {}).get("top_logprobs") or []
        for i, (offset, lp) in enumerate(zip(offsets, token_logprobs)):
            if offset < start or offset >= end or lp is None:
                continue
            total += lp
            top = tops[i] if i < len(tops) and tops[i] else {}
            if top and max(top.values()) > lp + 1e-6:
                greedy = False
        return Loglikelihood(logprob=total, is_greedy=greedy)


def _number(args: dict[str, Any], key: str, default: float, cast: Callable[[Any], Any]) -> Any:
    """A non-negative numeric model argument, or an error naming it."""
    value = args.get(key, default)
    try:
        number = cast(value)
    except (TypeError, ValueError):
        raise HarnessError(f"--model-args {key}={value!r}: expected a non-negative number") from None
    if number < 0 or isinstance(value, bool):
        raise HarnessError(f"--model-args {key}={value!r}: expected a non-negative number")
    return number
