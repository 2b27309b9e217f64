"""The openai backend against a scripted OpenAI-compatible server on loopback (no vLLM needed).

The real-server tests are in tests/integration (vLLM); here we check what a real server rarely
does on demand: 429 and 5xx answers, retried with backoff, and requests kept in order.
"""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from typing import Iterator

import pytest

from harness.core.backends.base import GenerationRequest
from harness.core.backends.failures import RequestFailure, RequestsFailed
from harness.core.backends.openai import OpenAIBackend
from harness.core.errors import HarnessError
from tests.fakes_http import QuietJSONHandler


class ScriptedAPI(QuietJSONHandler):
    failures: list[int] = []  # status codes to answer before succeeding
    seen: list[dict] = []

    def _send(self, status: int, body: dict) -> None:
        self.send_json(body, status)

    def do_GET(self) -> None:
        self._send(200, {"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "x",
                                                      "max_model_len": 4096}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ScriptedAPI.seen.append(body)
        if ScriptedAPI.failures:
            self._send(ScriptedAPI.failures.pop(0), {"error": {"message": "busy", "type": "x"}})
            return
        usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        if self.path.endswith("/chat/completions"):
            text = "echo:" + body["messages"][-1]["content"]
            choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
            self._send(200, {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice],
                             "usage": usage})
        else:
            choice = {"index": 0, "finish_reason": "length", "text": "echo:" + body["prompt"][-8:], "logprobs": None}
            self._send(200, {"id": "c", "object": "text_completion", "created": 0, "model": "m", "choices": [choice],
                             "usage": usage})


@pytest.fixture()
def server() -> Iterator[str]:
    ScriptedAPI.failures, ScriptedAPI.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedAPI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_429_and_5xx_are_retried(server: str, tiny_path) -> None:
    backend = OpenAIBackend("m", base_url=server, tokenizer=str(tiny_path), mode="completions", retry_base_s=0.01)
    assert backend.max_length == 4096
    ScriptedAPI.failures = [429, 503, 500]
    (out,) = backend.generate([GenerationRequest(text="hello world", max_tokens=5)])
    assert out.text == "echo:lo world"
    assert len(ScriptedAPI.seen) == 4
    assert ScriptedAPI.seen[-1]["temperature"] == 0.0 and ScriptedAPI.seen[-1]["max_tokens"] == 5


def test_retries_run_out_as_a_typed_failure_of_that_request(server: str) -> None:
    backend = OpenAIBackend("m", base_url=server, mode="completions", max_retries=1, retry_base_s=0.01)
    ScriptedAPI.failures = [503, 503, 503]
    with pytest.raises(RequestsFailed, match=r"1 of 1 requests .* failed after retries \(first: HTTP 503\)") as caught:
        backend.generate([GenerationRequest(text="x", max_tokens=1)])
    assert caught.value.results == [RequestFailure("HTTP 503")] and caught.value.abort is None
    assert len(ScriptedAPI.seen) == 2  # the first try and one retry: the client itself does not retry


def test_chat_sends_the_answer_prefix_as_a_continued_assistant_turn(server: str) -> None:
    backend = OpenAIBackend("m", base_url=server)
    messages = ({"role": "user", "content": "Q?"}, {"role": "assistant", "content": " The answer is"})
    request = GenerationRequest(text="unused", max_tokens=3, messages=messages, stop=("\n",))
    assert backend.generate([request])[0].text == "echo: The answer is"
    sent = ScriptedAPI.seen[-1]
    assert sent["continue_final_message"] is True and sent["add_generation_prompt"] is False
    assert sent["stop"] == ["\n"]


def test_many_concurrent_requests_come_back_in_order(server: str) -> None:
    backend = OpenAIBackend("m", base_url=server, mode="completions", concurrency=4)
    requests = [GenerationRequest(text=f"prompt-{i:03d}", max_tokens=1) for i in range(20)]
    assert [g.text for g in backend.generate(requests)] == [f"echo:ompt-{i:03d}" for i in range(20)]


def test_model_not_served_and_secret_not_described(server: str, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    with pytest.raises(HarnessError, match="does not serve 'other'; it serves m"):
        OpenAIBackend("other", base_url=server)
    described = json.dumps(OpenAIBackend("m", base_url=server).describe())
    assert "sk-secret-value" not in described


def test_a_reply_cut_at_max_tokens_is_flagged(server: str) -> None:
    """finish_reason "length" (the completions reply here) is `hit_limit`; "stop" (the chat reply) is not."""
    cut = OpenAIBackend("m", base_url=server, mode="completions").generate([GenerationRequest(text="x", max_tokens=2)])
    done = OpenAIBackend("m", base_url=server).generate(
        [GenerationRequest(text="x", max_tokens=2, messages=({"role": "user", "content": "Q?"},))])
    assert cut[0].hit_limit and not done[0].hit_limit
