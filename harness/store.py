"""`Store`: the results database (SQLite): one row per run, one per task x length score. Its tables and schema
version are `harness.core.records.RESULTS_DB`: a database of an older version (one made before the version was
stamped) is migrated in place on open, its rows kept; a newer one is refused."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError
from harness.core.outputs import ensure_dir
from harness.core.records import RESULTS_DB, Result, prepare_sqlite
from harness.core.redaction import redact


class Store:
    """A results database at `path` (created on first use). A path that cannot hold one (a directory, a
    file that is not SQLite, a corrupted or foreign database) is a `HarnessError` naming it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise HarnessError(f"results database {path} is a directory; give a file path with --db (or HARNESS_DB)")
        if not self.path.exists():  # an existing database may sit in a read-only directory: reading it is fine
            ensure_dir(self.path.parent, f"results database {path}: directory")
        with self._guard(), closing(self._connect()) as db:
            prepare_sqlite(db, RESULTS_DB, f"results database {path}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        return db

    @contextmanager
    def _guard(self, doing: str = "") -> Iterator[None]:
        """SQLite's errors as one line naming the database (and what was being done)."""
        try:
            yield
        except sqlite3.Error as error:
            reason = str(error)
            if reason in ("file is not a database", "database disk image is malformed"):
                reason = f"not an SQLite database, or a corrupted one ({error})"
            elif reason == "unable to open database file":
                reason = "cannot be opened (unable to open database file)"
            raise HarnessError(f"results database {self.path}: {reason}{doing}") from None

    def record(self, run_id: str, result: Result, output_dir: Path) -> None:
        """Insert or replace the run and its scores in one transaction (secrets redacted)."""
        config = redact(result.config)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        doing = f"; run {run_id} not recorded (its results are in {output_dir / 'results.json'}: fix --db and rerun to record it)"
        with self._guard(doing), closing(self._connect()) as db, db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    now,
                    str(config.get("model", "")),
                    str(config.get("backend", "")),
                    str(output_dir.resolve()),
                    json.dumps(config, sort_keys=True),
                    json.dumps(redact(result.to_dict()), sort_keys=True),
                ),
            )
            db.executemany(
                "INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, task, int(length), cell["metric"], cell["score"], cell["stderr"], cell["n"])
                    for task, by_length in result.results.items()
                    for length, cell in by_length.items()
                    if cell["score"] is not None  # every sample skipped: no score to store
                ],
            )

    def runs(self) -> list[dict[str, Any]]:
        """All runs, newest first."""
        with self._guard(), closing(self._connect()) as db:
            rows = db.execute(
                "SELECT r.run_id, r.created_at, r.model, r.backend, r.output_dir, "
                "COUNT(s.task) AS cells, GROUP_CONCAT(DISTINCT s.task) AS tasks "
                "FROM runs r LEFT JOIN scores s USING (run_id) GROUP BY r.run_id ORDER BY r.created_at DESC, r.run_id"
            ).fetchall()
        return [dict(row) for row in rows]

    def result(self, run_id: str) -> Result | None:
        """The stored result of `run_id` (a unique prefix is enough), or None."""
        with self._guard(), closing(self._connect()) as db:
            rows = db.execute("SELECT run_id, result FROM runs WHERE run_id LIKE ?", (run_id + "%",)).fetchall()
        if len(rows) != 1:
            return None
        source = f"results database {self.path}: run {rows[0]['run_id']}"
        try:
            data = json.loads(rows[0]["result"])
        except (json.JSONDecodeError, TypeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
            raise HarnessError(f"results database {self.path}: run {rows[0]['run_id']}'s result is not a results "
                               "record (the database was changed by something else)") from None
        return Result.from_dict(data, source)  # its version checked, as a results.json's is
