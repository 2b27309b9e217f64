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
