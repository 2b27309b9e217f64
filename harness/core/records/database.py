"""The SQLite files the harness keeps: the results database and the LLM caches, each with its schema version
in SQLite's own header field (`PRAGMA user_version`).

A database made before it carried a version has `user_version` 0: its tables are the version-1 tables, so
opening it adopts them (any missing table is created) and stamps it 1, in one transaction that also checks
the columns, so a foreign database with a table of the same name is refused and left unchanged. A newer
version is refused; an older one is brought up step by step (`SqliteSchema.migrations`), keeping its rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Callable, Mapping

from harness.core.errors import HarnessError
from harness.core.records.schema import RecordVersionError

Step = Callable[[sqlite3.Connection], None]  # a migration step: the database at version v -> v + 1, rows kept


@dataclass(frozen=True)
class SqliteSchema:
    """One kind of database: what messages call it, its version, the statements that create its current
    tables, the columns each table must have, the steps up from older versions (0: the unversioned tables,
    adopted by creating what is missing), and what to do with a database that is not one."""

    kind: str
    version: int
    create: tuple[str, ...]
    columns: Mapping[str, frozenset[str]]
    migrations: Mapping[int, Step] = field(default_factory=dict)
    remedy: str = "give another path"

    def step(self, version: int) -> Step:
        """The migration from `version` to the next one (from 0, unless given: create what is missing)."""
        if version in self.migrations:
            return self.migrations[version]
        if version == 0:
            return self._create
        raise KeyError(version)

    def _create(self, db: sqlite3.Connection) -> None:
        for statement in self.create:
            db.execute(statement)


def sqlite_version(db: sqlite3.Connection) -> int:
    """The schema version stamped in the database (0: none, a database of the unversioned schema or a new one)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def set_sqlite_version(db: sqlite3.Connection, version: int) -> None:
    """Stamp the schema version (inside the caller's transaction: it commits or rolls back with it)."""
    db.execute(f"PRAGMA user_version = {int(version)}")


def prepare_sqlite(db: sqlite3.Connection, schema: SqliteSchema, source: str) -> None:
    """Bring the database behind `db` to `schema.version`: create a new one, migrate an older one in place (its
    rows kept), refuse a newer one or one that is not a `schema.kind`; errors name `source`. A database already
    at the version is only read (it may sit in a read-only directory)."""
    version = sqlite_version(db)
    if version == schema.version:
        check_columns(db, schema, source)
        return
    _refuse_newer(version, schema, source)
    db.execute("BEGIN IMMEDIATE")  # one writer migrates; another waits, then finds the work done
    try:
        version = sqlite_version(db)
        _refuse_newer(version, schema, source)
        fresh = version == 0 and not _tables(db) & set(schema.columns)
        if fresh:
            schema._create(db)
        else:
            for step in range(version, schema.version):
                try:
                    migrate = schema.step(step)
                except KeyError:
                    raise RecordVersionError(f"{source}: a {schema.kind} of schema version {version}, which this lc-harness "
                                             f"no longer reads (it reads version {schema.version}); {schema.remedy}") from None
                migrate(db)
        check_columns(db, schema, source)
        set_sqlite_version(db, schema.version)
        db.commit()
    except BaseException:
        db.rollback()
        raise


def _refuse_newer(version: int, schema: SqliteSchema, source: str) -> None:
    if version > schema.version:
        raise RecordVersionError(f"{source}: schema version {version}, newer than this lc-harness reads ({schema.version}): "
                                 f"written by a newer lc-harness (upgrade it to read this file), or not a {schema.kind}")


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def check_columns(db: sqlite3.Connection, schema: SqliteSchema, source: str) -> None:
    """Refuse a database whose tables lack the schema's columns (a foreign database that happens to share a name)."""
    for table, wanted in schema.columns.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not wanted <= have:
            raise HarnessError(f"{source} has a {table!r} table without the columns {', '.join(sorted(wanted - have))}: "
                               f"not a harness {schema.kind}; {schema.remedy}")


RESULTS_DB = SqliteSchema(
    "results database", 1,
    create=(
        """CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    backend TEXT NOT NULL,
    output_dir TEXT NOT NULL,
    config TEXT NOT NULL,
    result TEXT NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    length INTEGER NOT NULL,
    metric TEXT NOT NULL,
    score REAL NOT NULL,
    stderr REAL NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (run_id, task, length)
)""",
    ),
    columns={"runs": frozenset({"run_id", "created_at", "model", "backend", "output_dir", "config", "result"}),
             "scores": frozenset({"run_id", "task", "length", "metric", "score", "stderr", "n"})},
    remedy="give another --db",
)

# The two LLM caches of version 1 (key -> reply), before `harness.core.llm_client` merged them into `LLM_CACHE`.
JUDGE_CACHE = SqliteSchema(
    "judge cache", 1,
    create=("CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, judge TEXT, prompt TEXT, reply TEXT)",),
    columns={"judgments": frozenset({"key", "judge", "prompt", "reply"})},
    remedy="delete the file (it only holds replies that can be asked again)",
)
SYNTH_CACHE = SqliteSchema(
    "synthesis generator cache", 1,
    create=("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, generator TEXT, request TEXT, reply TEXT)",),
    columns={"responses": frozenset({"key", "generator", "request", "reply"})},
    remedy="delete the file (it only holds replies that can be asked again) or choose another --out",
)
# The one LLM cache (`harness.core.llm_client`), both files above merged into one layout: `responses`,
# keyed as the synthesis cache always was (its rows are hit as they are). A judge cache's `judgments` rows
# are kept where they are and read by their old key on a miss (`harness.judge`): their key holds the
# judge's max_tokens, which the rows do not store, so they cannot be re-keyed here.
def _add_responses(db: sqlite3.Connection) -> None:
    """Version 1 (a judge or a synthesis cache) -> 2: the `responses` table, where it is missing."""
    for statement in SYNTH_CACHE.create:
        db.execute(statement)


LLM_CACHE = SqliteSchema(
    "LLM cache", 2,
    create=SYNTH_CACHE.create,
    columns=SYNTH_CACHE.columns,
    migrations={1: _add_responses},
    remedy="move it away to start afresh (the calls it held will be asked again)",
)
