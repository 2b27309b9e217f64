"""User queries for WildLong's first stage: the first user turn of single-turn conversations, from a
local jsonl file (WildChat's layout `{"conversation": [{"role", "content"}], "turn", "language"}`,
or `{"messages": [...]}`, or `{"query": ...}`) or a `datasets` dataset such as allenai/WildChat-1M (streamed)."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

from harness.core.errors import HarnessError
from harness.core.userfiles import iter_jsonl


def query_of(row: dict[str, Any], where: str) -> str | None:
    """The row's query: `query`, or the first user turn of `conversation` / `messages`."""
    if "query" in row:
        return str(row["query"])
    turns = row.get("conversation", row.get("messages"))
    if not isinstance(turns, list):
        raise HarnessError(f"{where}: a query row needs 'query', 'conversation' or 'messages'")
    for turn in turns:
        if isinstance(turn, dict) and turn.get("role") == "user":
            return str(turn.get("content", ""))
    return None


def select(rows: Iterable[tuple[dict[str, Any], str]], language: str | None, limit: int) -> list[str]:
    """Distinct non-empty queries of single-turn conversations (where `turn` is given) in `language`
    (where `language` is given), in order, at most `limit`."""
    found: dict[str, None] = {}
    for row, where in rows:
        if "turn" in row and row["turn"] != 1:
            continue
        if language and "language" in row and str(row["language"]).lower() != language.lower():
            continue
        query = query_of(row, where)
        if query and query.strip():
            found.setdefault(query.strip(), None)
        if len(found) >= limit:
            break
    return list(found)


def from_file(path: Path) -> Iterator[tuple[dict[str, Any], str]]:
    if not path.exists():
        raise HarnessError(f"wildlong: queries file {path} does not exist")
    for number, record in iter_jsonl(path, "wildlong: queries file"):
        yield record, f"{path}:{number}"


def from_dataset(name: str, split: str, limit: int) -> Iterator[tuple[dict[str, Any], str]]:
    import datasets

    try:
        rows = datasets.load_dataset(name, split=split, streaming=True)
    except Exception as error:  # offline, gated, unknown id
        raise HarnessError(f"wildlong: queries dataset {name!r} could not be loaded ({type(error).__name__}); "
                           "give a local jsonl with `queries` instead") from error
    for i, row in enumerate(islice(rows, limit * 20)):  # most WildChat rows are filtered out
        yield dict(row), f"hub:{name}[{i}]"
