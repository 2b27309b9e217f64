"""Issue 13, items 4 and 8: a bad line in the middle of a file the runner reads back costs that line
only. In `OUTPUT/samples/<task>.jsonl` (garbage, not UTF-8, truncated, JSON of the wrong shape) the
rerun computes that one sample again and keeps every other; in the sample cache a bad or tampered
line (its digest does not match) is generated again, never used. Each bad line is reported as FILE:LINE."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.core.prompt import PromptFormat
from harness.core.types import Sample
from harness.results import sample_rows
from harness.runner import EvalConfig, evaluate
from harness.runner.sample_cache import SampleCache, cache_key, entry_line, read_entries
from harness.runner.samples_log import SampleLog
from harness.sample_prompt import _cached, find_record
from harness.tasks import get_task
from harness.tasks.data import TaskOptions
from tests.fakes import ScriptedBackend


def _config() -> EvalConfig:
    return EvalConfig(model="scripted", tasks=["niah_single_1"], lengths=[256], limit=5, seed=1)


BAD = {  # a bad version of a good line (the third one)
    "garbage": lambda line: b"#### not json \x00\x01",
    "not-utf8": lambda line: line.replace(b'"output": "', b'"output": "\xff\xfe'),
    "truncated": lambda line: line[: len(line) // 2],
    "list": lambda line: b"[" + line + b"]",
    "missing-field": lambda line: json.dumps({k: v for k, v in json.loads(line).items() if k != "score"}).encode(),
    "wrong-type": lambda line: json.dumps({**json.loads(line), "score": "high"}).encode(),
    "meta-null": lambda line: json.dumps({**json.loads(line), "meta": None}).encode(),
}


def _corrupt_line(path: Path, number: int, kind: str) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = BAD[kind](lines[number - 1])
    path.write_bytes(b"\n".join(lines))


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_line_in_the_samples_log_costs_one_sample_on_rerun(tokenizer, tmp_path: Path, isolated_cache: Path,
                                                                   kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    evaluate(_config(), ScriptedBackend(tokenizer), out, None)
    log = out / "samples" / "niah_single_1.jsonl"
    before = {r.id: r for r in SampleLog(log).read()}
    bad_id = json.loads(log.read_bytes().split(b"\n")[2])["id"]
    _corrupt_line(log, 3, kind)
    capsys.readouterr()

    again = ScriptedBackend(tokenizer)
    _, result = evaluate(_config(), again, out, None)

    assert result.config["timings"]["samples_computed"] == 1 and len(again.requests) == 1
    assert f"{log}:3: skipped a bad line" in capsys.readouterr().err
    after = {r.id: r for r in SampleLog(log).read()}
    assert {i: r for i, r in after.items() if i != bad_id} == {i: r for i, r in before.items() if i != bad_id}  # kept as they were
    assert replace(after[bad_id], latency_s=0.0) == replace(before[bad_id], latency_s=0.0)  # computed again, same id and answer
    assert bad_id in after and result.results["niah_single_1"]["256"]["n"] == 5
    rows = list(sample_rows(out / "results.json"))  # what `harness check` and the boards read
    assert sorted(r["id"] for r in rows) == sorted(before)
    assert f"{log}:3:" in capsys.readouterr().err
    assert find_record(out, bad_id).id == bad_id  # `harness show --sample` skips the bad line too


def test_a_kill_mid_write_is_still_repaired(tokenizer, tmp_path: Path, isolated_cache: Path) -> None:
    out = tmp_path / "out"
    evaluate(_config(), ScriptedBackend(tokenizer), out, None)
    log = out / "samples" / "niah_single_1.jsonl"
    data = log.read_bytes()
    log.write_bytes(data[: -len(data.split(b"\n")[-2]) // 2 - 1])  # the last line torn in half, no newline
    again = ScriptedBackend(tokenizer)
    _, result = evaluate(_config(), again, out, None)
    assert result.config["timings"]["samples_computed"] == 1
    # the torn half cut off, the sample written again in its place (its measured latency aside)
    assert _without_latency(log.read_bytes()) == _without_latency(data)


def _without_latency(data: bytes) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if k != "latency_s"} for line in data.splitlines()]


# The sample cache ----------------------------------------------------------------------------------------

class Counting:
    """A task's `make_sample` that counts the indices it is asked for."""

    def __init__(self, make: Any) -> None:
        self.make, self.asked = make, []  # type: ignore[var-annotated]

    def __call__(self, fmt: Any, length: int, index: int, seed: int) -> Sample:
        self.asked.append(index)
        return self.make(fmt, length, index, seed)


def _cache(tokenizer, tmp_path: Path):  # type: ignore[no-untyped-def]
    options = TaskOptions()
    task = get_task("niah_single_1", options)
    fmt = PromptFormat.create(tokenizer, "auto")
    cache = SampleCache(tmp_path / "samples")
    first = cache.samples(task, options, fmt, 256, 5, seed=1)
    key = cache_key(task, options, fmt, 256, seed=1)
    counting = Counting(task.make_sample)
    return cache, replace(task, make_sample=counting), counting, options, fmt, first, tmp_path / "samples" / f"{key}.jsonl", key


