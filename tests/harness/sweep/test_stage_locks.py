"""A sweep stage holds its stage directory's lock while the train and synth runs inside it take their own
output locks (`harness train`, `harness synth run` refuse a second writer): the two must never be the same
lock file, or the stage would refuse (or wait for) itself."""

from __future__ import annotations

import json
from pathlib import Path

from harness.sweep.stages import Stage, run_stage, stage_dir


def test_synth_and_train_stages_run_inside_their_locked_stage_directories(tiny_path: Path, tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    synth = Stage("synth", {"plugin": "needles", "config": {"tokenizer": str(tiny_path), "examples": 4, "lengths": [256],
                                                            "tasks": ["niah_single_1"]}, "seed": 0})
    done = run_stage(synth, root, log=lambda _: None)
    assert done["status"] == "done" and done["output"]["records"] == 4
    train = Stage("train", {"base_model": "tiny-random", "stages": "128:2"}, needs=(synth.id,))
    trained = run_stage(train, root, log=lambda _: None)
    assert trained["status"] == "done"
    assert json.loads((Path(trained["output"]["model"]) / "manifest.json").read_text())["finished"]
    for stage, output in ((synth, "data"), (train, "model")):  # each output lock beside, not in, the stage's own
        assert (stage_dir(root, stage) / output / ".lock").exists() and (stage_dir(root, stage) / ".lock").exists()
