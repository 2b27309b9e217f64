"""Meta-information of a user query: the fields (names and descriptions configurable; the document
type is required), the JSON schema a reply must satisfy, and the parser that normalises values."""

from __future__ import annotations

import re
from typing import Any

from harness.synth.llm import ParseError
from harness.synth.replies import parse_json

DOCUMENT_TYPE = "document_type"
MAX_VALUES = 5  # values kept per field
MAX_WORDS = 12  # words kept per value


def schema(fields: list[str]) -> dict[str, Any]:
    """A JSON object with every field a string or a list of strings, the document type required."""
    value = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
    return {"type": "object", "properties": {f: value for f in fields}, "required": [DOCUMENT_TYPE]}


def normalise(value: str) -> str:
    """Lower case, underscores as spaces, single spaces, no surrounding punctuation or brackets, at
    most MAX_WORDS words."""
    words = re.sub(r"[\s_]+", " ", value.lower()).strip(" .,;:!?\"'`*-{}[]()").split()
    return " ".join(words[:MAX_WORDS])


def _key(text: str) -> str:
    return re.sub(r"[^a-z]+", "_", text.strip().strip("*\"'`").lower()).strip("_")


def _lines(reply: str, fields: list[str]) -> dict[str, Any]:
    """`field: value` lines (what small models write instead of JSON), for fields only."""
    found: dict[str, Any] = {}
    for line in reply.splitlines():
        key, sep, value = line.lstrip("-*# ").partition(":")
        if sep and _key(key) in fields and _key(key) not in found:
            found[_key(key)] = value.strip()
    if DOCUMENT_TYPE not in found:
        raise ParseError("no JSON object and no 'document_type:' line in the reply")
    return found


def parse_meta(reply: str, fields: list[str]) -> dict[str, list[str]]:
    """field -> normalised values, from the reply's JSON object (or `field: value` lines); unknown
    keys ignored, "none" and empty values left out; a reply without a document type is a ParseError."""
    try:
        raw, from_lines = parse_json(reply, schema(fields)), False
    except ParseError as error:
        try:
            raw, from_lines = _lines(reply, fields), True
        except ParseError:
            raise error from None
    meta: dict[str, list[str]] = {}
    names = {normalise(f) for f in fields}
    for field in fields:
        value = raw.get(field)
        items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        if from_lines and isinstance(value, str):
            items = value.split(";") if ";" in value else [value]
        cleaned = []
        for item in items:
            text = normalise(str(item))
            echoed = text in names  # a small model repeating the key instead of a value
            if text and not echoed and text not in ("none", "n/a", "null", "unknown", "not specified") and text not in cleaned:
                cleaned.append(text)
        if cleaned:
            meta[field] = cleaned[:MAX_VALUES]
    if not meta.get(DOCUMENT_TYPE):
        raise ParseError("the document type is empty")
    return meta
