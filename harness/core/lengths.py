"""Context-length specs: `1k` = 1024, `128k` = 131072 (RULER's convention), plain integers too."""

from __future__ import annotations

import re

from harness.core.errors import HarnessError

_LENGTH = re.compile(r"^(\d+)([kKmM]?)$")
_UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}


def parse_length(text: str) -> int:
    """Parse one length such as `4k`, `1M` or `3000` into a token count."""
    match = _LENGTH.match(text.strip())
    if not match:
        raise HarnessError(f"bad length {text!r}: expected an integer or a number with k/M, e.g. 4k, 128k, 3000")
    value = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if value <= 0:
        raise HarnessError(f"bad length {text!r}: must be positive")
    return value


def parse_lengths(spec: str) -> list[int]:
    """Parse a comma-separated list of lengths, keeping order and dropping repeats."""
    parts = [p for p in spec.split(",") if p.strip()]
    if not parts:
        raise HarnessError(f"bad length spec {spec!r}: no lengths given")
    lengths: list[int] = []
    for part in parts:
        value = parse_length(part)
        if value not in lengths:
            lengths.append(value)
    return lengths


def format_length(tokens: int) -> str:
    """The short form of a length: 4096 -> `4k`, 3000 -> `3000`; 0 -> `short` (short-context tasks)."""
    if tokens == 0:
        return "short"
    if tokens % (1024 * 1024) == 0:
        return f"{tokens // (1024 * 1024)}M"
    if tokens % 1024 == 0:
        return f"{tokens // 1024}k"
    return str(tokens)
