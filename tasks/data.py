"""Where tasks find their data: `--data-dir D` (or `HARNESS_DATA_DIR`), then a task's own argument.

Each benchmark documents the files it looks for under D (for example `pg_essays/` for the essay
haystack, `squad.json` and `hotpotqa.json` for RULER's QA tasks).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.userfiles import check_type, iter_jsonl


@dataclass(frozen=True)
class TaskOptions:
    """Options every task factory receives: the data directory and `--task-args`."""

    data_dir: Path | None = None
    args: dict[str, Any] = field(default_factory=dict)

    def data_root(self) -> Path | None:
        """`--data-dir`, else `HARNESS_DATA_DIR`, else None."""
        if self.data_dir is not None:
            return Path(self.data_dir).expanduser()
        env = os.environ.get("HARNESS_DATA_DIR")
        return Path(env).expanduser() if env else None

    def find_optional(self, arg: str, relative: str, what: str) -> Path | None:
        """Like `find`, but None (not an error) when neither the task arg nor `<data dir>/<relative>` exists."""
        given = self.args.get(arg)
        root = self.data_root()
        if given or (root is not None and (root / relative).exists()):
            return self.find(arg, relative, what)
        return None

    def find(self, arg: str, relative: str, what: str) -> Path:
        """The path given as task arg `arg`, else `<data dir>/<relative>`; a clear error when missing."""
        given = self.args.get(arg)
        if given:
            path = Path(str(given)).expanduser()
            if not path.exists():
                raise HarnessError(f"{what}: --task-args {arg}={given} does not exist")
            return path
        root = self.data_root()
        if root is not None and (root / relative).exists():
            return root / relative
        where = f"{root / relative} does not exist" if root is not None else "no --data-dir given"
        raise HarnessError(f"{what} needs {relative}: {where}; pass --data-dir D (with D/{relative}) or --task-args {arg}=PATH")


@dataclass(frozen=True)
class DataSource:
    """Where a task's data came from, as `results.json` records it (`config.task_info[task].data`).

    `kind`: "file" (a local file or folder), "package" (a file inside an installed package),
    "hub" (a Hugging Face dataset through `datasets`), "url", or "generated" (no data read);
    `location`: the path, `package==version:path`, `hub id[:config]@revision`, or URL;
    `split`: the hub split(s) read; `digest`: the content digest sample caches key on, where the
    loader computed one.
    """

    kind: str
    location: str | None = None
    digest: str | None = None
    split: str | None = None

    def record(self) -> dict[str, str]:
        """The JSON form: `source`, then `location`, `split` and `digest` where known."""
        fields = {"source": self.kind, "location": self.location, "split": self.split, "digest": self.digest}
        return {key: value for key, value in fields.items() if value}


GENERATED = DataSource("generated")


def local_source(path: Path, digest: str | None) -> DataSource:
    """A local file or folder (absolute path); a file inside an installed package is named as
    `dist==version:relative/path` instead, so the record says which release it came from."""
    resolved = path.expanduser().resolve()
    package = _installed_package(resolved)
    if package is not None:
        return DataSource("package", package, digest)
    return DataSource("file", str(resolved), digest)


def _installed_package(path: Path) -> str | None:
    """`dist==version:path-under-site-packages` for a file of an installed distribution, else None."""
    from importlib.metadata import PackageNotFoundError, version

    for parent in path.parents:
        if parent.name in ("site-packages", "dist-packages"):
            relative = path.relative_to(parent)
            for dist in _packages_distributions().get(relative.parts[0], []):
                try:
                    return f"{dist}=={version(dist)}:{relative.as_posix()}"
                except PackageNotFoundError:
                    continue
            return None
    return None


@lru_cache(maxsize=1)
def _packages_distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())


def hub_source(hub_id: str, dataset: Any, split: str | None = None) -> DataSource:
    """A hub dataset as `datasets` loaded it: `id[:config]@commit` (the config from the dataset's info,
    the commit `datasets` resolved, read from its cache path), its split and its fingerprint."""
    config = getattr(getattr(dataset, "info", None), "config_name", None)
    name = f"{hub_id}:{config}" if config and config != "default" else hub_id
    revision = _hub_commit(dataset)
    return DataSource("hub", f"{name}@{revision}" if revision else name,
                      str(getattr(dataset, "_fingerprint", "") or "") or None,
                      split or (str(dataset.split) if getattr(dataset, "split", None) is not None else None))


def _hub_commit(dataset: Any) -> str | None:
    """The 40-hex commit directory `datasets` caches a hub dataset under (`.../VERSION/COMMIT/...`), or None."""
    for entry in getattr(dataset, "cache_files", None) or ():
        for part in reversed(Path(str(entry.get("filename", ""))).parts[:-1]):
            if len(part) == 40 and all(c in "0123456789abcdef" for c in part):
                return part
    return None


def file_digest(paths: list[Path]) -> str:
    """sha256 (first 16 hex) over the names and bytes of `paths` (what sample caches key on)."""
    return content_digest([(path.name, path.read_bytes()) for path in sorted(paths)])


def content_digest(files: list[tuple[str, bytes]]) -> str:
    """`file_digest` of files already read, given as (name, bytes) in path order."""
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a jsonl file (blank lines skipped); a bad line is an error naming file and line."""
    return [record for _, record in iter_jsonl(path, "data file")]


Schema = tuple[tuple[str, type | tuple[type, ...]], ...]  # (field, its allowed types)


def check_fields(record: dict[str, Any], schema: Schema, where: str, optional: Schema = ()) -> None:
    """Raise naming the first field of `schema` that `record` lacks, or the first field of `schema`
    or (when present) of `optional` whose value has the wrong type."""
    require_fields(record, tuple(name for name, _ in schema), where)
    for name, kinds in (*schema, *optional):
        if name in record:
            check_type(record[name], kinds, f"{where}: field {name!r}")


def require_fields(record: dict[str, Any], fields: tuple[str, ...], where: str) -> None:
    """Raise naming the first missing field of `record`."""
    for name in fields:
        if name not in record:
            raise HarnessError(f"{where}: missing field {name!r} (has {', '.join(sorted(record)) or 'none'})")
