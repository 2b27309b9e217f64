"""Structured replies: the first JSON value in a model's reply, validated against a JSON schema.

Models wrap JSON in prose or Markdown fences; the parser finds the first object or array that
decodes, then `jsonschema` checks it. Any failure is a `ParseError` naming the problem, so
`LLMClient.ask_parsed` (the generator's) re-asks and the plugin counts what never parsed.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from harness.core.llm_client import ParseError


def first_json(reply: str) -> Any:
    """The first JSON object or array that decodes in `reply` (prose and ``` fences around it are ignored)."""
    decoder = json.JSONDecoder()
    for start, char in enumerate(reply):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(reply, start)
            except json.JSONDecodeError:
                continue
            return value
    raise ParseError("no JSON object in the reply")


def parse_json(reply: str, schema: dict[str, Any]) -> Any:
    """The reply's first JSON value, valid under `schema` (else a ParseError with the schema's complaint)."""
    value = first_json(reply)
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "the reply"
        raise ParseError(f"{where}: {error.message[:200]}") from None
    return value
