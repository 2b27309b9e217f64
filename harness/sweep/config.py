"""A sweep config: data variants x one base model x one train spec x one eval suite (YAML).

```yaml
name: tiny-demo
base_model: tiny
replicates: 3                                        # train each variant 3 times: train.seed, +1, +2
replicate_synth: false                               # true: each replicate also synthesizes with synth.seed + k
variants:
  - {name: control, kind: none}                      # the base model, not fine-tuned
  - name: needles-1k
    synth: {plugin: needles, config: {tokenizer: tiny, lengths: [512, 1024]}}
  - {name: mine, data: data/mine.jsonl}              # an existing dataset
  - name: mine-stepwise                              # the same data, its own training: `train:` overrides
    data: data/mine.jsonl                            # the sweep's fields for this variant only
    train: {stages: "1k:150:2e5,2k:75:4e5"}
train: {rope: "yarn:4", stages: "2k:300", learning_rate: 1e-3, gradient_checkpointing: true}
eval: {tasks: [niah_single_1, ruler], lengths: [512, 1k, 2k], limit: 20, judge: openai:gpt-4o}
```

`train:` holds `TrainSpec`'s fields and `eval:` `EvalConfig`'s (the same names as `harness train` and
`harness eval` options), each loaded by the one typed loader (`harness.core.configfile.load_dataclass`): an
unknown or ill-typed field is named with the file and its value. The sections are kept as written, too:
a stage's key hashes them (`harness.sweep.stages`), so existing sweeps keep their cached stages.

A sweep without `eval:` (and without `train:`) measures data only: every variant synthesizes, each replicate
with its own seed (`synth.seed + k`), and its board reads the statistics of each synthesis (`stats.json`; a
board's `stat:` columns).

`replicates: N` (default 1) trains every variant N times, replicate k with `seed: train.seed + k` (data order,
LoRA/new-parameter initialisation, dropout; see `harness.train.trainer.load_model`); with `replicate_synth: true`
replicate k also synthesizes its data with `synth.seed + k`, else the replicates share one synthesis. Replicate 0
is today's single run, keys and all, so raising N later runs only the new replicates. The control trains
nothing: it has one replicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import HarnessError
from harness.core.pathnames import safe_component
from harness.core.redaction import find_secrets
from harness.core.registry import unknown_field

if TYPE_CHECKING:
    from harness.runner import EvalConfig
    from harness.train.spec import TrainSpec

SYNTH_FIELDS = {"plugin", "config", "generator", "generator_args", "corpus", "seed", "resources"}
RESOURCES = "resources"  # every section's: what a stage asks the executor for (Ray), not part of its work
# the fields of TrainSpec / EvalConfig that a sweep sets itself, not its YAML (the parity test reads these)
TRAIN_SET_BY_SWEEP = {"model": "the sweep's base_model", "data": "each variant's data (synthesized or a file)",
                      "extra": "free-form notes of the spec; no command sets them"}
EVAL_SET_BY_SWEEP = {"model": "the base model (control) or the variant's trained model",
                     "use_sample_cache": "the sample cache is always on in a sweep",
                     "max_length": "set by `max` among eval.lengths"}


@dataclass(frozen=True)
class Variant:
    """One row of the board: `kind` none (the control), synth (a plugin run) or data (a file)."""

    name: str
    kind: str
    synth: dict[str, Any] = field(default_factory=dict)
    data: str | None = None
    train: dict[str, Any] = field(default_factory=dict)  # fields of the sweep's `train:` this variant sets otherwise


@dataclass(frozen=True)
class SweepConfig:
    name: str
    base_model: str
    variants: tuple[Variant, ...]
    train: dict[str, Any]
    eval: dict[str, Any]
    source: str = ""
    replicates: int = 1  # training runs per variant that trains (`replicates:` in the YAML)
    replicate_synth: bool = False  # whether those runs synthesize their own data too

    def train_of(self, variant: Variant) -> dict[str, Any]:
        """The `train:` section `variant` trains with: the sweep's, with the variant's own fields over it."""
        return {**self.train, **variant.train}

    def replicates_of(self, variant: Variant) -> int:
        """How many replicates `variant` has: the control (kind none) trains nothing, so one."""
        return 1 if variant.kind == "none" else self.replicates

    @property
    def measures_data(self) -> bool:
        """No eval: the variants are only synthesized, and compared by their data's statistics."""
        return not self.eval

    @property
    def synth_per_replicate(self) -> bool:
        """Whether each replicate synthesizes its own data (`replicate_synth: true`, or a data sweep)."""
        return self.replicate_synth or self.measures_data

    def seeds(self, variant: Variant, replicate: int) -> tuple[int | None, int | None]:
        """(train seed, synth seed) of a replicate of `variant`; None where the variant has no such stage."""
        if variant.kind == "none":
            return None, None
        train = None if self.measures_data else int(self.train.get("seed", 0)) + replicate
        if variant.kind != "synth":
            return train, None
        return train, int(variant.synth.get("seed", 0)) + (replicate if self.synth_per_replicate else 0)


