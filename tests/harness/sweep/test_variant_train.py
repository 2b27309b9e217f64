"""A variant's own `train:` fields: the same data trained two ways (stepwise against one jump)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.core.errors import HarnessError
from harness.sweep.config import parse_sweep
from harness.sweep.preflight import check_train
from harness.sweep.stages import plan_variant
from tests.harness.sweep.test_replicates import BEFORE
from tests.harness.sweep.test_sweep import NEEDLES, SWEEP


def _sweep(*variants: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {**SWEEP, "variants": [{"name": "control", "kind": "none"}, *variants], **top}


def test_two_trainings_of_one_synthesis_share_the_synth_stage_and_differ_in_train() -> None:
    config = parse_sweep(_sweep({"name": "jump", "synth": NEEDLES},
                                {"name": "steps", "synth": NEEDLES, "train": {"stages": "128:2,256:2"}}), "sweep.yaml")
    jump, steps = (plan_variant(config, v) for v in config.variants[1:])
    assert jump[0].id == steps[0].id  # one synthesis
    assert jump[1].params["stages"] == "256:4" and steps[1].params["stages"] == "128:2,256:2"
    assert jump[1].params["learning_rate"] == steps[1].params["learning_rate"] == 1e-3  # the sweep's other fields
    assert jump[1].id != steps[1].id and jump[2].id != steps[2].id


def test_a_variant_without_train_keeps_its_stage_ids() -> None:
    config = parse_sweep(_sweep({"name": "needles", "synth": NEEDLES}), "sweep.yaml")
    assert [s.id for s in plan_variant(config, config.variants[1])] == BEFORE["needles"]


def test_every_variant_may_bring_its_own_stages() -> None:
    top = {k: v for k, v in SWEEP["train"].items() if k != "stages"}
    config = parse_sweep(_sweep({"name": "a", "synth": NEEDLES, "train": {"stages": "256:4"}}, train=top), "sweep.yaml")
    assert config.train_of(config.variants[1])["stages"] == "256:4"
    check_train(config, config.train_of(config.variants[1]))


@pytest.mark.parametrize(("variant", "top", "message"), [
    ({"name": "c", "kind": "none", "train": {"stages": "256:4"}}, {},
     r"variants\[1\] \(c\): `train:` is for variants that train"),
    ({"name": "a", "synth": NEEDLES, "train": {"stage": "256:4"}}, {}, r"variants\[1\]\.train.*unknown field 'stage'"),
    ({"name": "a", "synth": NEEDLES, "train": ["256:4"]}, {}, r"variants\[1\]\.train: expected a mapping"),
    ({"name": "a", "synth": NEEDLES, "train": {"stages": "256:x"}}, {}, r"variant 'a'.*256:x"),
    ({"name": "a", "synth": NEEDLES}, {"train": {"learning_rate": 1e-3}}, r"train.stages .* \('a' has none\)"),
])
def test_bad_variant_training_names_the_file_the_variant_and_the_field(variant: dict[str, Any], top: dict[str, Any],
                                                                       message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        parse_sweep(_sweep(variant, **top), "sweep.yaml")
