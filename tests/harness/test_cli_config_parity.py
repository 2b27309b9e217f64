"""One schema per concept: every option of `harness eval` and `harness train` is a field of `EvalConfig` or
`TrainSpec` (or has a documented reason not to be), every field has its option (or a documented reason), and a
sweep's `eval:` / `train:` keys are those same fields, loaded by the one typed loader."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from typer.models import OptionInfo

from harness.api import FLAG_ONLY
from harness.cli import eval_command, train_command
from harness.core.errors import HarnessError
from harness.runner import EvalConfig
from harness.runner.prepare import NO_FLAG
from harness.sweep.config import EVAL_SET_BY_SWEEP, RESOURCES, TRAIN_SET_BY_SWEEP, eval_fields, parse_sweep, train_fields
from harness.train.spec import NO_OPTION, OPTION_ONLY, TrainSpec, load_train_spec

ROOT = Path(__file__).resolve().parents[2]


def _options(command: Any) -> dict[str, OptionInfo]:
    return {name: p.default for name, p in inspect.signature(command).parameters.items()}


def _names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


@pytest.mark.parametrize(("command", "cls", "option_only", "field_only"), [
    (eval_command, EvalConfig, FLAG_ONLY, NO_FLAG),
    (train_command, TrainSpec, OPTION_ONLY, NO_OPTION),
], ids=["eval", "train"])
def test_every_option_is_a_field_and_every_field_an_option(command: Any, cls: type, option_only: dict[str, str],
                                                           field_only: dict[str, str]) -> None:
    options, names = set(_options(command)), _names(cls)
    assert options - names == set(option_only), "an option with no field needs a reason (or a field)"
    assert names - options == set(field_only), "a field with no option needs a reason (or an option)"
    assert all(reason.strip() for reason in [*option_only.values(), *field_only.values()])


def test_train_options_default_to_the_spec_defaults() -> None:
    """`harness train` with only the required options builds the TrainSpec that the spec's own defaults make."""
    defaults = {name: option.default for name, option in _options(train_command).items() if name not in OPTION_ONLY}
    required = {"model": "tiny-random", "data": "d.jsonl", "stages": "256:1"}
    from harness.tracking import parse_report_to

    built = load_train_spec({**defaults, **required, "report_to": parse_report_to(defaults["report_to"])})
    assert built == load_train_spec(required)


def test_sweep_sections_are_the_dataclasses_fields() -> None:
    assert train_fields() == _names(TrainSpec) - set(TRAIN_SET_BY_SWEEP) | {RESOURCES}
    assert eval_fields() == _names(EvalConfig) - set(EVAL_SET_BY_SWEEP) | {RESOURCES}
    assert set(TRAIN_SET_BY_SWEEP) <= _names(TrainSpec) and set(EVAL_SET_BY_SWEEP) <= _names(EvalConfig)
    # what the issue named: a sweep can set these now
    assert {"gradient_checkpointing", "max_grad_norm", "lr_scheduler"} <= train_fields() and "judge" in eval_fields()


SWEEP: dict[str, Any] = {
    "name": "s", "base_model": "tiny-random",
    "variants": [{"name": "control", "kind": "none"}, {"name": "mine", "data": "x.jsonl"}],
    "train": {"stages": "256:2", "learning_rate": "1e-3", "gradient_checkpointing": True, "max_grad_norm": 0.5,
              "lr_scheduler": "linear"},
    "eval": {"tasks": ["niah_single_1"], "lengths": [256, "1k"], "limit": 2, "judge": "tiny-random"},
}


def test_a_sweep_sets_training_options_and_a_judge() -> None:
    from harness.sweep.config import eval_config, train_spec

    config = parse_sweep(SWEEP, "sweep.yaml")
    spec = train_spec(config.train, config.base_model, "x.jsonl", config.source)
    assert (spec.gradient_checkpointing, spec.max_grad_norm, spec.lr_scheduler, spec.learning_rate) == (True, 0.5, "linear", 1e-3)
    evaluation = eval_config(config.eval, "tiny-random", config.source)
    assert evaluation.judge is not None and evaluation.judge.model == "tiny-random" and evaluation.lengths == [256, 1024]
    mapped = parse_sweep({**SWEEP, "eval": {**SWEEP["eval"], "judge": {"model": "openai:j", "base_url": "http://h/v1"}}}, "s.yaml")
    judge = eval_config(mapped.eval, "tiny-random", "s.yaml").judge
    assert judge is not None and judge.backend.options() == {"base_url": "http://h/v1", "batch_size": 1}


