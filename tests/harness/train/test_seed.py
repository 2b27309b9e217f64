"""`TrainSpec.seed` governs a run: the LoRA adapters' initial weights (seeded before they are built, whatever
ran earlier in the process, as in a sweep), and the Trainer's `seed` (dropout) and `data_seed` (data order)."""

from __future__ import annotations

from pathlib import Path

import torch

from harness.train.spec import TrainSpec, parse_lora, parse_stages
from harness.train.trainer import ListDataset, load_model, make_trainer


def _lora_weights(tiny_path: Path, seed: int) -> dict[str, torch.Tensor]:
    spec = TrainSpec(model="tiny-random", data="unused.jsonl", stages=parse_stages("128:1"), lora=parse_lora("r=4"), seed=seed)
    model = load_model(str(tiny_path), spec, spec.stages[0])
    return {name: p.detach().clone() for name, p in model.named_parameters() if "lora_A" in name}


def test_the_seed_draws_the_lora_initialisation_whatever_ran_before(tiny_path: Path) -> None:
    torch.manual_seed(123)  # an earlier stage in the same process left the global RNG here
    first = _lora_weights(tiny_path, 0)
    torch.rand(1000)
    again = _lora_weights(tiny_path, 0)
    other = _lora_weights(tiny_path, 1)
    assert first and first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[name], again[name]) for name in first)
    assert not any(torch.equal(first[name], other[name]) for name in first)


def test_the_trainer_takes_the_seed_for_dropout_and_data_order(tiny_path: Path, tmp_path: Path) -> None:
    spec = TrainSpec(model="tiny-random", data="unused.jsonl", stages=parse_stages("128:1"), seed=7)
    model = load_model(str(tiny_path), spec, spec.stages[0])
    trainer = make_trainer(model, ListDataset([]), None, spec, spec.stages[0], tmp_path / "stage")
    assert trainer.args.seed == 7 and trainer.args.data_seed == 7