@pytest.mark.parametrize("kind", ["garbage", "not-utf8", "truncated", "list", "missing-field", "wrong-type", "meta-null"])
def test_a_bad_sample_cache_line_costs_that_sample_only(tokenizer, tmp_path: Path, kind: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    cache, task, counting, options, fmt, first, path, key = _cache(tokenizer, tmp_path)
    lines = path.read_bytes().split(b"\n")
    row = json.loads(lines[2])
    if kind in ("missing-field", "wrong-type", "meta-null"):  # well-formed JSON of the wrong shape, digest recomputed
        broken = {k: v for k, v in row.items() if k not in ("prompt", "digest")} if kind == "missing-field" else \
            {**row, "length": "256"} if kind == "wrong-type" else {**row, "meta": None}
        lines[2] = json.dumps(broken).encode()
    elif kind == "not-utf8":
        lines[2] = lines[2].replace(b'"task": "', b'"task": "\xff')
    else:
        lines[2] = BAD[kind](lines[2])
    path.write_bytes(b"\n".join(lines))
    capsys.readouterr()
    again = cache.samples(task, options, fmt, 256, 5, seed=1)
    assert counting.asked == [2]
    assert [s.to_dict() for s in again] == [s.to_dict() for s in first]
    assert f"{path}:3: skipped a bad line" in capsys.readouterr().err
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # the cache key is unchanged


def test_a_tampered_sample_cache_entry_is_never_used(tokenizer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache, task, counting, options, fmt, first, path, key = _cache(tokenizer, tmp_path)
    lines = path.read_text().split("\n")
    row = json.loads(lines[1])
    assert row["digest"] and Sample.from_dict({k: v for k, v in row.items() if k != "digest"}) == first[1]
    row["targets"] = ["TAMPERED"]  # valid JSON, valid shape, digest left as it was
    lines[1] = json.dumps(row, sort_keys=True)
    path.write_text("\n".join(lines))
    again = cache.samples(task, options, fmt, 256, 5, seed=1)
    assert counting.asked == [1] and again[1] == first[1] and "TAMPERED" not in again[1].targets
    err = capsys.readouterr().err
    assert f"{path}:2: skipped a bad line (its digest does not match" in err
    # `harness show --sample` reads the same entries: the tampered line is passed over for the good one
    row_sample = read_entries(path, key, report=lambda message: None)[1]
    assert row_sample == first[1]


def test_a_line_copied_from_another_entry_is_refused(tokenizer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache, task, counting, options, fmt, first, path, key = _cache(tokenizer, tmp_path)
    other = tmp_path / "samples" / ("0" * 24 + ".jsonl")
    other.write_text(path.read_text())  # same lines, signed for another key
    assert read_entries(other, "0" * 24, report=lambda message: None) == {}
    assert len(read_entries(path, key)) == 5


def test_entries_without_a_digest_are_generated_again(tokenizer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache, task, counting, options, fmt, first, path, key = _cache(tokenizer, tmp_path)
    old = [json.dumps(s.to_dict(), sort_keys=True, ensure_ascii=False) for s in first]  # how lines were written before
    path.write_text("".join(line + "\n" for line in old))
    again = cache.samples(task, options, fmt, 256, 5, seed=1)
    assert counting.asked == [0, 1, 2, 3, 4] and again == first
    assert "5 sample(s) written without a digest" in capsys.readouterr().err
    counting.asked.clear()
    cache.samples(task, options, fmt, 256, 5, seed=1)
    assert counting.asked == [] and "without a digest" not in capsys.readouterr().err


def test_a_cache_line_is_the_sample_plus_its_digest(tokenizer, tmp_path: Path) -> None:
    cache, task, counting, options, fmt, first, path, key = _cache(tokenizer, tmp_path)
    lines = path.read_text().splitlines()
    assert lines == [entry_line(key, s) for s in first]
    for line, sample in zip(lines, first):
        row = json.loads(line)
        del row["digest"]
        assert json.dumps(row, sort_keys=True, ensure_ascii=False) == json.dumps(sample.to_dict(), sort_keys=True, ensure_ascii=False)


def test_show_sample_ignores_a_tampered_cache_line(tokenizer, tmp_path: Path, isolated_cache: Path) -> None:
    out = tmp_path / "out"
    evaluate(_config(), ScriptedBackend(tokenizer), out, None)
    record = SampleLog(out / "samples" / "niah_single_1.jsonl").read()[0]
    assert record.sample_cache and _cached(record.sample_cache, record) is not None
    path = isolated_cache / "samples" / f"{record.sample_cache}.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows = [{**row, "prompt": "TAMPERED"} if row["index"] == record.index else row for row in rows]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert _cached(record.sample_cache, record) is None  # `harness show` generates it again instead


@pytest.mark.parametrize("fault", ["read", "write"])
def test_a_sample_cache_that_cannot_be_used_is_said_once_and_the_samples_are_built(
        tokenizer, tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.runner import sample_cache

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "samples"))

    monkeypatch.setattr(sample_cache, "read_entries" if fault == "read" else "append_jsonl", denied)
    said: list[str] = []
    options = TaskOptions()
    task = get_task("niah_single_1", options)
    fmt = PromptFormat.create(tokenizer, "auto")
    cache = SampleCache(tmp_path / "samples", report=said.append)
    first = cache.samples(task, options, fmt, 256, 3, seed=1)
    again = cache.samples(task, options, fmt, 512, 2, seed=1)
    assert [s.index for s in first] == [0, 1, 2] and [s.length for s in again] == [512, 512]
    assert len(said) == 1 and f"cannot be {fault if fault == 'read' else 'written'} (Permission denied)" in said[0]
