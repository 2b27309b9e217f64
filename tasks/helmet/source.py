"""Where HELMET's files come from: its published data tree, local first, else the pinned hub archive.

HELMET publishes one archive, `data.tar.gz` in the hub dataset princeton-nlp/HELMET; its `data/` folder holds every
file HELMET's configs name. A task names a file by its path under that folder (a leading `data/`, as the configs
write it, is accepted):

    rows = read_rows(options, "alce/asqa_eval_gtr_top2000.json")           # small files: every row, now
    rows = read_rows(options, "kilt/nq-train-multikilt_1000_k3_dep6.jsonl", (("question", str),))
    big = open_rows(options, "kilt/nq-dev-multikilt_1000_k1000_dep6.jsonl", fields)   # GB files: a row when asked
    path = locate(options, "json_kv/test_k1800_dep6.jsonl").path          # just the file

`read_rows` gives `docsource.Rows` (rows, source, digest, origin: what `Task.data_source`/`data_digest` want); a
`.jsonl` file is one object a line, a `.json` file a list of objects or `{"data": [...]}` (as HELMET's
`load_dataset("json", ...)` reads them). `fields`/`optional` are checked on every row read: a missing or mistyped
field is an error naming the file, line (or item) and field. Where the file comes from, in order:

1. `--task-args helmet=DIR`, else `--data-dir D` (or HARNESS_DATA_DIR) holding `D/helmet/`: `DIR/<relative>`, the
   published layout (`D/helmet/kilt/...`, `D/helmet/json_kv/...`, `D/helmet/msmarco/...`, `D/helmet/alce/...`).
   A local folder that lacks the file is an error: nothing is downloaded behind a given folder.
2. The hub: `hf_hub_download(HUB_ID, "data.tar.gz", repo_type="dataset", revision=REVISION)` (11 GB), extracted
   once (about 34 GB) into `<cache>/helmet/<REVISION>/data/`; offline, an error naming the local layout.

Tasks declare the folder option by subclassing `HelmetOptions` (one `helmet` key for every HELMET task).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from harness.core.errors import HarnessError
from harness.core.paths import cache_dir
from harness.core.userfiles import check_type
from harness.tasks.data import DataSource, Schema, TaskOptions, check_fields, local_source
from harness.tasks.docsource import Rows
from harness.tasks.options import Options

HUB_ID = "princeton-nlp/HELMET"
ARCHIVE = "data.tar.gz"
# The hub dataset's head commit ("Create README.md", on top of the data upload bc560a6) as its commit history showed
# it in a stored copy of the hub page; not verified online from here (no network but package registries).
REVISION = "c5b85e7f0d954ffe71b3fe5b6d1da17a11094b1b"
FOLDER = "helmet"  # the --task-args key and the --data-dir subfolder
DONE = ".extracted"  # written after a complete extraction
LAYOUT = (f"pass --data-dir D with D/{FOLDER}/ holding HELMET's data/ folder (from data.tar.gz: D/{FOLDER}/kilt/, "
          f"D/{FOLDER}/json_kv/, D/{FOLDER}/msmarco/, D/{FOLDER}/alce/, ...) or --task-args {FOLDER}=DIR")


@dataclass(frozen=True)
class HelmetOptions(Options):
    """The `--task-args` every HELMET task shares: `helmet`, the folder holding HELMET's data/ tree."""

    shared: ClassVar[frozenset[str]] = frozenset({FOLDER})

    helmet: str | None = None


@dataclass(frozen=True)
class Located:
    """A HELMET file: its path here, whether it came from a local folder or the hub archive, its published path."""

    path: Path
    from_hub: bool
    relative: str
    stamp: tuple[int, int] = (0, 0)  # (mtime_ns, size): an edited file is read again, not served from the cache

    def origin(self, digest: str) -> DataSource:
        """What results record as the file's source."""
        if self.from_hub:
            return DataSource("hub", f"{HUB_ID}@{REVISION}:data/{self.relative}", digest)
        return local_source(self.path, digest)


def relative_path(relative: str) -> str:
    """`relative` under HELMET's data/ folder (`data/` prefix dropped); an absolute or escaping path is an error."""
    rel = relative.strip()
    rel = rel[len("data/"):] if rel.startswith("data/") else rel
    if not rel or rel.startswith("/") or ".." in Path(rel).parts:
        raise HarnessError(f"HELMET: bad data path {relative!r} (expected a path under HELMET's data/ folder, "
                           f"e.g. kilt/nq-dev-multikilt_1000_k1000_dep6.jsonl)")
    return rel


def local_root(options: TaskOptions) -> Path | None:
    """The local HELMET data folder (`--task-args helmet=DIR`, else `<data dir>/helmet`), or None."""
    root = options.find_optional(FOLDER, FOLDER, "HELMET")
    if root is not None and not root.is_dir():
        raise HarnessError(f"HELMET: {root} is not a directory (the folder holding HELMET's data/ tree); {LAYOUT}")
    return root


