"""What can go wrong between the openai backend and its server, and what each fault calls for.

- transient, retried with backoff and then a per-request failure: a timeout, a dropped connection,
  HTTP 408, 409, 425, 429 and 5xx, and a 200 whose body is not a JSON object, has no choices, or
  lacks the message content, text or logprobs asked for;
- permanent for one request, not retried, a per-request failure at once: any other 4xx (a prompt
  the server rejects, e.g. longer than its context);
- fatal, the run stops with one line naming the server and the model: 401 and 403 (the key), 404
  (the model or the endpoint); a refused connection is fatal at start-up (nothing listens there)
  and, after the retries, stops a run whose server went away.

Reasons are short and stable ("HTTP 500", "malformed JSON reply") so they can be counted by value;
server messages in them are cut short and redacted.
"""

from __future__ import annotations

import json
import random
from typing import Any

from harness.core.redaction import redact_text

RETRY_STATUS = frozenset({408, 409, 425, 429})
MAX_DELAY_S = 30.0  # the longest backoff between two attempts
MAX_RETRY_AFTER_S = 60.0  # a server's Retry-After is honoured up to this
REFUSED = "connection refused"


class Fault(Exception):
    """One failed attempt, classified. `reason` is the stable short reason (for a fatal fault: the
    whole one-line error); `status` the HTTP status, if any; `retry_after` the server's wish, in s."""

    def __init__(self, reason: str, transient: bool = True, fatal: bool = False, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.fatal = fatal
        self.status = status
        self.retry_after = retry_after

    @property
    def refused(self) -> bool:
        return self.reason == REFUSED


def classify(error: BaseException, where: str, model: str) -> Fault | None:
    """The fault behind an exception raised by a request; None for an exception that is not one
    (a bug: the caller re-raises it)."""
    import openai

    if isinstance(error, Fault):
        return error
    if isinstance(error, openai.APITimeoutError):
        return Fault("timeout")
    if isinstance(error, openai.APIConnectionError):
        if _refused(error):
            return Fault(REFUSED)
        cause = error.__cause__
        return Fault(f"connection dropped ({type(cause).__name__})" if cause is not None else "connection dropped")
    if isinstance(error, openai.APIStatusError):
        code = error.status_code
        if code in (401, 403):
            return Fault(f"the OpenAI-compatible server at {where} refused the API key (OPENAI_API_KEY) for model {model!r} "
                         f"(HTTP {code})", transient=False, fatal=True, status=code)
        if code == 404:
            return Fault(f"the OpenAI-compatible server at {where} answered 404 for model {model!r}: {detail(error)}",
                         transient=False, fatal=True, status=code)
        if code in RETRY_STATUS or code >= 500:
            return Fault(f"HTTP {code}", status=code, retry_after=retry_after(error.response.headers))
        return Fault(f"HTTP {code}: {detail(error)}", transient=False, status=code)
    if isinstance(error, openai.APIError):  # e.g. a reply that fails the client's own validation
        return Fault(f"invalid reply ({type(error).__name__})")
    return None


def _refused(error: BaseException) -> bool:
    """Whether a connection error is, at its root, a refused connection (nothing listens there)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def detail(error: Any) -> str:
    """The server's own message of an error reply, one line, at most 200 characters, redacted."""
    body = getattr(error, "body", None)
    message: Any = body
    if isinstance(body, dict):
        inner = body.get("error")
        message = body.get("message") or (inner.get("message") if isinstance(inner, dict) else inner) or body
    text = " ".join(str(message if message is not None else getattr(error, "message", "")).split())
    return redact_text(text[:200])


def retry_after(headers: Any) -> float | None:
    """Seconds the server asks to wait (`retry-after-ms`, or `retry-after` in seconds), if any."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    return None


def backoff(attempt: int, base_s: float, asked_s: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (0-based): the server's Retry-After when it gives a
    sane one, else `base_s * 2**attempt` (at most `MAX_DELAY_S`) less up to a quarter of jitter."""
    if asked_s is not None and 0 <= asked_s <= MAX_RETRY_AFTER_S:
        return asked_s
    growth: int = 2**attempt  # attempt >= 0
    return min(base_s * growth, MAX_DELAY_S) * (1 - 0.25 * random.random())


def reply_object(text: str) -> dict[str, Any]:
    """A reply body as a JSON object, or a transient fault."""
    try:
        data = json.loads(text)
    except ValueError:
        raise Fault("malformed JSON reply") from None
    if not isinstance(data, dict):
        raise Fault("malformed JSON reply")
    return data


def first_choice(data: dict[str, Any]) -> dict[str, Any]:
    """`choices[0]` of a completion reply, or a transient fault."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Fault("reply without choices")
    return choices[0]


def output_tokens(data: dict[str, Any]) -> int:
    """`usage.completion_tokens` where the server reports it, else 0."""
    usage = data.get("usage")
    value = usage.get("completion_tokens") if isinstance(usage, dict) else None
    return value if isinstance(value, int) else 0
