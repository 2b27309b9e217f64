"""Where a real-document benchmark's examples come from: one jsonl file per task in a local
directory (the benchmark's published files), else its hub dataset through `datasets`.

Rows are loaded once per process and carry a digest (the file's bytes, or the hub dataset's
fingerprint) that sample caches key on. A source pins its hub dataset with `revision` (a commit or
tag; None: the hub's current main, whose resolved commit the results still record).
Rows are turned into samples by `harness.tasks.realdoc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.core.userfiles import iter_jsonl
from harness.tasks.data import DataSource, Schema, TaskOptions, check_fields, file_digest, hub_source, local_source


@dataclass(frozen=True)
class Rows:
    """A task's examples in file order, where they came from (`source` for messages, `origin` for
    results), and their content digest."""

    rows: tuple[dict[str, Any], ...]
    source: str
    digest: str
    origin: DataSource


@dataclass(frozen=True)
class DocSource:
    """One benchmark's data: the task arg and `--data-dir` subfolder naming its local directory,
    the file name of a task, and how to load a task from the hub."""

    benchmark: str
    folder: str
    file_name: Callable[[str], str]
    hub: Callable[[str, str | None], Any]  # (task name, revision) -> the loaded dataset
    fields: Schema  # required fields and their types
    optional: Schema = ()  # fields a row may lack, and their types when present
    hub_id: str = ""  # the hub dataset `hub` loads (recorded in results)
    revision: str | None = None  # the hub dataset's pinned commit or tag (None: main)

    def local_dir(self, options: TaskOptions) -> Path | None:
        return options.find_optional(self.folder, self.folder, self.benchmark)

    def load(self, options: TaskOptions, name: str) -> Rows:
        """The rows of task `name` (local file first, then the hub)."""
        directory = self.local_dir(options)
        if directory is not None:
            if not directory.is_dir():
                raise HarnessError(f"{self.benchmark}: {directory} is not a directory (the folder holding "
                                   f"{self.file_name(name)} and the benchmark's other jsonl files)")
            return _read_local(directory / self.file_name(name), self.fields, self.optional)
        return _hub_rows(self, name)

    def from_hub(self, name: str) -> Rows:
        """Task `name` from the hub (uncached: `load` caches it per process)."""
        try:
            dataset = self.hub(name, self.revision)
        except Exception as error:  # datasets raises many types when offline or when the id is wrong
            raise HarnessError(
                f"{self.benchmark} {name}: could not load from the hub"
                f"{f' at revision {self.revision}' if self.revision else ''} ({type(error).__name__}: {str(error)[:200]}); "
                f"pass --data-dir D with D/{self.folder}/{self.file_name(name)} (the published jsonl) "
                f"or --task-args {self.folder}=DIR"
            ) from error
        rows = tuple(dict(row) for row in dataset)
        for i, row in enumerate(rows):
            check_fields(row, self.fields, f"{self.benchmark} {name} (hub) row {i}", self.optional)
        digest = str(getattr(dataset, "_fingerprint", ""))
        origin = hub_source(self.hub_id or self.benchmark, dataset)
        return Rows(rows, f"hub:{getattr(dataset, 'info', None) and dataset.info.dataset_name}", digest, origin)


@lru_cache(maxsize=64)
def _hub_rows(source: DocSource, name: str) -> Rows:
    return source.from_hub(name)


@lru_cache(maxsize=64)
def _read_local(path: Path, fields: Schema, optional: Schema) -> Rows:
    if not path.exists():
        raise HarnessError(f"{path} does not exist (expected the benchmark's published jsonl for this task)")
    rows = []
    for number, row in iter_jsonl(path, "data file"):
        check_fields(row, fields, f"{path}:{number}", optional)
        rows.append(row)
    if not rows:
        raise HarnessError(f"{path}: no examples (the file is empty)")
    digest = file_digest([path])
    return Rows(tuple(rows), str(path), digest, local_source(path, digest))
