"""Every persisted record (harness.core.records): it round-trips, keeps the bytes the harness wrote before where
the file already carried a version, reads an older version (or refuses it with a clear message), and refuses a
newer one naming the file, its version and the version this lc-harness reads. The results database made by the
unversioned schema migrates in place and keeps its rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from harness.core.errors import HarnessError
from harness.core.records import (
    BASELINE,
    JUDGE_CACHE,
    RESULTS_DB,
    SYNTH_CACHE,
    BoardBaseline,
    BuiltModelManifest,
    RecordVersionError,
    Result,
    RunRecord,
    Schema,
    StageRecord,
    SweepSummary,
    SynthManifest,
    TrainManifest,
    prepare_sqlite,
    sqlite_version,
)
from harness.core.types import ScoredSample

CELL = {"score": 50.0, "stderr": 1.0, "n": 4, "metric": "string_match_all", "higher_is_better": True}


def _newer(path: Path, version: int = 99) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "version": version}))


def _refused_as_newer(error: pytest.ExceptionInfo[RecordVersionError], path: Path | str, version: int = 99) -> None:
    message = str(error.value)
    assert str(path) in message and f"version {version}" in message and "newer" in message
    assert "version 1" in message or "versions 1 to" in message
    assert "\n" not in message


# -- the version rule ---------------------------------------------------------------------------------

def test_an_older_version_is_brought_up_step_by_step_and_one_without_a_step_is_refused() -> None:
    def rename(d: dict[str, Any]) -> dict[str, Any]:
        return {"b": d["a"], **{k: v for k, v in d.items() if k != "a"}}

    schema = Schema("demo file", 3, migrations={1: rename, 2: lambda d: {**d, "c": d["b"] * 2}}, too_old="make it again")
    assert schema.readable == [1, 2, 3]
    assert schema.upgrade({"version": 1, "a": 2}, "f.json") == {"version": 3, "b": 2, "c": 4}
    assert schema.upgrade({"version": 2, "b": 5}, "f.json") == {"version": 3, "b": 5, "c": 10}
    assert schema.upgrade({"a": 1}, "f.json")["c"] == 2  # no version field: version 1
    with pytest.raises(RecordVersionError) as error:
        schema.upgrade({"version": 0}, "f.json")
    assert str(error.value) == ("f.json: a demo file of version 0, which this lc-harness no longer reads "
                                "(it reads versions 1 to 3); make it again")
    with pytest.raises(RecordVersionError) as error:
        schema.upgrade({"version": 4}, "f.json")
    assert str(error.value) == ("f.json: a demo file of version 4, written by a newer lc-harness; this one reads "
                                "versions 1 to 3: upgrade lc-harness to read it")


@pytest.mark.parametrize("version", ["2", 1.5, True, -1, None])
def test_a_version_that_is_no_whole_number_is_named(version: Any) -> None:
    with pytest.raises(RecordVersionError, match="f.json: 'version'"):
        Schema("demo file", 1).version_of({"version": version}, "f.json")


def test_a_record_that_must_carry_a_version_is_refused_without_one() -> None:
    with pytest.raises(RecordVersionError, match="f.json: a demo file without a 'version' field; this lc-harness reads version 2"):
        Schema("demo file", 2, unversioned=None).upgrade({}, "f.json")


# -- results.json, run.json, samples lines ---------------------------------------------------------------

def test_results_json_round_trips_with_the_bytes_written_before(tmp_path: Path) -> None:
    result = Result({"niah_single_1": {"1024": CELL}}, {}, {"model": "m"}, extra={"reports": {"niah": {"grid": []}}})
    path = tmp_path / "results.json"
    result.write(path)
    before = json.dumps({"version": 1, "results": result.results, "groups": {}, "config": {"model": "m"},
                         "reports": {"niah": {"grid": []}}}, indent=2, sort_keys=True) + "\n"  # the old Result.write
    assert path.read_text() == before
    assert Result.read(path) == result
    assert not list(tmp_path.glob("*.tmp"))


def test_results_json_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    Result({"t": {"1024": CELL}}, {}, {}).write(path)
    _newer(path)
    with pytest.raises(RecordVersionError) as error:
        Result.read(path)
    _refused_as_newer(error, path)


def test_run_json_round_trips_with_the_bytes_written_before(tmp_path: Path) -> None:
    from harness.runner import read_run_file

    path = tmp_path / "run.json"
    RunRecord({"model": "tiny", "seed": 42}).write(path)
    assert path.read_text() == json.dumps({"version": 1, "fingerprint": {"model": "tiny", "seed": 42}}, indent=2, sort_keys=True)
    assert read_run_file(path) == {"model": "tiny", "seed": 42}
    _newer(path, 2)
    with pytest.raises(RecordVersionError) as error:
        read_run_file(path)
    _refused_as_newer(error, path, 2)


def _line(index: int, **extra: Any) -> str:
    sample = ScoredSample(f"s{index}", "niah_single_1", 1024, index, 100, ("a",), "a", 1.0, 0.5)
    data = json.loads(sample.to_json())
    return json.dumps({**data, **extra}, sort_keys=True, ensure_ascii=False)


def test_sample_lines_without_a_version_are_version_1_and_keep_their_bytes(tmp_path: Path) -> None:
    from harness.runner.samples_log import SampleLog
    from harness.scored_lines import scored_rows

    path = tmp_path / "samples" / "niah_single_1.jsonl"
    path.parent.mkdir()
    unversioned = json.dumps({k: v for k, v in json.loads(_line(1)).items() if k != "version"}, sort_keys=True)
    path.write_text(_line(0) + "\n" + unversioned + "\n")
    before = path.read_bytes()
    assert [s.index for s in SampleLog(path).read()] == [0, 1]
    assert [row["id"] for row in scored_rows(path)] == ["s0", "s1"]
    assert path.read_bytes() == before
    assert json.loads(_line(0))["version"] == 1  # what the runner writes: version 1, as before


def test_a_sample_line_of_a_newer_version_refuses_the_file(tmp_path: Path) -> None:
    from harness.runner.samples_log import SampleLog
    from harness.scored_lines import scored_rows

    path = tmp_path / "niah_single_1.jsonl"
    path.write_text(_line(0) + "\n" + _line(1, version=2) + "\n")
    for read in (lambda: SampleLog(path).read(), lambda: list(scored_rows(path))):
        with pytest.raises(RecordVersionError) as error:
            read()
        _refused_as_newer(error, path, 2)


def test_a_sample_line_with_a_garbage_version_is_a_bad_line_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.runner.samples_log import SampleLog

    path = tmp_path / "niah_single_1.jsonl"
    path.write_text(_line(0) + "\n" + _line(1, version="x") + "\n")
    assert [s.index for s in SampleLog(path).read()] == [0]
    assert f"{path}:2" in capsys.readouterr().err


# -- manifests ----------------------------------------------------------------------------------------

def test_the_synth_manifest_round_trips_with_the_bytes_written_before(tmp_path: Path) -> None:
    old = {"version": 1, "plugin": "needles", "config": {"n": 3}, "seed": 0, "generator": "openai:m",
           "generator_base_url": "http://x/v1", "corpus": {"documents": 0, "digest": "d", "sources": []}, "records": 3,
           "environment": {"python": "3.11"}}
    manifest = SynthManifest("needles", {"n": 3}, 0, "openai:m", {"documents": 0, "digest": "d", "sources": []}, 3,
                             {"python": "3.11"}, {"generator_base_url": "http://x/v1"})
    path = tmp_path / "manifest.json"
    manifest.write(path)
    assert path.read_text() == json.dumps(old, indent=2, sort_keys=True, default=str)  # synth/run.py's old writer
    assert SynthManifest.read(path) == manifest
    _newer(path)
    with pytest.raises(RecordVersionError) as error:
        SynthManifest.read(path)
    _refused_as_newer(error, path)


def test_the_training_manifest_round_trips_with_the_bytes_written_before(tmp_path: Path) -> None:
    manifest = TrainManifest("tiny", "d.jsonl", "abc", {"lr": 1e-3}, "def", {"python": "3.11"})
    manifest.stages["0"] = {"length": 512, "steps": 2, "loss": 1.5}
    manifest.finished = True
    path = tmp_path / "manifest.json"
    manifest.write(path)
    old = {"version": 1, "base_model": "tiny", "data": "d.jsonl", "data_digest": "abc", "spec": {"lr": 1e-3}, "spec_digest": "def",
           "environment": {"python": "3.11"}, "stages": {"0": {"length": 512, "steps": 2, "loss": 1.5}}, "finished": True}
    assert path.read_text() == json.dumps(old, indent=2, sort_keys=True, default=str) + "\n"  # the trainer's old writer
    assert TrainManifest.read(path) == manifest
    _newer(path, 3)
    with pytest.raises(RecordVersionError) as error:
        TrainManifest.read(path)
    _refused_as_newer(error, path, 3)


def test_a_built_model_manifest_keeps_its_bytes_and_its_recipe_version_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.core.models import BuiltinModel

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    model = BuiltinModel("demo", "a demo", lambda target: None, 3)
    model.path.mkdir(parents=True)
    (model.path / "config.json").write_text("{}")
    extra = {"seed": 1, "config": {"layers": 2}, "trained": False}
    BuiltModelManifest("demo", 3, extra).write(model.path / "manifest.json")
    assert (model.path / "manifest.json").read_text() == json.dumps({"name": "demo", "version": 3, **extra}, indent=2)
    assert BuiltModelManifest.read(model.path / "manifest.json") == BuiltModelManifest("demo", 3, extra)
    assert model.built
    BuiltModelManifest("demo", 2, extra).write(model.path / "manifest.json")
    assert not model.built  # an older recipe's build: built again
    (model.path / "manifest.json").write_text(json.dumps({"name": "demo"}))
    assert BuiltModelManifest.read(model.path / "manifest.json").version == 1  # smollm2's manifests had no version
    BuiltModelManifest("demo", 4, extra).write(model.path / "manifest.json")
    with pytest.raises(RecordVersionError) as error:
        assert model.built
    assert str(model.path) in str(error.value) and "recipe version 4" in str(error.value) and "(3)" in str(error.value)


# -- sweep: stage.json, sweep.json; the board's baseline.json ---------------------------------------------

STAGE_DATA = {"stage": {"kind": "data", "params": {"path": "d"}, "needs": [], "key": "k"}, "status": "done", "started": 1.0,
              "output": {"data": "d"}, "seconds": 0.1}


def test_stage_json_round_trips_and_now_carries_its_version(tmp_path: Path) -> None:
    path = tmp_path / "stage.json"
    StageRecord.parse(STAGE_DATA, str(path)).write(path)
    assert json.loads(path.read_text()) == {"version": 1, **STAGE_DATA}
    assert StageRecord.read(path).to_dict() == {"version": 1, **STAGE_DATA}
    running = {"stage": STAGE_DATA["stage"], "status": "running", "started": 2.0}
    assert StageRecord.parse(running, "s").to_dict() == {"version": 1, **running}  # no output, error or seconds yet


def test_stage_json_without_a_version_is_read_and_a_newer_one_refused(tmp_path: Path) -> None:
    from harness.sweep.stages import STAGE_FILE, read_stage, stage_dir

    path = stage_dir(tmp_path, "data-k") / STAGE_FILE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(STAGE_DATA, indent=2, sort_keys=True))  # as a sweep wrote it before stage.json had a version
    assert read_stage(tmp_path, "data-k") == {"version": 1, **STAGE_DATA}
    _newer(path, 2)
    with pytest.raises(RecordVersionError) as error:
        read_stage(tmp_path, "data-k")  # never run over: a newer lc-harness's stage
    _refused_as_newer(error, path, 2)


SUMMARY = {"name": "s", "source": "sweep.yaml", "base_model": "tiny", "seconds": 1.5, "stages_run": 2,
           "variants": {"control": {"kind": "none", "status": "done", "error": None, "stages": [], "results": "r.json"}}}


def test_sweep_json_round_trips_and_an_old_or_newer_one_is_read_or_refused(tmp_path: Path) -> None:
    path = tmp_path / "sweep.json"
    SweepSummary.parse(SUMMARY, str(path)).write(path)
    assert path.read_text() == json.dumps({"version": 1, **SUMMARY}, indent=2, sort_keys=True)
    assert SweepSummary.read(path).to_dict() == {"version": 1, **SUMMARY}
    path.write_text(json.dumps(SUMMARY))  # written before sweep.json had a version
    assert SweepSummary.read(path).variants == SUMMARY["variants"]
    _newer(path, 2)
    with pytest.raises(RecordVersionError) as error:
        SweepSummary.read(path)
    _refused_as_newer(error, path, 2)


def test_a_board_reads_sweep_json_through_its_record(tmp_path: Path) -> None:
    from harness.leaderboards.collect import collect
    from harness.leaderboards.config import parse_board

    (tmp_path / "sweep.json").write_text(json.dumps({"version": 7, **SUMMARY}))
    config = parse_board({"name": "b", "sweep": str(tmp_path), "columns": [{"task": "niah_single_1"}]}, "board.yaml")
    with pytest.raises(RecordVersionError) as error:
        collect(config)
    _refused_as_newer(error, tmp_path / "sweep.json", 7)


BASELINE_ROWS = {"control": {"cells": [{"task": "niah_single_1", "length": 1024, "score": 50.0, "stderr": 1.0, "n": 2,
                                         "samples": {"a": 1.0, "b": 0.0}}]}}


def test_baseline_json_round_trips_and_check_reads_an_old_one_and_refuses_a_newer_one(tmp_path: Path) -> None:
    from harness.check import load_baseline

    path = tmp_path / "baseline.json"
    BoardBaseline("b", BASELINE_ROWS).write(path)
    assert path.read_text() == json.dumps({"version": BASELINE.version, "board": "b", "rows": BASELINE_ROWS}, indent=1,
                                          sort_keys=True) + "\n"
    assert BoardBaseline.read(path) == BoardBaseline("b", BASELINE_ROWS)
    path.write_text(json.dumps({"board": "b", "rows": BASELINE_ROWS}, indent=1, sort_keys=True) + "\n")  # a board built before
    assert load_baseline(path, None)[("niah_single_1", 1024)]["score"] == 50.0
    _newer(path, BASELINE.version + 1)
    with pytest.raises(RecordVersionError) as error:
        load_baseline(path, None)
    _refused_as_newer(error, path, BASELINE.version + 1)


# -- SQLite: the results database and the LLM caches ----------------------------------------------------

OLD_STORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    backend TEXT NOT NULL,
    output_dir TEXT NOT NULL,
    config TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    task TEXT NOT NULL,
    length INTEGER NOT NULL,
    metric TEXT NOT NULL,
    score REAL NOT NULL,
    stderr REAL NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (run_id, task, length)
);
"""  # harness/store.py's SCHEMA before the database carried a version


