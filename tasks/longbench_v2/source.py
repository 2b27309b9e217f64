"""Where LongBench v2's 503 questions come from: the published `data.json` (one JSON array, the hub
dataset's file) under `--task-args longbench_v2=PATH` (the file or its folder) or `D/longbench_v2/data.json`,
else the hub dataset `THUDM/LongBench-v2` (split `train`) through `datasets` at a pinned revision.

`rag` needs each row's `retrieved_context` (a list of `{"c_idx": int, "content": str}`, best first), which
`pred.py` reads but the published data does not hold (the README points to LongCite's `retrieve.py`):
either in the rows themselves, or in a jsonl file of `{"_id", "retrieved_context"}` lines
(`--task-args longbench_v2.retrieval=FILE`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.userfiles import check_type, iter_jsonl, read_json
from harness.tasks.data import Schema, TaskOptions, check_fields, file_digest, hub_source, local_source
from harness.tasks.docsource import Rows

HUB_ID = "THUDM/LongBench-v2"
REVISION = "2b48e494f2c7a2f0af81aae178e05c7e1dde0fe9"  # the hub dataset's commit (see README.md: not verified online)
FILE = "data.json"
FIELDS: Schema = (("_id", str), ("domain", str), ("sub_domain", str), ("difficulty", str), ("length", str),
                  ("question", str), ("choice_A", str), ("choice_B", str), ("choice_C", str), ("choice_D", str),
                  ("answer", str), ("context", str))
OPTIONAL: Schema = (("retrieved_context", list),)
ANSWERS = ("A", "B", "C", "D")


def local_file(options: TaskOptions) -> Path | None:
    """The data.json to read (the task arg, a file or its folder; else `<data dir>/longbench_v2/`), None: the hub."""
    found = options.find_optional("longbench_v2", "longbench_v2", "LongBench v2")
    if found is None:
        return None
    return found / FILE if found.is_dir() else found


def check_row(row: Any, where: str) -> dict[str, Any]:
    """One question, checked: the published fields and types, an answer among A-D, retrieved chunks well formed."""
    check_type(row, dict, where)
    check_fields(row, FIELDS, where, OPTIONAL)
    if row["answer"] not in ANSWERS:
        raise HarnessError(f"{where}: field 'answer' is {row['answer']!r}, expected one of A, B, C, D")
    if "retrieved_context" in row:
        check_chunks(row["retrieved_context"], f"{where}: field 'retrieved_context'")
    checked: dict[str, Any] = row
    return checked


def check_chunks(chunks: Any, where: str) -> None:
    """Retrieved chunks as `pred.py` reads them: a list of objects with an int `c_idx` and a str `content`."""
    check_type(chunks, list, where)
    for i, chunk in enumerate(chunks):
        check_type(chunk, dict, f"{where}[{i}]")
        check_fields(chunk, (("c_idx", int), ("content", str)), f"{where}[{i}]")


@lru_cache(maxsize=4)
def read_local(path: Path) -> Rows:
    """The questions of a local data.json (a JSON array of the published rows)."""
    if path.is_dir():
        raise HarnessError(f"LongBench v2: {path} is a directory (expected the published {FILE}, a JSON array of questions)")
    if not path.is_file():
        raise HarnessError(f"LongBench v2: {path} does not exist (expected the published {FILE}, a JSON array of "
                           f"questions; --data-dir D with D/longbench_v2/{FILE}, or --task-args longbench_v2=PATH)")
    data = read_json(path, "LongBench v2 data file")
    check_type(data, list, f"{path}: the list of questions")
    if not data:
        raise HarnessError(f"{path}: no questions (the array is empty)")
    rows = tuple(check_row(row, f"{path} question {i}") for i, row in enumerate(data))
    digest = file_digest([path])
    return Rows(rows, str(path), digest, local_source(path, digest))


def _hub(revision: str) -> Any:
    import datasets

    return datasets.load_dataset(HUB_ID, split="train", revision=revision)


@lru_cache(maxsize=1)
def read_hub() -> Rows:
    """The questions from the hub at the pinned revision."""
    try:
        dataset = _hub(REVISION)
    except Exception as error:  # datasets raises many types when offline or when the id is wrong
        raise HarnessError(f"LongBench v2: could not load {HUB_ID}@{REVISION} from the hub "
                           f"({type(error).__name__}: {str(error)[:200]}); pass --data-dir D with "
                           f"D/longbench_v2/{FILE} (the published file) or --task-args longbench_v2=PATH") from error
    rows = tuple(check_row(dict(row), f"LongBench v2 (hub) question {i}") for i, row in enumerate(dataset))
    return Rows(rows, f"hub:{HUB_ID}@{REVISION}", str(getattr(dataset, "_fingerprint", "")), hub_source(HUB_ID, dataset))


def load(options: TaskOptions) -> Rows:
    """The questions (the local file first, then the hub)."""
    path = local_file(options)
    return read_local(path) if path is not None else read_hub()


@lru_cache(maxsize=4)
def read_retrieval(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Retrieved chunks by question `_id` from a jsonl file of `{"_id", "retrieved_context"}` lines."""
    if not path.is_file():
        raise HarnessError(f"LongBench v2: --task-args retrieval={path} does not exist (a jsonl file of "
                           "{\"_id\", \"retrieved_context\": [{\"c_idx\", \"content\"}, ...]} lines)")
    found: dict[str, list[dict[str, Any]]] = {}
    for number, line in iter_jsonl(path, "LongBench v2 retrieval file"):
        where = f"{path}:{number}"
        check_fields(line, (("_id", str), ("retrieved_context", list)), where)
        check_chunks(line["retrieved_context"], f"{where}: field 'retrieved_context'")
        found[line["_id"]] = line["retrieved_context"]
    return found


def retrieved(row: dict[str, Any], index: int, source: str, retrieval: str | None) -> list[dict[str, Any]]:
    """The row's retrieved chunks (from `retrieval` when given, else the row's own field); an error naming
    the question and what `rag` needs when there are none."""
    if retrieval is not None:
        found = read_retrieval(Path(retrieval).expanduser()).get(row["_id"])
        if found is None:
            raise HarnessError(f"LongBench v2 rag: {retrieval} has no line for question _id {row['_id']!r} "
                               f"({source} question {index})")
        return found
    if "retrieved_context" not in row:
        raise HarnessError(
            f"LongBench v2 rag: {source} question {index} (_id {row['_id']!r}) has no field 'retrieved_context'; "
            "the published data holds none: rag needs each question's retrieved chunks "
            "([{\"c_idx\": int, \"content\": str}, ...], best first, as pred.py reads them; LongCite's retrieve.py "
            "makes them), in the rows or in --task-args longbench_v2.retrieval=FILE (jsonl: _id, retrieved_context)")
    chunks: list[dict[str, Any]] = row["retrieved_context"]
    return chunks
