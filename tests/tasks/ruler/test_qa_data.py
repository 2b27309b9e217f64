"""RULER's QA loaders: original JSON files and the hub datasets' row layout (through `datasets`)."""

import json

import datasets
import pytest

from harness.core.errors import HarnessError
from harness.tasks.data import TaskOptions
from harness.tasks.ruler import qa_data
from tests.tasks.ruler.qa_fixtures import write_hotpotqa, write_squad


def test_local_files_follow_rulers_readers(tmp_path) -> None:
    write_squad(tmp_path / "squad.json", articles=2, paragraphs=3)
    write_hotpotqa(tmp_path / "hotpotqa.json", questions=3)
    squad = qa_data.load_qa("squad", TaskOptions(data_dir=tmp_path))
    assert len(squad.items) == 6  # impossible questions dropped
    assert list(squad.docs) == sorted(squad.docs)
    first = squad.items[0]
    assert first.outputs == ("Keeper0x0",) and len(first.more_context) == 2  # the article's other paragraphs
    hotpot = qa_data.load_qa("hotpotqa", TaskOptions(data_dir=tmp_path))
    assert len(hotpot.items) == 3 and len(hotpot.items[0].context) == 10
    assert all("\n" in hotpot.docs[i] for i in hotpot.items[0].context)  # "title\nsentences"


def test_hub_rows_are_converted_the_same_way(tmp_path, monkeypatch) -> None:
    write_squad(tmp_path / "squad.json", articles=2, paragraphs=3)
    raw = json.loads((tmp_path / "squad.json").read_text())
    rows = [
        {"id": qa["id"], "title": article["title"], "context": p["context"], "question": qa["question"],
         "answers": {"text": [a["text"] for a in qa["answers"]], "answer_start": [0] * len(qa["answers"])}}
        for article in raw["data"] for p in article["paragraphs"] for qa in p["qas"]
    ]
    calls = []

    def fake_load(path, name=None, split=None):
        calls.append((path, name, split))
        return datasets.Dataset.from_list(rows)

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    qa_data._load_hub_cached.cache_clear()
    from_hub = qa_data.load_qa("squad", TaskOptions())
    from_file = qa_data.load_qa("squad", TaskOptions(data_dir=tmp_path))
    assert calls == [("rajpurkar/squad_v2", None, "validation")]
    assert from_hub.items == from_file.items and from_hub.docs == from_file.docs
    qa_data._load_hub_cached.cache_clear()


def test_offline_hub_gives_a_clear_error(monkeypatch) -> None:
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    qa_data._load_hub_cached.cache_clear()
    with pytest.raises(HarnessError, match="could not load hotpotqa/hotpot_qa from the hub.*hotpotqa.json"):
        qa_data.load_qa("hotpotqa", TaskOptions())
    qa_data._load_hub_cached.cache_clear()
