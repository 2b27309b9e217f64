"""User strings that become file or directory names, checked before they touch the file system.

A sweep's or a board's `name` becomes `runs/sweeps/NAME` or `runs/leaderboards/NAME`; a model spec
becomes `runs/<slug>`. One rule for all of them: letters, digits, `.`, `_` and `-`, not starting
with `.`, at most 128 characters. So no `..`, no separator, no absolute path, no hidden or empty name.
"""

from __future__ import annotations

import hashlib
import re

from harness.core.errors import HarnessError

MAX_LENGTH = 128
RULE = f"letters, digits, '.', '_' and '-', not starting with '.', at most {MAX_LENGTH} characters"
_SAFE = re.compile(r"[A-Za-z0-9._-]+")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")


def _problem(text: str) -> str | None:
    """Why `text` cannot be one path component, or None when it can."""
    if not text:
        return "it is empty"
    if "\x00" in text or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "it holds a control character"
    if text.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", text):
        return "it is an absolute path"
    if ".." in re.split(r"[\\/]", text):
        return "it climbs out of its directory ('..')"
    if "/" in text or "\\" in text:
        return "it holds a path separator"
    if text.startswith("."):
        return "it starts with '.'"
    if len(text) > MAX_LENGTH:
        return f"it is {len(text)} characters long"
    bad = next((c for c in text if not _SAFE.fullmatch(c)), None)
    if bad is not None:
        return f"it holds {bad!r}"
    return None


def safe_component(value: object, what: str, where: str | None = None) -> str:
    """`value` as one path component, or a HarnessError naming `where` (a file), `what` (the field) and the value."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    problem = "it is not a string" if text is None else _problem(text)
    if problem is None and text is not None:
        return text
    prefix = f"{where}: " if where else ""
    raise HarnessError(f"{prefix}{what} {value!r} is not a safe file or directory name: {problem} (use {RULE})")


def slugify(text: str, fallback: str = "model") -> str:
    """`text` made into a safe component (runs of other characters become `_`; a leading `.` is dropped;
    a name too long keeps its start and gains a hash of the whole)."""
    slug = _UNSAFE_RUN.sub("_", text).strip("_").lstrip("._") or fallback
    if len(slug) > MAX_LENGTH:
        slug = slug[: MAX_LENGTH - 13] + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return safe_component(slug, "slug", text)