def _mapping(value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HarnessError(f"{where}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise unknown_field(where, unknown[0], allowed)
    return dict(value)


def _variant(raw: Any, index: int, source: str) -> Variant:
    where = f"{source}: variants[{index}]"
    entry = _mapping(raw, where, {"name", "kind", "synth", "data", "train"})
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or name.strip() in (".", "..") or any(
            c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in name):
        raise HarnessError(f"{where}: 'name' must be a non-empty string without '/', '\\' or control characters, "
                           f"and not '.' or '..' (got {name!r})")
    given = [k for k in ("synth", "data") if k in entry]
    kind = entry.get("kind", given[0] if len(given) == 1 else None)
    train = _mapping(entry.get("train", {}), f"{where}.train", train_fields())
    if kind == "none" and not given:
        if train:
            raise HarnessError(f"{where} ({name}): `train:` is for variants that train; the control (kind: none) trains nothing")
        return Variant(name, "none")
    if kind == "synth" and given == ["synth"]:
        synth = _mapping(entry["synth"], f"{where}.synth", SYNTH_FIELDS)
        if not isinstance(synth.get("plugin"), str):
            raise HarnessError(f"{where}.synth: 'plugin' (a plugin name, see `harness synth list`) is required")
        seed = synth.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise HarnessError(f"{where}.synth.seed: expected an integer, got {seed!r}")
        return Variant(name, "synth", synth=synth, train=train)
    if kind == "data" and given == ["data"]:
        return Variant(name, "data", data=str(entry["data"]), train=train)
    raise HarnessError(f"{where} ({name}): give exactly one of `kind: none`, `synth: {{plugin, config}}` or `data: PATH`")


def parse_sweep(data: dict[str, Any], source: str) -> SweepConfig:
    """Validate a sweep mapping; errors name the file and the field."""
    top = _mapping(data, source, {"name", "base_model", "variants", "train", "eval", "replicates", "replicate_synth"})
    for key in ("name", "base_model", "variants"):
        if key not in top:
            raise HarnessError(f"{source}: '{key}' is required")
    secrets = find_secrets(top, urls=False)  # a URL's user information is accepted, and redacted wherever it is written
    if secrets:  # stage parameters are written to disk and shown on boards
        raise HarnessError(f"{source}: {secrets[0]} looks like a secret (an API key, token or password); sweep files are "
                           "recorded in stage.json and on boards: set it in the environment (OPENAI_API_KEY) instead")
    name = safe_component(top["name"], "'name'", source)  # the default directory: runs/sweeps/NAME
    if not isinstance(top["variants"], list) or not top["variants"]:
        raise HarnessError(f"{source}: 'variants' must be a non-empty list")
    variants = tuple(_variant(v, i, source) for i, v in enumerate(top["variants"]))
    names = [v.name for v in variants]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise HarnessError(f"{source}: variant name {duplicate!r} is used twice")
    if "eval" not in top:
        _check_data_only(top, variants, source)
    train = _mapping(top.get("train", {}), f"{source}: train", train_fields())
    for variant in variants:
        if "eval" in top and variant.kind != "none" and "stages" not in {**train, **variant.train}:
            raise HarnessError(f"{source}: train.stages (e.g. '2k:300') is required to fine-tune the variants "
                               f"({variant.name!r} has none)")
    evaluation = _mapping(top.get("eval", {}), f"{source}: eval", eval_fields())
    for key in ("tasks", "lengths"):
        if "eval" in top and key not in evaluation:
            raise HarnessError(f"{source}: eval.{key} is required")
    replicates = top.get("replicates", 1)
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise HarnessError(f"{source}: replicates = {replicates!r}: expected a whole number >= 1 (training runs per variant)")
    replicate_synth = top.get("replicate_synth", False)
    if not isinstance(replicate_synth, bool):
        raise HarnessError(f"{source}: replicate_synth = {replicate_synth!r}: expected true or false")
    config = SweepConfig(name, str(top["base_model"]), variants, train, evaluation, source, replicates, replicate_synth)
    if "stages" in train:  # typed now: an ill-typed field fails before any stage runs
        train_spec(train, config.base_model, "(each variant's data)", source)
    for variant in variants:
        if variant.train:
            train_spec(config.train_of(variant), config.base_model, "(each variant's data)",
                       f"{source}: variant {variant.name!r}")
    if evaluation:
        eval_config(evaluation, config.base_model, source)
    return config


def _check_data_only(top: dict[str, Any], variants: tuple[Variant, ...], source: str) -> None:
    """A sweep without eval: only synth variants, nothing trained."""
    if "train" in top or any(v.train for v in variants):
        raise HarnessError(f"{source}: 'eval' is required to train (a sweep without eval: only synthesizes its variants "
                           "and compares their data: drop train:)")
    other = next((v for v in variants if v.kind != "synth"), None)
    if other is not None:
        raise HarnessError(f"{source}: variant {other.name!r}: a sweep without eval compares syntheses; every variant needs "
                           "`synth:` (or add eval: to score models)")
    if top.get("replicate_synth") is False:
        raise HarnessError(f"{source}: replicate_synth: false: a sweep without eval replicates its syntheses (drop the field)")


def train_fields() -> set[str]:
    """The keys of a sweep's `train:` section: TrainSpec's fields but those the sweep sets, and `resources`."""
    from dataclasses import fields

    from harness.train.spec import TrainSpec

    return {f.name for f in fields(TrainSpec)} - set(TRAIN_SET_BY_SWEEP) | {RESOURCES}


def eval_fields() -> set[str]:
    """The keys of a sweep's `eval:` section: EvalConfig's fields but those the sweep sets, and `resources`."""
    from dataclasses import fields

    from harness.runner import EvalConfig

    return {f.name for f in fields(EvalConfig)} - set(EVAL_SET_BY_SWEEP) | {RESOURCES}


def train_spec(section: dict[str, Any], model: str, data: str, source: str) -> TrainSpec:
    """The `TrainSpec` of a `train:` section (or a train stage's parameters) for `model` and `data`."""
    from harness.train.spec import load_train_spec

    settings = {k: v for k, v in section.items() if k not in (RESOURCES, "base_model")}
    return load_train_spec(settings, f"{source}: train", fixed={"model": model, "data": data})


def eval_config(section: dict[str, Any], model: str, source: str) -> EvalConfig:
    """The `EvalConfig` of an `eval:` section (or an eval stage's parameters) for `model`."""
    from harness.runner.prepare import eval_config as load

    settings = {k: v for k, v in section.items() if k not in (RESOURCES, "base_model")}
    return load(settings, f"{source}: eval", fixed={"model": model, "use_sample_cache": True})


def read_sweep(path: Path) -> SweepConfig:
    from harness.core.configfile import read_config_file

    if not Path(path).exists():
        raise HarnessError(f"sweep config {path} does not exist{_near_configs(Path(path))}")
    return parse_sweep(read_config_file(path), str(path))


def _near_configs(path: Path) -> str:
    """`"; did you mean sweeps/x.yaml?"` for config files beside `path` or in `sweeps/` named like it."""
    from harness.core.registry import close_matches

    candidates = {str(p): p.stem for folder in {path.parent, Path("sweeps")} if folder.is_dir()
                  for p in sorted(folder.iterdir()) if p.suffix in (".yaml", ".yml", ".json")}
    stems = close_matches(path.stem, set(candidates.values()))
    close = [p for p, stem in candidates.items() if stem in stems]
    return f"; did you mean {', '.join(close)}?" if close else ""
