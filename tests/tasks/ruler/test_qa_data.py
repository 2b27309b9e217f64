"""RULER's QA loaders: original JSON files and the hub datasets' row layout (through `datasets`)."""

import json
import sys

import datasets
import pytest

from harness.core.errors import HarnessError
from harness.tasks.data import TaskOptions
from harness.tasks.ruler import qa_data
from tests.tasks.ruler.qa_fixtures import write_hotpotqa, write_squad


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test parses its files itself: an empty cache dir, nothing kept in memory from another test."""
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    qa_data._from_file.cache_clear()
    yield tmp_path / "cache"
    qa_data._from_file.cache_clear()


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


def _squad_variants() -> list[object]:
    """A valid SQuAD file and each way to break one level of it (wrong type, missing field, bool for str)."""
    def doc(**change: object) -> dict[str, object]:
        answer: dict[str, object] = {"text": "a"}
        qa: dict[str, object] = {"question": "q", "answers": [answer]}
        paragraph: dict[str, object] = {"context": "c", "qas": [qa]}
        article: dict[str, object] = {"paragraphs": [paragraph]}
        levels = {"answer": answer, "qa": qa, "paragraph": paragraph, "article": article}
        for where, (key, value) in change.items():
            if value is KeyError:
                del levels[where][key]
            else:
                levels[where][key] = value
        return {"data": [article]}

    broken = [doc(answer=("text", 1)), doc(answer=("text", KeyError)), doc(qa=("answers", {})),
              doc(qa=("answers", "")), doc(qa=("question", True)), doc(paragraph=("qas", "")),
              doc(paragraph=("context", None)), doc(article=("paragraphs", {})), {"data": {}}, {"data": ""}, [],
              {"data": [[]]}, {"data": [{"paragraphs": ["x"]}]}, {"data": [{"paragraphs": [{"context": "c", "qas": [1]}]}]}]
    return [doc(), {"data": []}, *broken]


def test_the_quick_squad_check_agrees_with_the_detailed_one() -> None:
    """`_squad_ok` passes exactly the files `_check_squad`'s field-by-field walk passes."""
    for raw in _squad_variants():
        quick = qa_data._squad_ok(raw)
        try:
            for i, article in enumerate(qa_data._field(raw, "data", list, "f")):  # the walk, without the shortcut
                for j, paragraph in enumerate(qa_data._field(article, "paragraphs", list, f"f[{i}]")):
                    qa_data._field(paragraph, "context", str, f"f[{i}][{j}]")
                    for qa in qa_data._field(paragraph, "qas", list, f"f[{i}][{j}]"):
                        qa_data._field(qa, "question", str, "q")
                        for answer in qa_data._field(qa, "answers", list, "q"):
                            qa_data._field(answer, "text", str, "a")
            slow = True
        except HarnessError:
            slow = False
        assert quick == slow, raw
        if not slow:
            with pytest.raises(HarnessError):
                qa_data._check_squad(raw, "f")


def test_loading_pauses_the_garbage_collector_and_restores_it(tmp_path, monkeypatch) -> None:
    import gc

    seen: list[bool] = []
    real = qa_data._squad_rows
    monkeypatch.setattr(qa_data, "_squad_rows", lambda rows: (seen.append(gc.isenabled()), real(rows))[1])
    write_squad(tmp_path / "squad.json", articles=2, paragraphs=3)
    assert gc.isenabled()
    qa_data.load_qa("squad", TaskOptions(data_dir=tmp_path))
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:  # left off by its owner: stays off
        qa_data._from_file.cache_clear()
        qa_data.load_qa("squad", TaskOptions(data_dir=tmp_path))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_parsed_file_is_kept_by_content_and_read_back_without_parsing(tmp_path, own_cache, monkeypatch) -> None:
    write_hotpotqa(tmp_path / "hotpotqa.json", questions=4)
    first = qa_data.load_qa("hotpotqa", TaskOptions(data_dir=tmp_path))
    kept = list((own_cache / "ruler_qa").iterdir())
    assert [p.name for p in kept] == [f"hotpotqa-{first.digest}-v{qa_data.PARSE_VERSION}-py{sys.version_info[0]}"
                                      f"{sys.version_info[1]}.marshal"]
    monkeypatch.setattr(qa_data, "parse_json", lambda *a: pytest.fail("parsed again"))
    qa_data._from_file.cache_clear()
    again = qa_data.load_qa("hotpotqa", TaskOptions(data_dir=tmp_path))
    assert (again.items, again.docs, again.digest, again.origin) == (first.items, first.docs, first.digest, first.origin)


def test_a_changed_file_is_parsed_again(tmp_path) -> None:
    write_hotpotqa(tmp_path / "hotpotqa.json", questions=4)
    first = qa_data.load_qa("hotpotqa", TaskOptions(data_dir=tmp_path))
    write_hotpotqa(tmp_path / "hotpotqa.json", questions=5)
    qa_data._from_file.cache_clear()
    second = qa_data.load_qa("hotpotqa", TaskOptions(data_dir=tmp_path))
    assert len(first.items) == 4 and len(second.items) == 5 and first.digest != second.digest


@pytest.mark.parametrize("damage", ["truncated", "flipped", "foreign", "empty", "not a pair", "short rows"])
def test_a_damaged_or_foreign_cache_value_is_parsed_again(tmp_path, own_cache, damage: str) -> None:
    from harness.tasks import disk_cache

    write_squad(tmp_path / "squad.json", articles=2, paragraphs=3)
    good = qa_data.load_qa("squad", TaskOptions(data_dir=tmp_path))
    (path,) = (own_cache / "ruler_qa").iterdir()
    key = path.name.removesuffix(f"-py{sys.version_info[0]}{sys.version_info[1]}.marshal")
    blob = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "flipped":
        path.write_bytes(blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:])
    elif damage == "foreign":  # checksummed, not marshal
        payload = b"not marshal"
        path.write_bytes(__import__("hashlib").sha256(payload).digest() + payload)
    else:  # well-formed marshal values of the wrong shape
        value = {"empty": ((), ()), "not a pair": (1, 2, 3), "short rows": (("d",), (("q", ("a",)),))}[damage]
        disk_cache.write_value("ruler_qa", key, value)
    qa_data._from_file.cache_clear()
    again = qa_data.load_qa("squad", TaskOptions(data_dir=tmp_path))
    assert (again.items, again.docs, again.digest) == (good.items, good.docs, good.digest)
    qa_data._from_file.cache_clear()  # and the value was written anew
    assert qa_data._from_value(disk_cache.read_value("ruler_qa", key)) is not None


def test_a_bad_file_is_never_kept(tmp_path, own_cache) -> None:
    (tmp_path / "hotpotqa.json").write_text(json.dumps([{"question": "q", "answer": 1, "context": []}]))
    for _ in range(2):
        qa_data._from_file.cache_clear()
        with pytest.raises(HarnessError, match=r"hotpotqa.json: \[0\].answer"):
            qa_data.load_qa("hotpotqa", TaskOptions(data_dir=tmp_path))
    assert not (own_cache / "ruler_qa").exists()
