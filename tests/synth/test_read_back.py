"""A synthesized `data.jsonl` read back (`harness synth stats`, the stats of `synth run`): a bad line
costs that record only and is reported as FILE:LINE; every other record is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.synth.plugin import Record
from harness.synth.stats import dataset_stats, read_records

BAD = {
    "garbage": b"\x00\x01 garbage",
    "not-utf8": b'{"id": "r\xff", "messages": []}',
    "truncated": b'{"id": "r2", "messages": [{"role": "us',
    "list": b'[{"id": "r2"}]',
    "missing-messages": b'{"id": "r2", "meta": {}}',
    "string-messages": b'{"id": "r2", "messages": "hello"}',
    "turn-without-content": b'{"id": "r2", "messages": [{"role": "user"}]}',
    "meta-not-object": b'{"id": "r2", "messages": [], "meta": 3}',
}


def _record(i: int) -> bytes:
    turns = ({"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"})
    return Record(f"r{i}", turns, {"i": i}).to_json().encode() + b"\n"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_record_line_costs_that_record_only(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(_record(0) + _record(1) + BAD[kind] + b"\n" + _record(3) + _record(4))
    records = read_records(path)
    assert [r["id"] for r in records] == ["r0", "r1", "r3", "r4"]
    assert f"{path}:3: skipped a bad line" in capsys.readouterr().err
    assert dataset_stats(records)["records"] == 4


def test_a_missing_output_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="does not exist"):
        read_records(tmp_path / "data.jsonl")


def test_good_records_read_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(_record(0) + _record(1))
    assert read_records(path) == [json.loads(_record(0)), json.loads(_record(1))]


@pytest.mark.parametrize("content", [b"garbage, not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 2000])
def test_an_unreadable_llm_cache_is_one_error_naming_it(tmp_path: Path, content: bytes) -> None:
    from harness.synth.llm import Generator
    from tests.fakes import ScriptedBackend

    path = tmp_path / "llm_cache.sqlite"
    path.write_bytes(content)
    with pytest.raises(HarnessError, match=f"LLM cache {path}: not a readable SQLite cache"):
        Generator(ScriptedBackend(None), "scripted", path)
    assert path.read_bytes() == content  # left as it was
