"""The openai backend against a server that misbehaves on purpose (tests/harness/backends/faulty_server.py):
transient faults retried by one retry layer, what still fails a typed per-request failure, faults that can
never succeed one clear line naming the server and the model."""

from __future__ import annotations

import socket
import time
from typing import Iterator

import pytest

from harness.core.backends import load_backend
from harness.core.backends.base import GenerationRequest, LoglikelihoodRequest
from harness.core.backends.failures import RequestFailure, RequestsFailed
from harness.core.backends.openai import OpenAIBackend
from harness.core.errors import HarnessError
from tests.harness.core.backends.faulty_server import TRANSIENT_KINDS, FaultyServer

FAST = {"retry_base_s": 0.001, "timeout": 5}
CHAT = GenerationRequest(text="unused", max_tokens=4, messages=({"role": "user", "content": "The value is: 42."},))
PLAIN = GenerationRequest(text="The value is: 42.", max_tokens=4)
REASONS = {"malformed": "malformed JSON reply", "not_object": "malformed JSON reply", "empty_choices": "reply without choices",
           "close": "connection dropped (RemoteProtocolError)", "500": "HTTP 500", "502": "HTTP 502", "503": "HTTP 503",
           "429": "HTTP 429", "408": "HTTP 408"}


@pytest.fixture()
def server() -> Iterator[FaultyServer]:
    with FaultyServer() as running:
        yield running


def _backend(server: FaultyServer, **args) -> OpenAIBackend:  # type: ignore[no-untyped-def]
    return OpenAIBackend("x", base_url=server.url, **{**FAST, **args})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("mode,request_", [("chat", CHAT), ("completions", PLAIN)])
def test_a_sequence_of_every_transient_fault_is_retried_to_the_good_reply(server: FaultyServer, mode: str, request_) -> None:
    server.script = ["malformed", "empty_choices", "500", "close", "no_content", "not_object", "429"]
    backend = _backend(server, mode=mode, max_retries=7, concurrency=1)
    (out,) = backend.generate([request_])
    assert out.text == " 42." and out.output_tokens == 2
    assert len(server.posts) == 8  # seven faults, then the good reply: each fault cost exactly one attempt


@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
def test_each_transient_fault_alone_is_retried(server: FaultyServer, kind: str) -> None:
    server.script = [kind]
    assert _backend(server, max_retries=1).generate([CHAT])[0].text == " 42."
    assert len(server.posts) == 2


@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
def test_a_fault_that_outlasts_the_retries_is_that_requests_typed_failure(server: FaultyServer, kind: str) -> None:
    server.fault_for = lambda body: kind if "bad" in str(body.get("messages")) else None
    bad = GenerationRequest(text="", max_tokens=4, messages=({"role": "user", "content": "bad"},))
    backend = _backend(server, max_retries=2, concurrency=3)
    with pytest.raises(RequestsFailed) as caught:
        backend.generate([CHAT, bad, CHAT])
    good, failure, other = caught.value.results
    assert good.text == other.text == " 42."  # the rest of the batch is answered
    expected = REASONS[kind] if kind != "no_content" else "reply without message content"
    assert failure == RequestFailure(expected)
    assert caught.value.abort is None
    assert sum("bad" in str(p.get("messages")) for p in server.posts) == 3  # the first try and max_retries=2


def test_no_content_and_no_logprobs_are_reasons_too(server: FaultyServer) -> None:
    backend = _backend(server, max_retries=0, mode="completions")
    server.script = ["no_content"]
    with pytest.raises(RequestsFailed) as caught:
        backend.generate([PLAIN])
    assert caught.value.results == [RequestFailure("reply without text")]
    server.script = ["no_logprobs"]
    with pytest.raises(RequestsFailed) as caught:
        backend.loglikelihood([LoglikelihoodRequest("The value is", " 42")])
    assert caught.value.results == [RequestFailure("reply without prompt logprobs (echo=True)")]
    server.script = ["no_logprobs", "500"]
    (scored,) = _backend(server, max_retries=2, mode="completions").loglikelihood([LoglikelihoodRequest("ab", "cd")])
    assert scored.logprob == -2.0  # the two continuation characters, each -1, on the third try


def test_the_client_does_not_retry_underneath_ours(server: FaultyServer) -> None:
    backend = _backend(server, max_retries=0)
    assert backend.client.max_retries == 0
    server.script = ["503"]
    with pytest.raises(RequestsFailed):
        backend.generate([CHAT])
    assert len(server.posts) == 1


