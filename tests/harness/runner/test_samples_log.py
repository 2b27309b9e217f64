from harness.core.types import ScoredSample
from harness.runner.samples_log import SampleLog


def _record(i: int) -> ScoredSample:
    return ScoredSample(f"id{i}", "t", 1024, i, 100, ("x",), "out", 100.0, 0.1)


def test_append_and_read(tmp_path) -> None:
    log = SampleLog(tmp_path / "samples" / "t.jsonl")
    log.append([_record(0), _record(1)])
    log.append([_record(2)])
    assert [r.id for r in log.read()] == ["id0", "id1", "id2"]


def test_torn_last_line_is_dropped_and_file_repaired(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    log = SampleLog(path)
    log.append([_record(0), _record(1)])
    with open(path, "a") as f:
        f.write('{"id": "id2", "task"')  # a kill -9 mid-write
    assert [r.id for r in log.read()] == ["id0", "id1"]
    log.append([_record(2)])
    assert [r.id for r in log.read()] == ["id0", "id1", "id2"]
