"""A sweep stage whose `stage.json` cannot be read (garbage, not UTF-8, not an object) counts as not run:
it is reported and run again, never a traceback, and the other stages stay reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sweep.stages import STAGE_FILE, Stage, read_stage, run_stage, stage_dir


@pytest.mark.parametrize("content", [b"{not json", b'{"status": "done"\xff}', b'["done"]', b""])
def test_an_unreadable_stage_file_reruns_the_stage(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    stage = Stage("data", {"path": str(tmp_path / "d.jsonl"), "digest": "x"})
    other = Stage("data", {"path": str(tmp_path / "e.jsonl"), "digest": "y"})
    logs: list[str] = []
    assert run_stage(stage, tmp_path, logs.append)["cached"] is False
    assert run_stage(other, tmp_path, logs.append)["cached"] is False
    path = stage_dir(tmp_path, stage) / STAGE_FILE
    path.write_bytes(content)
    assert read_stage(tmp_path, stage.id) is None
    assert f"{path}:" in capsys.readouterr().err
    again = run_stage(stage, tmp_path, logs.append)
    assert again["cached"] is False and again["status"] == "done"
    assert run_stage(other, tmp_path, logs.append)["cached"] is True
    assert read_stage(tmp_path, stage.id)["status"] == "done"  # type: ignore[index]
