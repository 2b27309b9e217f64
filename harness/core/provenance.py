"""What produced a result: library versions, the harness's git sha, the platform."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("lc-harness", "torch", "transformers", "tokenizers", "datasets", "accelerate", "openai", "vllm")


def git_sha() -> str | None:
    """The commit of the lc-harness checkout this code runs from, if it is one."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape results."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def environment() -> dict[str, Any]:
    """Provenance recorded in every run's config."""
    return {"git_sha": git_sha(), "python": platform.python_version(), "libraries": library_versions()}
