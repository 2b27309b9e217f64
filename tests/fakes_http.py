"""The shared piece of the fake OpenAI-compatible servers the tests run on loopback."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietJSONHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (pytest output stays clean) and answers with JSON bytes."""

    def log_message(self, *args: Any) -> None:
        pass

    def send_payload(self, status: int, payload: bytes) -> None:
        """`payload` as an application/json reply (a 429 asks for a 10 ms retry)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 429:
            self.send_header("retry-after-ms", "10")
        self.end_headers()
        self.wfile.write(payload)

    def send_json(self, body: Any, status: int = 200) -> None:
        self.send_payload(status, json.dumps(body).encode())
