import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from harness.core.errors import HarnessError
from harness.train.rope import parse_rope, rope_parameters, scaled_max_positions


@pytest.mark.parametrize("text", ["yarn", "yarn:x", "foo:2", "linear:0.5", "theta:-1"])
def test_bad_specs_are_named(text: str) -> None:
    with pytest.raises(HarnessError, match="--rope"):
        parse_rope(text)


def test_parameters_per_type(tiny_path) -> None:
    config = AutoConfig.from_pretrained(tiny_path)
    theta = config.rope_parameters["rope_theta"]
    assert rope_parameters(parse_rope("linear:4"), config) == {"rope_type": "linear", "factor": 4.0, "rope_theta": theta}
    yarn = rope_parameters(parse_rope("yarn:4"), config)
    assert yarn["rope_type"] == "yarn" and yarn["original_max_position_embeddings"] == 8192 and yarn["beta_fast"] == 32.0
    assert rope_parameters(parse_rope("theta:8e6"), config) == {"rope_type": "default", "rope_theta": 8e6}
    assert rope_parameters(parse_rope("llama3:8"), config)["high_freq_factor"] == 4.0
    assert rope_parameters(None, config, theta=5e5)["rope_theta"] == 5e5
    assert scaled_max_positions(parse_rope("yarn:4"), config, 2048) == 32768
    assert scaled_max_positions(parse_rope("theta:1e6"), config, 16384) == 16384


def test_every_type_builds_and_changes_long_range_logits(tiny_path) -> None:
    config = AutoConfig.from_pretrained(tiny_path)
    ids = torch.arange(1, 400)[None]
    base = AutoModelForCausalLM.from_pretrained(tiny_path)(ids).logits[0, -1]
    for text in ("linear:4", "dynamic:4", "yarn:4", "llama3:4", "theta:1e7"):
        spec = parse_rope(text)
        model = AutoModelForCausalLM.from_pretrained(
            tiny_path, rope_parameters=rope_parameters(spec, config), max_position_embeddings=scaled_max_positions(spec, config, 0)
        )
        assert model.config.rope_parameters["rope_type"] == ("default" if text.startswith("theta") else text.split(":")[0])
        if not text.startswith("dynamic"):  # dynamic NTK only kicks in beyond the original length
            assert not torch.allclose(model(ids).logits[0, -1], base)
