"""harness.core.jsonl: a bad line of a file the harness reads back costs that line only (reported as FILE:LINE);
a torn last line (kill -9 mid-write) is mended by the file's owner so the next append starts cleanly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core.jsonl import BadRecord, append_jsonl, as_object, expect, read_jsonl

# Every way a middle line can be bad: garbage, not UTF-8, truncated, JSON that is not an object,
# an object missing a field, a field of the wrong type.
BAD_LINES = {
    "garbage": b"%%% \x00 not json at all",
    "not-utf8": b'{"n": 3, "text": "\xff\xfe caf\xe9"}',
    "truncated": b'{"n": 3, "te',
    "list": b"[1, 2, 3]",
    "string": b'"just a string"',
    "missing-field": b'{"text": "no n"}',
    "wrong-type": b'{"n": "three", "text": "x"}',
    "bool-for-int": b'{"n": true, "text": "x"}',
}


def _n(data: dict[str, Any]) -> int:
    expect(data, "text", str)
    return int(expect(data, "n", int))


def _line(n: int) -> bytes:
    return json.dumps({"n": n, "text": f"record {n}"}).encode() + b"\n"


def _write(path: Path, bad: bytes) -> None:
    path.write_bytes(_line(1) + _line(2) + bad + b"\n" + _line(4) + _line(5))


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
def test_a_bad_middle_line_costs_that_line_only(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "f.jsonl"
    _write(path, BAD_LINES[kind])
    before = path.read_bytes()
    reports: list[str] = []
    assert list(read_jsonl(path, _n, repair=True, report=reports.append)) == [(1, 1), (2, 2), (4, 4), (5, 5)]
    assert len(reports) == 1 and reports[0].startswith(f"{path}:3: skipped a bad line (")
    assert path.read_bytes() == before  # nothing is rewritten: the bad line stays for a person to see


def test_the_default_report_names_file_and_line_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.jsonl"
    _write(path, BAD_LINES["list"])
    assert [n for _, n in read_jsonl(path, _n)] == [1, 2, 4, 5]
    err = capsys.readouterr().err
    assert f"{path}:3:" in err and "expected a JSON object, got an array" in err


def test_blank_lines_and_a_missing_file_are_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    assert list(read_jsonl(path, as_object)) == []
    path.write_bytes(_line(1) + b"\n  \n" + _line(2))
    reports: list[str] = []
    assert [n for _, n in read_jsonl(path, _n, report=reports.append)] == [1, 2] and reports == []


def test_a_torn_last_line_is_cut_off_by_the_owner_and_appends_start_on_their_own_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(_line(1) + _line(2) + b'{"n": 3, "te')  # a kill -9 mid-write
    reports: list[str] = []
    assert [n for _, n in read_jsonl(path, _n, report=reports.append)] == [1, 2]
    assert path.read_bytes().endswith(b'"te')  # a reader that does not own the file leaves it alone
    assert [n for _, n in read_jsonl(path, _n, repair=True, report=reports.append)] == [1, 2]
    assert path.read_bytes() == _line(1) + _line(2)
    assert all(":3: " in r and "interrupted write" in r for r in reports)
    append_jsonl(path, [json.dumps({"n": 3, "text": "again"})])
    assert [n for _, n in read_jsonl(path, _n)] == [1, 2, 3]


def test_a_whole_record_missing_only_its_newline_is_kept_and_ended(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(_line(1) + _line(2).rstrip(b"\n"))
    assert [n for _, n in read_jsonl(path, _n, repair=True)] == [1, 2]
    assert path.read_bytes() == _line(1) + _line(2)


def test_an_append_after_an_unrepaired_torn_line_is_not_glued_to_it(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(_line(1) + b'{"n": 2, "te')
    append_jsonl(path, [json.dumps({"n": 3, "text": "x"}), json.dumps({"n": 4, "text": "y"})])
    reports: list[str] = []
    assert [n for _, n in read_jsonl(path, _n, report=reports.append)] == [1, 3, 4]
    assert len(reports) == 1 and f"{path}:2:" in reports[0]


def test_expect_names_the_field() -> None:
    with pytest.raises(BadRecord, match="field 'n' is a string, expected int"):
        expect({"n": "1"}, "n", int)
    with pytest.raises(BadRecord, match="missing field 'n'"):
        expect({}, "n", int)
    assert expect({}, "n", int, required=False) is None