def _old_store(path: Path) -> None:
    """A results database as the unversioned Store made it, with one run recorded."""
    result = {"version": 1, "results": {"niah_single_1": {"1024": CELL}}, "groups": {}, "config": {"model": "m", "backend": "hf"}}
    with sqlite3.connect(path) as db:
        db.executescript(OLD_STORE_SCHEMA)
        db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                   ("abc123", "2024-01-01T00:00:00+00:00", "m", "hf", "/out", json.dumps(result["config"]), json.dumps(result)))
        db.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)", ("abc123", "niah_single_1", 1024, "string_match_all", 50.0, 1.0, 4))
    db.close()


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        version = sqlite_version(db)
    db.close()
    return version


def test_a_results_database_of_the_unversioned_schema_migrates_in_place_and_keeps_its_rows(tmp_path: Path) -> None:
    from harness.store import Store

    path = tmp_path / "results.db"
    _old_store(path)
    assert _version(path) == 0
    store = Store(path)
    assert _version(path) == RESULTS_DB.version == 1
    assert [(r["run_id"], r["cells"]) for r in store.runs()] == [("abc123", 1)]
    got = store.result("abc")
    assert got is not None and got.results["niah_single_1"]["1024"]["score"] == 50.0
    Store(path).record("def456", got, tmp_path)  # a migrated database takes new runs beside the old
    assert {r["run_id"] for r in Store(path).runs()} == {"abc123", "def456"}


