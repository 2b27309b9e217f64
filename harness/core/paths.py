"""Where lc-harness keeps its files: the user cache dir unless `HARNESS_CACHE` says otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The root cache directory (models, sample caches, the default results database)."""
    override = os.environ.get("HARNESS_CACHE")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("lc-harness"))


def default_db_path() -> Path:
    """The results database: `HARNESS_DB`, else `<cache>/results.db`."""
    override = os.environ.get("HARNESS_DB")
    return Path(override).expanduser() if override else cache_dir() / "results.db"
