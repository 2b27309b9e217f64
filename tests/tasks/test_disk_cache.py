"""Derived data kept on disk: round trips, damage read as absence, and a cache that cannot be written."""

from __future__ import annotations

import hashlib
import marshal

import pytest

from harness.tasks import disk_cache


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_values_and_entries_round_trip() -> None:
    value = (("doc é", "d\n2"), (("q", ("a",), (0, 1), ()),))
    disk_cache.write_value("f", "k-1", value)
    assert disk_cache.read_value("f", "k-1") == value
    disk_cache.write_entry("f", "k-1", {"starts": [0, 4], "text": "é"})
    assert disk_cache.read_entry("f", "k-1") == {"starts": [0, 4], "text": "é"}
    assert disk_cache.read_value("f", "k-2") is None and disk_cache.read_entry("g", "k-1") is None


@pytest.mark.parametrize("damage", ["truncated", "a flipped bit", "checksummed garbage", "empty file"])
def test_a_damaged_value_reads_as_absent(damage: str) -> None:
    disk_cache.write_value("f", "k", ("x" * 100, 7))
    path = disk_cache.value_path("f", "k")
    blob = path.read_bytes()
    garbage = b"\xff not marshal"
    path.write_bytes({
        "truncated": blob[:-10], "a flipped bit": blob[:40] + bytes([blob[40] ^ 4]) + blob[41:],
        "checksummed garbage": hashlib.sha256(garbage).digest() + garbage, "empty file": b"",
    }[damage])
    assert disk_cache.read_value("f", "k") is None


def test_a_value_is_checked_before_it_is_unmarshalled(monkeypatch) -> None:
    disk_cache.write_value("f", "k", (1, 2))
    blob = bytearray(disk_cache.value_path("f", "k").read_bytes())
    blob[0] ^= 1  # the checksum no longer matches
    disk_cache.value_path("f", "k").write_bytes(bytes(blob))
    monkeypatch.setattr(marshal, "loads", lambda *a: pytest.fail("unmarshalled an unchecked payload"))
    assert disk_cache.read_value("f", "k") is None


def test_a_damaged_entry_reads_as_absent() -> None:
    disk_cache.write_entry("f", "k", [1, 2, 3])
    disk_cache.entry_path("f", "k").write_bytes(b'[1, 2, \xff')
    assert disk_cache.read_entry("f", "k") is None


def test_values_are_kept_per_python_version() -> None:
    import sys

    assert disk_cache.value_path("f", "k").name == f"k-py{sys.version_info[0]}{sys.version_info[1]}.marshal"


def test_a_cache_that_cannot_be_written_costs_nothing_but_the_work(own_cache) -> None:
    own_cache.parent.mkdir(parents=True, exist_ok=True)
    own_cache.write_text("a file where the cache dir should be")
    disk_cache.write_value("f", "k", (1,))
    disk_cache.write_entry("f", "k", [1])
    assert disk_cache.read_value("f", "k") is None and disk_cache.read_entry("f", "k") is None


def test_a_write_leaves_no_partial_file(own_cache) -> None:
    disk_cache.write_value("f", "k", ("x",))
    assert [p.name for p in (own_cache / "f").iterdir()] == [disk_cache.value_path("f", "k").name]


def test_a_failed_write_leaves_no_partial_file(own_cache, monkeypatch) -> None:
    from pathlib import Path

    def full_disk(self, data):
        Path.write_text(self, "half")  # what a write cut short leaves
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    disk_cache.write_value("f", "k", ("x",))
    monkeypatch.undo()
    assert list((own_cache / "f").iterdir()) == [] and disk_cache.read_value("f", "k") is None


def test_a_directory_where_a_value_should_be_reads_as_absent_and_is_left_alone() -> None:
    disk_cache.value_path("f", "k").mkdir(parents=True)
    assert disk_cache.read_value("f", "k") is None
    disk_cache.write_value("f", "k", (1,))
    assert disk_cache.value_path("f", "k").is_dir() and disk_cache.read_value("f", "k") is None
