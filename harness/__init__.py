"""lc-harness: evaluate, synthesize data for, and train long-context language models.

`from harness import evaluate` is the Python API of `harness eval` (imported on first use, so `import harness`
stays cheap): `evaluate("tiny-random", "niah_single_1", lengths="256,512", limit=4)` returns the `Result`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from harness.api import EvalArgs, evaluate

__all__ = ["EvalArgs", "__version__", "evaluate"]


def __getattr__(name: str) -> Any:
    """`evaluate` and `EvalArgs`, loaded from `harness.api` when first asked for."""
    if name in ("evaluate", "EvalArgs"):
        from harness import api

        return getattr(api, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
