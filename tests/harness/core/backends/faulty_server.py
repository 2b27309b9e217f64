"""A scripted OpenAI-compatible server on loopback (127.0.0.1, port 0, a thread) that answers faults on demand.

Each POST takes the next entry of `script`, then `default` once the script is used up (a per-request
`fault_for(body)` decides first when set). An entry is a kind:

- `ok`: a good reply (chat: `message.content`; completions: `text`, with prompt logprobs when echoed);
- `malformed` (not JSON), `not_object` (JSON, not an object), `empty_choices`, `no_content` (content
  or text null), `no_logprobs` (an echo without logprobs): a 200 a real server sends when broken;
- `close`: the connection dropped without a reply; `slow`: the good reply after `slow_s` seconds;
- a status such as `"500"`, `"429"`, `"401"`, `"404"`, `"400"`: that status with an error body.

GET /v1/models takes `models_script` the same way (then lists `model`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from tests.fakes_http import QuietJSONHandler

TRANSIENT_KINDS = ("malformed", "not_object", "empty_choices", "no_content", "close", "500", "502", "503", "429", "408")


def needle_or_context(text: str) -> str:
    """A good model for niah (the needle's value read from the prompt) and for context synthesis."""
    match = re.search(r"is: (\S+)\.", text)
    return f" {match.group(1)}." if match else "Context: background " + "words " * 10


class FaultyServer:
    """Start with `with FaultyServer() as server:`; `server.url` is the base URL (`.../v1`)."""

    def __init__(self, model: str = "x", max_model_len: int = 8192,
                 answer: Callable[[str], str] = needle_or_context) -> None:
        self.model = model
        self.max_model_len = max_model_len
        self.answer = answer
        self.script: list[str] = []
        self.default = "ok"
        self.fault_for: Callable[[dict[str, Any]], str | None] | None = None
        self.models_script: list[str] = []
        self.slow_s = 1.0
        self.error_message = "scripted failure"
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "FaultyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Shut down and close the port (later connections are refused)."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def next_kind(self, body: dict[str, Any]) -> str:
        with self.lock:
            self.posts.append(body)
            chosen = self.fault_for(body) if self.fault_for is not None else None
            if chosen is not None:
                return chosen
            return self.script.pop(0) if self.script else self.default

    def next_models_kind(self) -> str:
        with self.lock:
            return self.models_script.pop(0) if self.models_script else "ok"


def prompt_text(body: dict[str, Any]) -> str:
    """The text of a request: the completion prompt, or the chat messages joined."""
    if "messages" in body:
        return "\n".join(str(m.get("content", "")) for m in body["messages"])
    return str(body.get("prompt", ""))


def _handler(server: FaultyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietJSONHandler):

        def _fault(self, kind: str) -> bool:
            """Answer `kind` if it is a fault; False for a good reply."""
            if kind.isdigit():
                error = {"error": {"message": server.error_message, "type": "scripted", "code": int(kind)}}
                self.send_payload(int(kind), json.dumps(error).encode())
            elif kind == "malformed":
                self.send_payload(200, b'{"id": "c", "choices": [{"index": 0, "mess')
            elif kind == "not_object":
                self.send_payload(200, b'["not", "an", "object"]')
            elif kind == "close":
                self.close_connection = True  # no status line, no body: the client sees a dropped connection
            else:
                return False
            return True

        def do_GET(self) -> None:
            if self._fault(server.next_models_kind()):
                return
            listed = {"object": "list", "data": [{"id": server.model, "object": "model", "created": 0, "owned_by": "test",
                                                  "max_model_len": server.max_model_len}]}
            self.send_payload(200, json.dumps(listed).encode())

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            kind = server.next_kind(body)
            if self._fault(kind):
                return
            if kind == "slow":
                time.sleep(server.slow_s)
            text = server.answer(prompt_text(body))
            usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
            if self.path.endswith("/chat/completions"):
                content = None if kind == "no_content" else text
                choices = [] if kind == "empty_choices" else [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
                reply = {"id": "c", "object": "chat.completion", "created": 0, "model": server.model, "choices": choices,
                         "usage": usage}
            else:
                logprobs = None
                if body.get("echo") and kind != "no_logprobs":
                    prompt = str(body["prompt"])
                    logprobs = {"tokens": list(prompt), "text_offset": list(range(len(prompt))),
                                "token_logprobs": [None] + [-1.0] * (len(prompt) - 1), "top_logprobs": None}
                choices = [] if kind == "empty_choices" else [
                    {"index": 0, "finish_reason": "length", "text": None if kind == "no_content" else text, "logprobs": logprobs}]
                reply = {"id": "c", "object": "text_completion", "created": 0, "model": server.model, "choices": choices,
                         "usage": usage}
            self.send_payload(200, json.dumps(reply).encode())

    return Handler