@pytest.mark.parametrize(("section", "value", "message"), [
    ("train", {"max_grad_norm": "lots"}, "sweep.yaml: train: field 'max_grad_norm' = 'lots' is not a valid float"),
    ("train", {"grad_accum": 1.5}, "sweep.yaml: train: field 'grad_accum' = 1.5 is not a valid int"),
    ("train", {"lr_scheduler": "cosin"}, "sweep.yaml: train: bad --lr-scheduler (lr_scheduler) 'cosin'"),
    ("train", {"gradient_checkpoint": True}, "sweep.yaml: train: unknown field 'gradient_checkpoint'; did you mean"),
    ("eval", {"seed": "x"}, "sweep.yaml: eval: field 'seed' = 'x' is not a valid int"),
    ("eval", {"judge": {"model": "m", "temperature": 0}}, "sweep.yaml: eval.judge: unknown field 'temperature'"),
    ("eval", {"judge": 3}, "sweep.yaml: eval: field 'judge' = 3 is not a valid"),
    ("eval", {"limit": "many"}, "sweep.yaml: eval: field 'limit' = 'many': bad --limit"),
    ("eval", {"lengths": ["4q"]}, "sweep.yaml: eval: field 'lengths' = ['4q']"),
    ("eval", {"tasks": ["niah_singel_1"]}, "sweep.yaml: eval: field 'tasks'"),
    ("eval", {"model": "other"}, "sweep.yaml: eval: unknown field 'model'"),
])
def test_sweep_sections_name_the_file_the_field_and_the_value(section: str, value: dict[str, Any], message: str) -> None:
    with pytest.raises(HarnessError) as raised:
        parse_sweep({**SWEEP, section: {**SWEEP[section], **value}}, "sweep.yaml")
    assert str(raised.value).startswith(message), str(raised.value)


def test_train_has_a_flag_for_the_scheduler_and_the_clipping() -> None:
    spec = load_train_spec({"model": "m", "data": "d", "stages": "1k:2", "lr_scheduler": "constant_with_warmup",
                            "max_grad_norm": 0.0})
    assert spec.lr_scheduler == "constant_with_warmup" and spec.max_grad_norm == 0.0
    import typer.main

    from harness.cli import app

    train = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
    spellings = {opt for param in train.params for opt in param.opts}
    assert {"--lr-scheduler", "--max-grad-norm", "--gradient-checkpointing", "--lr", "--loss-norm"} <= spellings
    with pytest.raises(HarnessError, match="bad --lr-scheduler"):
        load_train_spec({"model": "m", "data": "d", "stages": "1k:2", "lr_scheduler": "nope"})


def test_the_command_line_holds_no_backend_specific_branch() -> None:
    """Which backend takes which option is the spec's business (harness.core.specs), not the CLI's."""
    source = (ROOT / "harness" / "cli.py").read_text()
    assert not re.search(r"""[!=]=\s*["'](openai|hf|vllm)["']|["'](openai|hf|vllm)["']\s*[!=]=|\.backend\s*(==|!=|in)\b""", source)


def test_the_eval_flags_make_the_config_the_sweep_makes() -> None:
    """The same settings through `harness eval`'s flags and through a sweep's eval section: one EvalConfig."""
    from harness.api import eval_config_from_flags
    from harness.sweep.config import eval_config

    flags = eval_config_from_flags({"model": "tiny-random", "tasks": "niah_single_1", "lengths": "256,1k", "limit": 2,
                                    "model_args": "dtype=float32", "judge": "tiny-random", "batch_size": "auto"})
    section = eval_config({"tasks": ["niah_single_1"], "lengths": [256, "1k"], "limit": 2, "model_args": {"dtype": "float32"},
                           "judge": "tiny-random", "batch_size": "auto"}, "tiny-random", "sweep.yaml")
    assert flags == section