def test_a_rejected_prompt_is_not_retried(server: FaultyServer) -> None:
    server.script = ["400"]
    server.error_message = "prompt too long for sk-abcdefghijklmnopqrstu"  # a server echoing a key: redacted
    with pytest.raises(RequestsFailed) as caught:
        _backend(server, max_retries=5).generate([CHAT])
    (failure,) = caught.value.results
    assert failure.reason.startswith("HTTP 400: prompt too long") and "sk-abcdefghij" not in failure.reason
    assert len(server.posts) == 1


@pytest.mark.parametrize("status,words", [("401", "refused the API key"), ("403", "refused the API key"), ("404", "answered 404")])
def test_faults_that_can_never_succeed_stop_at_once_naming_server_and_model(server: FaultyServer, status: str, words: str) -> None:
    backend = _backend(server, max_retries=5, concurrency=2)
    server.default = status
    with pytest.raises(HarnessError) as caught:
        backend.generate([CHAT, CHAT, CHAT, CHAT])
    message = str(caught.value)
    assert not isinstance(caught.value, RequestsFailed)
    assert words in message and server.url in message and "'x'" in message and "\n" not in message
    assert len(server.posts) <= 3  # no retries: at most the requests already in flight


def test_a_timeout_is_retried(server: FaultyServer) -> None:
    server.script = ["slow"]
    server.slow_s = 1.5
    backend = _backend(server, max_retries=1, timeout=0.5)
    assert backend.generate([CHAT])[0].text == " 42."
    server.default, server.slow_s = "slow", 1.5
    with pytest.raises(RequestsFailed) as caught:
        backend.generate([CHAT])
    assert caught.value.results == [RequestFailure("timeout")]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "free port"])
def test_nothing_listening_fails_fast_naming_the_server_and_model(url: str) -> None:
    url = url if url.startswith("http") else f"http://127.0.0.1:{_free_port()}/v1"
    started = time.perf_counter()
    with pytest.raises(HarnessError) as caught:
        load_backend("openai:x", base_url=url, tokenizer=None, max_retries=5)
    assert str(caught.value) == f"cannot reach the OpenAI-compatible server at {url} for model 'x' (connection refused)"
    assert time.perf_counter() - started < 5  # no retries against nothing


def test_credentials_in_the_url_are_not_in_the_error() -> None:
    url = f"http://user:sk-abcdefghijklmnopqrstu@127.0.0.1:{_free_port()}/v1"
    with pytest.raises(HarnessError) as caught:
        OpenAIBackend("x", base_url=url)
    assert "sk-abcdefghij" not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_startup_faults_are_retried_then_named(server: FaultyServer) -> None:
    server.models_script = ["malformed", "503", "close"]
    assert _backend(server, max_retries=3).max_length == 8192
    server.models_script = ["500"] * 10
    with pytest.raises(HarnessError, match=r"gave no usable list of models \(GET /models\) for model 'x': HTTP 500, after 2"):
        _backend(server, max_retries=2)
    server.models_script = ["404"]  # a server without /models: nothing to check, requests still work
    assert _backend(server).generate([CHAT])[0].text == " 42."
    server.models_script = ["401"]
    with pytest.raises(HarnessError, match="refused the API key"):
        _backend(server)


def test_a_server_gone_mid_run_stops_the_run_after_the_batch(server: FaultyServer) -> None:
    backend = _backend(server, max_retries=1)
    assert backend.generate([CHAT])[0].text == " 42."
    server.stop()
    with pytest.raises(RequestsFailed) as caught:
        backend.generate([CHAT, CHAT])
    assert caught.value.results == [RequestFailure("connection refused")] * 2
    assert caught.value.abort == (f"lost the OpenAI-compatible server at {server.url} for model 'x' "
                                  "(connection refused after 1 retries)")


def test_a_long_streak_of_failures_stops_the_run(server: FaultyServer) -> None:
    server.default = "500"
    backend = _backend(server, max_retries=0, abort_after=3, concurrency=1)
    with pytest.raises(RequestsFailed) as caught:
        backend.generate([CHAT, CHAT])
    assert caught.value.abort is None  # two in a row: below the limit
    with pytest.raises(RequestsFailed) as caught:
        backend.generate([CHAT])
    assert caught.value.abort is not None and "failed 3 requests in a row" in caught.value.abort
    server.default = "ok"
    assert backend.generate([CHAT])[0].text == " 42."  # an answer ends the streak


@pytest.mark.parametrize("arg,value", [("max_retries", -1), ("retry_base_s", "soon"), ("abort_after", -2)])
def test_bad_retry_arguments_are_named(server: FaultyServer, arg: str, value: object) -> None:
    with pytest.raises(HarnessError, match=f"--model-args {arg}="):
        _backend(server, **{arg: value})
