"""Where HELMET's files come from: the local data tree (--data-dir / --task-args helmet=DIR), else the pinned hub
archive extracted once into the cache; bad files name file, line and field."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.tasks.data import TaskOptions
from harness.tasks.helmet import source
from tests.tasks.helmet.fixtures import write_jsonl

FIELDS = (("question", str), ("answers", list))


def test_local_tree_by_data_dir_and_by_task_arg(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "helmet" / "kilt" / "x.jsonl", [{"question": "q", "answers": ["a"]}])
    by_dir = source.read_rows(TaskOptions(data_dir=tmp_path), "data/kilt/x.jsonl", FIELDS)
    by_arg = source.read_rows(TaskOptions(args={"helmet": str(tmp_path / "helmet")}), "kilt/x.jsonl", FIELDS)
    assert by_dir.rows == by_arg.rows == ({"question": "q", "answers": ["a"]},)
    assert by_dir.origin.kind == "file" and by_dir.origin.location == str((tmp_path / "helmet/kilt/x.jsonl").resolve())
    assert len(by_dir.digest) == 16


def test_json_files_are_lists_or_data_objects(tmp_path: Path) -> None:
    folder = tmp_path / "helmet" / "alce"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps([{"question": "q", "answers": []}]))
    (folder / "b.json").write_text(json.dumps({"data": [{"question": "r", "answers": []}]}))
    options = TaskOptions(data_dir=tmp_path)
    assert source.read_rows(options, "alce/a.json", FIELDS).rows[0]["question"] == "q"
    assert source.read_rows(options, "alce/b.json", FIELDS).rows[0]["question"] == "r"
    (folder / "c.json").write_text(json.dumps([{"question": 1, "answers": []}]))
    with pytest.raises(HarnessError, match=r"c.json: item 0: field 'question'"):
        source.read_rows(options, "alce/c.json", FIELDS)


def test_missing_and_bad_files_name_file_line_and_field(tmp_path: Path) -> None:
    options = TaskOptions(data_dir=tmp_path)
    write_jsonl(tmp_path / "helmet" / "kilt" / "ok.jsonl", [{"question": "q", "answers": []}])
    with pytest.raises(HarnessError, match=r"helmet/kilt/nope.jsonl does not exist"):
        source.read_rows(options, "kilt/nope.jsonl")
    bad = tmp_path / "helmet" / "kilt" / "bad.jsonl"
    bad.write_text('{"question": "q", "answers": []}\n\n{"question": "q"}\n')
    with pytest.raises(HarnessError, match=r"bad.jsonl:3: missing field 'answers'"):
        source.read_rows(options, "kilt/bad.jsonl", FIELDS)
    bad.write_text('{"question": "q", "answers": []}\nnot json\n')
    table = source.open_rows(options, "kilt/bad.jsonl", FIELDS)
    assert len(table) == 2 and table.row(0)["question"] == "q"
    with pytest.raises(HarnessError, match=r"bad.jsonl:2: not a JSON object"):
        table.row(1)
    with pytest.raises(HarnessError, match="bad data path"):
        source.read_rows(options, "../etc/passwd")
    (tmp_path / "helmet" / "empty.jsonl").write_text("\n")
    with pytest.raises(HarnessError, match="empty"):
        source.read_rows(options, "empty.jsonl")


def test_values_reads_a_field_without_parsing_and_checks_it(tmp_path: Path) -> None:
    rows = [{"ctxs": [{"text": 'say "qid": 9', "qid": "nested"}], "qid": "q1"}, {"qid": "q2", "ctxs": []},
            {"ctxs": [{"text": "x" * 100_000, "qid": "deep"}], "qid": "q3"}]  # past the line's head
    write_jsonl(tmp_path / "helmet" / "m.jsonl", rows)
    table = source.open_rows(TaskOptions(data_dir=tmp_path), "m.jsonl")
    assert table.values("qid") == ["q1", "q2", "q3"]  # the top-level key, never a nested one
    table.check_value(0, "qid", table.row(0), "q1")
    with pytest.raises(HarnessError, match="m.jsonl:1: field 'qid'"):
        table.check_value(0, "qid", table.row(0), "q9")
    write_jsonl(tmp_path / "helmet" / "n.jsonl", [{"other": 1}])
    with pytest.raises(HarnessError, match="n.jsonl:1: missing field 'qid'"):
        source.open_rows(TaskOptions(data_dir=tmp_path), "n.jsonl").values("qid")


def test_first_present_picks_the_largest_local_file(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "helmet" / "json_kv" / "test_k220_dep6.jsonl", [{}])
    files = ("json_kv/test_k1800_dep6.jsonl", "json_kv/test_k220_dep6.jsonl")
    assert source.first_present(TaskOptions(data_dir=tmp_path), files) == files[1]
    assert source.first_present(TaskOptions(), files) == files[0]  # the hub archive has them all
    with pytest.raises(HarnessError, match="holds none of"):
        source.first_present(TaskOptions(data_dir=tmp_path), files[:1])


def archive(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_hub_archive_is_extracted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)
    tar = archive(tmp_path / "data.tar.gz", {"data/kilt/x.jsonl": '{"question": "q", "answers": []}\n'})
    calls: list[int] = []
    monkeypatch.setattr(source, "download", lambda: calls.append(1) or tar)
    rows = source.read_rows(TaskOptions(), "kilt/x.jsonl", FIELDS)
    assert rows.rows[0]["question"] == "q" and calls == [1]
    assert rows.origin.kind == "hub" and rows.origin.location == f"{source.HUB_ID}@{source.REVISION}:data/kilt/x.jsonl"
    assert source.locate(TaskOptions(), "kilt/x.jsonl").path.is_relative_to(tmp_path / "cache" / "helmet")
    assert calls == [1]  # extracted once
    with pytest.raises(HarnessError, match="has no data/kilt/y.jsonl"):
        source.locate(TaskOptions(), "kilt/y.jsonl")


def test_offline_hub_names_the_local_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HARNESS_DATA_DIR", raising=False)

    def offline(**kwargs: object) -> str:
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(HarnessError, match=r"could not fetch princeton-nlp/HELMET.*--data-dir D with D/helmet/"):
        source.locate(TaskOptions(), "kilt/x.jsonl")


def test_a_tar_without_data_folder_is_refused(tmp_path: Path) -> None:
    tar = archive(tmp_path / "other.tar.gz", {"readme.txt": "hi"})
    with pytest.raises(HarnessError, match="holds no data/ folder"):
        source.extract(tar, tmp_path / "target")
    assert not (tmp_path / "target").exists()