def test_a_new_results_database_is_stamped_and_a_newer_one_refused_unchanged(tmp_path: Path) -> None:
    from harness.store import Store

    path = tmp_path / "results.db"
    Store(path)
    assert _version(path) == 1
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 2")
    db.close()
    with pytest.raises(RecordVersionError) as error:
        Store(path)
    message = str(error.value)
    assert f"results database {path}" in message and "schema version 2" in message and "(1)" in message
    assert _version(path) == 2


def test_a_foreign_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    from harness.store import Store

    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (id INTEGER)")
    db.close()
    with pytest.raises(HarnessError, match="not a harness results database"):
        Store(path)
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert tables == {"runs"} and _version(path) == 0  # the migration rolled back: no table added, no version stamped


@pytest.mark.parametrize("schema,table,row", [
    (JUDGE_CACHE, "CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, judge TEXT, prompt TEXT, reply TEXT)",
     ("k", "openai:m", "[]", "yes")),
    (SYNTH_CACHE, "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, generator TEXT, request TEXT, reply TEXT)",
     ("k", "openai:m", "{}", "text")),
])
def test_an_llm_cache_of_the_unversioned_schema_is_stamped_and_keeps_its_replies(tmp_path: Path, schema: Any, table: str,
                                                                                 row: tuple[str, ...]) -> None:
    path = tmp_path / "cache.sqlite"
    name = next(iter(schema.columns))
    with sqlite3.connect(path) as db:
        db.execute(table)
        db.execute(f"INSERT INTO {name} VALUES (?, ?, ?, ?)", row)
    db.close()
    with sqlite3.connect(path) as db:
        prepare_sqlite(db, schema, f"{schema.kind} {path}")
        assert sqlite_version(db) == 1
        assert db.execute(f"SELECT * FROM {name}").fetchall() == [row]
        prepare_sqlite(db, schema, f"{schema.kind} {path}")  # at the version: only read
    db.close()


def test_a_database_at_its_version_is_only_read(tmp_path: Path) -> None:
    """No write (it may sit in a read-only directory): no transaction, no table created, no version stamped."""
    path = tmp_path / "results.db"
    with sqlite3.connect(path) as db:
        prepare_sqlite(db, RESULTS_DB, "results database")
        statements: list[str] = []
        db.set_trace_callback(statements.append)
        prepare_sqlite(db, RESULTS_DB, "results database")
    db.close()
    assert statements and all(s.startswith(("PRAGMA user_version", "PRAGMA table_info")) for s in statements), statements
