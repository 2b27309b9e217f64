"""Shared fixtures: the built-in tiny model (built once into a repo-local cache), a per-test database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Models built by tests persist between runs here (ignored by git); a user's cache stays untouched.
os.environ.setdefault("HARNESS_CACHE", str(ROOT / ".cache" / "test"))


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_DB", str(tmp_path / "results.db"))


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    from harness.core.models import BUILTINS

    return BUILTINS["tiny-random"].ensure()


@pytest.fixture(scope="session")
def tiny_backend(tiny_path: Path):  # type: ignore[no-untyped-def]
    from harness.core.backends.hf import HFBackend

    return HFBackend(str(tiny_path), batch_size=4)


@pytest.fixture(scope="session")
def tokenizer(tiny_backend):  # type: ignore[no-untyped-def]
    return tiny_backend.tokenizer


@pytest.fixture(scope="session")
def chat_tokenizer(tiny_path: Path):  # type: ignore[no-untyped-def]
    """SmolLM2's tokenizer with its chat template (the tiny model's copy has none)."""
    from harness.core.models.smollm2 import load_gguf_tokenizer

    return load_gguf_tokenizer()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data in ../shared/data (HARNESS_SHARED_DATA overrides); skip where absent."""
    path = Path(os.environ.get("HARNESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
    if not (path / "pg_essays").is_dir():
        pytest.skip(f"the shared data folder is absent ({path}); it holds the Paul Graham essays")
    return path


@pytest.fixture(scope="session")
def ruler_data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir for RULER: the real essays, plus small SQuAD/HotpotQA files in their original formats."""
    from tests.tasks.ruler.qa_fixtures import write_hotpotqa, write_squad

    root = tmp_path_factory.mktemp("ruler-data")
    (root / "pg_essays").symlink_to(shared_data / "pg_essays")
    write_squad(root / "squad.json")
    write_hotpotqa(root / "hotpotqa.json")
    return root
