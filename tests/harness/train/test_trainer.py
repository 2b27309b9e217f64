"""The trainer end to end on the tiny model: stages, RoPE in the saved config, eval, resume, LoRA, loss."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from harness.core.backends.hf import HFBackend
from harness.runner import EvalConfig, evaluate
from harness.train.spec import TrainSpec, parse_lora, parse_rope, parse_stages
from harness.train.trainer import per_sequence_loss, train


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    import random

    rng = random.Random(0)
    path = tmp_path_factory.mktemp("train") / "data.jsonl"
    with open(path, "w") as f:
        for _ in range(40):
            n = rng.randint(1, 25)
            code = rng.randint(1000, 9999)
            f.write(json.dumps({"prompt": "The grass is green. " * n + f"The code is {code}. The code is",
                                "completion": f" {code}."}) + "\n")
    return path


@pytest.mark.slow
def test_two_stages_write_rope_and_evaluate(tiny_path, data_file, tmp_path) -> None:
    spec = TrainSpec(model="tiny-random", data=str(data_file), stages=parse_stages("256:4,512:3:2e5"), rope=parse_rope("yarn:2"),
                     learning_rate=1e-3, save_steps=2)
    out = train(spec, tmp_path / "ckpt")
    config = json.loads((out / "config.json").read_text())
    assert config["rope_parameters"]["rope_type"] == "yarn" and config["rope_parameters"]["factor"] == 2.0
    assert config["rope_parameters"]["rope_theta"] == 2e5  # the second stage's theta
    assert config["max_position_embeddings"] == 16384
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["finished"] and set(manifest["stages"]) == {"0", "1"}
    assert manifest["stages"]["0"]["real_token_share"] > 0.9 and manifest["data_digest"]
    backend = HFBackend(str(out))
    _, result = evaluate(EvalConfig(model=str(out), tasks=["niah_single_1"], lengths=[512], limit=2), backend,
                         tmp_path / "eval", None)
    assert result.results["niah_single_1"]["512"]["n"] == 2
    assert train(spec, out) == out  # finished: nothing to redo


def test_another_spec_into_the_same_output_is_refused(tiny_path, data_file, tmp_path) -> None:
    from harness.core.errors import HarnessError
    from harness.train.trainer import _claim

    _claim(tmp_path, TrainSpec(model="tiny-random", data=str(data_file), stages=parse_stages("256:2")))
    with pytest.raises(HarnessError, match="another spec"):
        _claim(tmp_path, TrainSpec(model="tiny-random", data=str(data_file), stages=parse_stages("256:3")))


@pytest.mark.slow
def test_kill_mid_training_then_resume(tiny_path, data_file, tmp_path) -> None:
    out = tmp_path / "ckpt"
    args = [sys.executable, "-m", "harness", "train", "--model", "tiny-random", "--data", str(data_file), "--stages", "256:300",
            "--save-steps", "5", "--output", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stage = out / "stages" / "00-256"
    deadline = time.time() + 180
    while time.time() < deadline and not list(stage.glob("checkpoint-10")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(stage.glob("checkpoint-*")) and not (stage / "final").exists()
    resumed = subprocess.run(args, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming 00-256 from checkpoint-" in resumed.stdout
    assert json.loads((out / "manifest.json").read_text())["finished"]


@pytest.mark.slow
def test_lora_merges_into_a_plain_checkpoint(tiny_path, data_file, tmp_path) -> None:
    spec = TrainSpec(model="tiny-random", data=str(data_file), stages=parse_stages("256:3"), lora=parse_lora("r=4,alpha=8"),
                     learning_rate=1e-2, save_steps=3)
    out = train(spec, tmp_path / "lora")
    files = {p.name for p in out.iterdir()}
    assert "adapter_config.json" not in files and "model.safetensors" in files
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_path)
    assert not torch.allclose(merged.model.layers[0].self_attn.q_proj.weight, base.model.layers[0].self_attn.q_proj.weight)


def test_packed_examples_do_not_attend_across_boundaries(tiny_path) -> None:
    """The training forward pass (train mode, as load_model configures it) keeps packed examples apart."""
    from harness.train.trainer import load_model

    spec = TrainSpec(model="tiny-random", data="unused", stages=parse_stages("256:1"))
    model = load_model(str(tiny_path), spec, spec.stages[0])
    model.train()
    a, b = [1, 500, 600, 700, 800], [1, 900, 1000, 1100]
    alone = model(torch.tensor([b])).logits[0]
    packed = model(torch.tensor([a + b]), position_ids=torch.tensor([list(range(5)) + list(range(4))])).logits[0, 5:]
    assert torch.allclose(alone, packed, atol=1e-5)


def test_per_sequence_loss_is_the_mean_of_example_means(tiny_backend) -> None:
    model = tiny_backend.model
    a, b = [1, 500, 600, 700, 800, 900], [1, 1000, 1100]
    inputs = {"input_ids": torch.tensor([a + b]), "position_ids": torch.tensor([list(range(6)) + list(range(3))]),
              "labels": torch.tensor([[-100] + a[1:] + [-100] + b[1:]]), "use_cache": False}
    loss = per_sequence_loss(model, dict(inputs))
    ce = torch.nn.functional.cross_entropy
    la = ce(model(torch.tensor([a])).logits[0, :-1], torch.tensor(a[1:]))
    lb = ce(model(torch.tensor([b])).logits[0, :-1], torch.tensor(b[1:]))
    assert torch.isclose(loss, (la + lb) / 2, atol=1e-5)


class _Killed(Exception):
    """Stands for a kill right after a checkpoint was written."""


@pytest.mark.slow
def test_a_resumed_stage_records_the_loss_of_the_whole_stage(tiny_path, data_file, tmp_path, monkeypatch, capsys) -> None:
    """20 steps log every 2; the kill comes after checkpoint-9 (not a logging step), so the resumed
    `train()` alone would report the mean of steps 10-20 only."""
    from transformers import TrainerCallback

    import harness.train.trainer as trainer_module

    spec = TrainSpec(model="tiny-random", data=str(data_file), stages=parse_stages("128:20"), learning_rate=1e-3, save_steps=3)
    whole = json.loads((train(spec, tmp_path / "whole") / "manifest.json").read_text())["stages"]["0"]["train_loss"]

    class KillAfter9(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if state.global_step == 9:
                raise _Killed

    make_trainer = trainer_module.make_trainer

    def killed_trainer(*args, **kwargs):  # type: ignore[no-untyped-def]
        trainer = make_trainer(*args, **kwargs)
        trainer.add_callback(KillAfter9())
        return trainer

    monkeypatch.setattr(trainer_module, "make_trainer", killed_trainer)
    with pytest.raises(_Killed):
        train(spec, tmp_path / "resumed")
    monkeypatch.setattr(trainer_module, "make_trainer", make_trainer)
    capsys.readouterr()
    out = train(spec, tmp_path / "resumed")
    assert "resuming 00-128 from checkpoint-9" in capsys.readouterr().out
    stage = json.loads((out / "manifest.json").read_text())["stages"]["0"]
    assert stage["train_loss"] == pytest.approx(whole, rel=1e-5)
    history = json.loads(next((out / "stages" / "00-128").glob("checkpoint-20/trainer_state.json")).read_text())["log_history"]
    after_resume = [e["loss"] for e in history if "loss" in e and e["step"] > 9]
    assert abs(sum(after_resume) / len(after_resume) - whole) > 1e-3  # the loss of the resumed steps alone differs


def test_stage_loss_weights_each_logged_loss_by_its_steps() -> None:
    from harness.train.trainer import stage_loss

    history = [{"loss": 4.0, "step": 2}, {"loss": 3.0, "step": 3}, {"loss": 1.0, "step": 6}, {"train_loss": 9.0, "step": 6}]
    assert stage_loss(history) == pytest.approx((4.0 * 2 + 3.0 + 1.0 * 3) / 6)
    assert stage_loss([]) is None
