import sqlite3

import pytest

from harness.core.errors import HarnessError
from harness.results import Result
from harness.store import Store


def _result(score: float) -> Result:
    cell = {"score": score, "stderr": 1.0, "n": 4, "metric": "string_match_all", "higher_is_better": True}
    return Result(results={"niah_single_1": {"1024": cell}}, groups={}, config={"model": "m", "backend": "hf"})


def test_record_list_show_and_replace(tmp_path) -> None:
    store = Store(tmp_path / "r.db")
    store.record("abc123", _result(50.0), tmp_path)
    store.record("abc123", _result(75.0), tmp_path)  # a rerun replaces its row
    store.record("def456", _result(10.0), tmp_path)
    runs = store.runs()
    assert {r["run_id"] for r in runs} == {"abc123", "def456"}
    got = store.result("abc")
    assert got is not None and got.results["niah_single_1"]["1024"]["score"] == 75.0
    assert store.result("zzz") is None


# -- a path that cannot hold a results database: one HarnessError naming it ---------------------------

def _corrupt_pages(path) -> None:  # type: ignore[no-untyped-def]
    """Overwrite every page after the first (the header stays valid): a database damaged mid-file."""
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make,says", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"not a database, just some bytes " * 20), "not an SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84), "not an SQLite database"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE runs (id INTEGER)").connection.commit(), "not a harness results database"),
])
def test_a_path_that_is_no_results_database_is_one_error_naming_it(tmp_path, make, says) -> None:
    path = tmp_path / "r.db"
    make(path)
    with pytest.raises(HarnessError) as error:
        Store(path).runs()
    assert str(path) in str(error.value) and says in str(error.value) and "\n" not in str(error.value)


def test_a_database_damaged_mid_file_is_named_by_every_operation(tmp_path) -> None:
    path = tmp_path / "r.db"
    store = Store(path)
    for n in range(40):  # several pages
        store.record(f"run{n:03d}", _result(float(n)), tmp_path)
    _corrupt_pages(path)
    for operation in (lambda: Store(path).runs(), lambda: Store(path).result("run001"),
                      lambda: store.record("new", _result(1.0), tmp_path / "out")):
        with pytest.raises(HarnessError, match=f"results database {path}"):
            operation()


def test_a_run_the_database_cannot_record_says_where_its_results_are(tmp_path) -> None:
    path = tmp_path / "r.db"
    store = Store(path)
    path.write_bytes(b"overwritten by something else " * 40)
    with pytest.raises(HarnessError) as error:
        store.record("abc123", _result(1.0), tmp_path / "out")
    assert "abc123" in str(error.value) and str(tmp_path / "out" / "results.json") in str(error.value)


def test_a_database_under_a_file_is_named(tmp_path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(HarnessError, match="afile is a file"):
        Store(tmp_path / "afile" / "r.db")
