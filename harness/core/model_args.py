"""`--model-args k=v,...`: parsed into typed values and checked against what a backend accepts."""

from __future__ import annotations

from typing import Any, Iterable

from harness.core.errors import HarnessError
from harness.core.registry import did_you_mean


def _convert(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def parse_model_args(spec: str | None, flag: str = "--model-args") -> dict[str, Any]:
    """Parse `k=v,k2=v2` into a dict; values become bool/int/float where they look like one."""
    if not spec:
        return {}
    args: dict[str, Any] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise HarnessError(f"malformed {flag} entry {part!r}: expected key=value")
        if key in args:
            raise HarnessError(f"malformed {flag}: {key!r} given twice")
        args[key] = _convert(value.strip())
    return args


def check_known(backend: str, args: dict[str, Any], known: Iterable[str]) -> None:
    """Raise naming the first key that `backend` does not understand."""
    allowed = set(known)
    for key in args:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise HarnessError(
                f"--model-args: the {backend} backend does not take {key!r}{' (' + hint + ')' if hint else ''}; "
                f"it takes {', '.join(sorted(allowed))}"
            )