def locate(options: TaskOptions, relative: str) -> Located:
    """Where HELMET file `relative` is here: the local folder's copy, else the extracted hub archive's."""
    rel = relative_path(relative)
    root = local_root(options)
    if root is not None:
        path = root / rel
        if not path.is_file():
            raise HarnessError(f"HELMET: {path} does not exist (HELMET's data/ layout under {root}: {rel})")
        return Located(path, False, rel, _stamp(path))
    path = hub_root() / rel
    if not path.is_file():
        raise HarnessError(f"HELMET: {HUB_ID}@{REVISION[:7]}'s data.tar.gz has no data/{rel}")
    return Located(path, True, rel, _stamp(path))


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def first_present(options: TaskOptions, candidates: tuple[str, ...]) -> str:
    """The first of `candidates` (HELMET's per-length files, largest first) that the local folder holds; the
    first one where the hub archive serves. A local folder holding none of them is an error naming them."""
    root = local_root(options)
    if root is None:
        return candidates[0]
    for relative in candidates:
        if (root / relative_path(relative)).is_file():
            return relative
    raise HarnessError(f"HELMET: {root} holds none of {', '.join(candidates)} (HELMET's data/ layout); {LAYOUT}")


def hub_root() -> Path:
    """HELMET's data/ folder from the pinned hub archive, downloaded and extracted on first use."""
    target = cache_dir() / FOLDER / REVISION
    if not (target / DONE).is_file():
        extract(download(), target)
    return target / "data"


def download() -> Path:
    """The pinned `data.tar.gz` in the Hugging Face cache (fetched once); an error naming the local layout offline."""
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo_id=HUB_ID, filename=ARCHIVE, repo_type="dataset", revision=REVISION))
    except Exception as error:  # offline, gated, a wrong revision: huggingface_hub raises many types
        raise HarnessError(f"HELMET: could not fetch {HUB_ID}/{ARCHIVE} at revision {REVISION} from the hub "
                           f"({type(error).__name__}: {str(error)[:200]}); {LAYOUT}") from error


def extract(archive: Path, target: Path) -> None:
    """Unpack `archive` into `target` (its `data/` folder), once: a lock keeps two processes from unpacking together,
    and the marker file is written only after a complete extraction."""
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / DONE).is_file():
            return
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(partial, filter="data")  # no links or paths outside the folder
        except (tarfile.TarError, OSError, EOFError) as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise HarnessError(f"HELMET: cannot unpack {archive} ({type(error).__name__}: {error})") from error
        if not (partial / "data").is_dir():
            shutil.rmtree(partial, ignore_errors=True)
            raise HarnessError(f"HELMET: {archive} holds no data/ folder (not HELMET's data.tar.gz?)")
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        (target / DONE).write_text(REVISION + "\n")


def read_rows(options: TaskOptions, relative: str, fields: Schema = (), optional: Schema = ()) -> Rows:
    """Every row of HELMET file `relative` (read once per process), each checked against `fields`/`optional`."""
    return _read_rows(locate(options, relative), fields, optional)


@lru_cache(maxsize=32)
def _read_rows(located: Located, fields: Schema, optional: Schema) -> Rows:
    path = located.path
    if path.suffix == ".json":
        rows = _json_items(path)
        where = [f"{path}: item {i}" for i in range(len(rows))]
        digest = file_sha256(path)
    else:
        table = open_located(located, (), ())
        rows = [table.row(i) for i in range(len(table))]
        where = [f"{path}:{line}" for line in table.lines]
        digest = table.digest
    if not rows:
        raise HarnessError(f"{path}: no rows (the file is empty)")
    for row, place in zip(rows, where):
        check_fields(row, fields, place, optional)
    return Rows(tuple(rows), str(path), digest, located.origin(digest))


