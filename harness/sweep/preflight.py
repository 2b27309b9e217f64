"""Everything a sweep can be refused for before its first stage runs: each synth variant's plugin,
config and corpus (with the plugin's own check: data present, lengths that fit), the train spec
(its trackers installed, every replicate's seed one numpy takes), and the eval suite (tasks exist,
lengths parse, data files read, and the first sample of each task built at its smallest length with
the base model's tokenizer, which the trained models keep). Errors name the sweep file and the field
to fix. (The sweep's parser has checked the replicates and each synth seed.)"""

from __future__ import annotations

import json
from typing import Any

from harness.core.errors import HarnessError
from harness.sweep.config import SweepConfig, Variant

MAX_SEED = 2**32 - 1  # numpy's largest seed


def check_sweep(config: SweepConfig, variants: list[Variant]) -> None:
    """Check what `variants` (the ones that will run) need; raise on the first problem."""
    for index, variant in enumerate(config.variants):
        if variant in variants and variant.kind == "synth":
            check_synth(config, index, variant)
    sections = [config.train_of(v) for v in variants if v.kind != "none" and not config.measures_data]
    for section in {json.dumps(s, sort_keys=True): s for s in sections}.values():  # each distinct training once
        check_train(config, section)
    if not config.measures_data:
        check_eval(config)


def check_synth(config: SweepConfig, index: int, variant: Variant) -> None:
    from harness.synth.plugin import get_plugin
    from harness.synth.preflight import prepare

    where = f"{config.source}: variants[{index}] ({variant.name}).synth"
    synth = variant.synth
    try:
        get_plugin(synth["plugin"])
    except HarnessError as error:
        raise HarnessError(f"{where}.plugin: {error}") from error
    settings = synth.get("config", {})
    if not isinstance(settings, dict):
        raise HarnessError(f"{where}.config: expected a mapping of the plugin's fields, got {type(settings).__name__}")
    prepare(synth["plugin"], dict(settings), f"{where}.config", synth.get("corpus", []), f"{where}.corpus", synth.get("generator"))


def check_train(config: SweepConfig, section: dict[str, Any] | None = None) -> None:
    """A `train:` section (the sweep's, or a variant's with its overrides) as `harness train` would take it."""
    from harness.sweep.config import train_spec
    from harness.tracking import require_trackers

    section = config.train if section is None else section
    spec = train_spec(section, config.base_model, "(each variant's data)", config.source)  # errors name the file
    last = spec.seed + config.replicates - 1  # replicate k trains with seed + k; transformers' set_seed seeds numpy
    if spec.seed < 0 or last > MAX_SEED:
        span = f" (with replicates: {config.replicates}, seeds {spec.seed}..{last})" if config.replicates > 1 else ""
        raise HarnessError(f"{config.source}: train.seed = {spec.seed}{span}: training seeds must lie in 0..{MAX_SEED}")
    try:
        require_trackers(spec.report_to, "train.report_to")
    except HarnessError as error:
        raise HarnessError(f"{config.source}: train: {error}") from error


def check_eval(config: SweepConfig) -> None:
    """The eval section as `harness eval` would take it (tasks, lengths, judge), its tasks' data files read, and
    each task's first sample built at its smallest length."""
    from harness.sweep.config import eval_config
    from harness.tasks import check_tasks

    evaluation = eval_config(config.eval, config.base_model, config.source)  # errors name the file and the field
    try:
        check_tasks(evaluation.tasks, evaluation.task_options())
        _first_samples(evaluation)
    except (HarnessError, TypeError, ValueError) as error:
        raise HarnessError(f"{config.source}: eval: {error}") from error


def _first_samples(evaluation: Any) -> None:
    """Sample 0 of each task at its smallest length, counted with the base model's tokenizer (a
    transformers model; other backends are not loaded here): a length too small fails now."""
    from harness.core.backends import parse_model_spec
    from harness.core.backends.hf import load_tokenizer
    from harness.core.lengths import format_length
    from harness.core.prompt import PromptFormat
    from harness.tasks import get_task

    spec = parse_model_spec(evaluation.model)
    if spec.backend != "hf":
        return
    tokenizer = load_tokenizer(spec.model)
    options = evaluation.task_options()
    for name in evaluation.tasks:
        task = get_task(name, options)
        length = min(task.lengths_for(evaluation.lengths))
        fmt = PromptFormat.create(tokenizer, evaluation.chat_template, task.chat)
        try:
            task.make_sample(fmt, length, 0, evaluation.seed)
        except HarnessError as error:
            raise HarnessError(f"{name} at {format_length(length)} ({'lengths' if length else 'the task'}): {error}") from error