def _json_items(path: Path) -> list[dict[str, Any]]:
    """A .json file's rows: a list of objects, or `{"data": [...]}`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HarnessError(f"{path}: not a JSON file ({error})") from None
    items: Any = data.get("data") if isinstance(data, dict) else data
    check_type(items, list, f"{path}: rows (a list of objects, or {{\"data\": [...]}})")
    for i, item in enumerate(items):
        check_type(item, dict, f"{path}: item {i}")
    return list(items)


class RowFile:
    """A jsonl file read a row at a time (HELMET's k1000 files run to GBs): one pass indexes the lines and hashes
    the bytes; each row is parsed and checked when asked for."""

    def __init__(self, located: Located, fields: Schema, optional: Schema) -> None:
        self.located, self.fields, self.optional = located, fields, optional
        self.spans, self.lines, self.digest = _index(located.path)
        if not self.spans:
            raise HarnessError(f"{located.path}: no rows (the file is empty)")

    @property
    def path(self) -> Path:
        return self.located.path

    def __len__(self) -> int:
        return len(self.spans)

    def row(self, index: int) -> dict[str, Any]:
        """Row `index` (0-based, blank lines skipped), parsed and checked: errors name file and line."""
        start, end = self.spans[index]
        where = f"{self.path}:{self.lines[index]}"
        with open(self.path, "rb") as f:
            f.seek(start)
            raw = f.read(end - start)
        try:
            row = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise HarnessError(f"{where}: not a JSON object ({error})") from None
        check_type(row, dict, where)
        check_fields(row, self.fields, where, self.optional)
        return dict(row)

    def origin(self) -> DataSource:
        return self.located.origin(self.digest)

    def values(self, name: str) -> list[Any]:
        """Top-level field `name` of every row, read from each line's head where the row names it before its long
        fields (a GB file parses in minutes; HELMET's rows put `ctxs` last), else from the whole line. A line
        without it is an error naming file, line and field; `check_value` compares it with the parsed row."""
        return _values(self, name)

    def check_value(self, index: int, name: str, row: dict[str, Any], value: Any) -> None:
        """Refuse a row whose parsed field differs from the value `values` read (a nested key of that name)."""
        if row.get(name) != value:
            raise HarnessError(f"{self.path}:{self.lines[index]}: field {name!r} read as {value!r} from the line but "
                               f"{row.get(name)!r} in the parsed row (a nested {name!r} before it?)")


@lru_cache(maxsize=64)
def _values(table: RowFile, name: str) -> list[Any]:
    out: list[Any] = []
    with open(table.path, "rb") as f:
        for (start, end), line in zip(table.spans, table.lines):
            f.seek(start)
            raw = f.read(end - start)
            if len(raw) > 1 << 16:
                try:  # most rows name their short fields first: the line's head is enough
                    out.append(top_level(raw[:1 << 16].decode("utf-8", "ignore"), name))
                    continue
                except (json.JSONDecodeError, IndexError, ValueError, KeyError):
                    pass  # cut inside the object: read the whole line
            try:
                out.append(top_level(raw.decode("utf-8"), name))
            except KeyError:
                raise HarnessError(f"{table.path}:{line}: missing field {name!r}") from None
            except (json.JSONDecodeError, IndexError, ValueError) as error:
                raise HarnessError(f"{table.path}:{line}: not a JSON object ({error})") from None
    return out


_SPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


def top_level(text: str, name: str) -> Any:
    """The value of key `name` of the JSON object `text` starts with, read key by key up to it (the values before
    it are decoded, the rest of the text is not read). KeyError where the object has no such key; a text cut
    before it raises JSONDecodeError, IndexError or ValueError."""

    def skip(at: int) -> int:
        match = _SPACE.match(text, at)
        return match.end() if match else at

    at = skip(0)
    if text[at] != "{":
        raise ValueError("not an object")
    at = skip(at + 1)
    while text[at] != "}":
        key, at = _DECODER.raw_decode(text, at)
        at = skip(at)
        if text[at] != ":":
            raise ValueError("expected ':'")
        value, at = _DECODER.raw_decode(text, skip(at + 1))
        if key == name:
            return value
        at = skip(at)
        if text[at] == ",":
            at = skip(at + 1)
        elif text[at] != "}":
            raise ValueError("expected ',' or '}'")
    raise KeyError(name)


def open_rows(options: TaskOptions, relative: str, fields: Schema = (), optional: Schema = ()) -> RowFile:
    """HELMET file `relative` as a `RowFile` (indexed once per process)."""
    return open_located(locate(options, relative), fields, optional)


@lru_cache(maxsize=64)
def open_located(located: Located, fields: Schema, optional: Schema) -> RowFile:
    return RowFile(located, fields, optional)


CHUNK = 1 << 24


def _index(path: Path) -> tuple[list[tuple[int, int]], list[int], str]:
    """(start, end) byte spans and 1-based line numbers of the non-blank lines, and the sha256 (16 hex) of the bytes."""
    spans: list[tuple[int, int]] = []
    lines: list[int] = []
    digest = hashlib.sha256()
    line, start, offset = 1, 0, 0
    blank = True  # the current line so far holds only whitespace
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            at = 0
            while (newline := chunk.find(b"\n", at)) >= 0:
                blank = blank and not chunk[at:newline].strip()
                if not blank:
                    spans.append((start, offset + newline))
                    lines.append(line)
                line, start, blank, at = line + 1, offset + newline + 1, True, newline + 1
            blank = blank and not chunk[at:].strip()
            offset += len(chunk)
    if not blank:
        spans.append((start, offset))
        lines.append(line)
    return spans, lines, digest.hexdigest()[:16]


@lru_cache(maxsize=64)
def file_sha256(path: Path) -> str:
    """sha256 (first 16 hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()[:16]
