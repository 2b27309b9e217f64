"""The manifests a stage of the pipeline leaves in its output directory: what went in and what came out.

`SynthManifest` (`harness synth run`: OUT/manifest.json), `TrainManifest` (`harness train`:
OUTPUT/manifest.json, rewritten after each stage) and `BuiltModelManifest` (a built-in model in the cache).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.records.schema import JsonRecord, RecordVersionError, Schema, dumps, extra_fields, field_of, write_atomic
from harness.core.redaction import redact
from harness.core.userfiles import read_json_object

SYNTH_MANIFEST = Schema("synth manifest", 1, too_old="run `harness synth run` again")
TRAIN_MANIFEST = Schema("training manifest", 1, too_old="train again into a new --output")


@dataclass(frozen=True)
class SynthManifest(JsonRecord):
    """What a synthesis run was: the plugin and its config, the seed, the generator (None: the plugin calls no
    model; its backend's description in `extra` as `generator_*`), the corpus, the record count and the
    environment. Secrets are redacted when written."""

    SCHEMA = SYNTH_MANIFEST
    FIELDS = frozenset({"plugin", "config", "seed", "generator", "corpus", "records", "environment"})

    plugin: str
    config: dict[str, Any]
    seed: int = 0
    generator: str | None = None
    corpus: dict[str, Any] = field(default_factory=dict)
    records: int = 0
    environment: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": SYNTH_MANIFEST.version, "plugin": self.plugin, "config": self.config, "seed": self.seed,
                "generator": self.generator, "corpus": self.corpus, "records": self.records,
                "environment": self.environment, **self.extra}

    def text(self) -> str:
        return dumps(redact(self.to_dict()), default=str)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "SynthManifest":
        return cls(field_of(data, "plugin", str, source), field_of(data, "config", dict, source, {}),
                   field_of(data, "seed", int, source, 0), field_of(data, "generator", str, source, None),
                   field_of(data, "corpus", dict, source, {}), field_of(data, "records", int, source, 0),
                   field_of(data, "environment", dict, source, {}), extra_fields(data, cls.FIELDS))


@dataclass
class TrainManifest(JsonRecord):
    """A training run: the base model, the data and its digest, the spec and its digest, the environment, each
    finished stage's statistics (by stage index) and whether the whole run finished. Secrets are redacted
    when written."""

    SCHEMA = TRAIN_MANIFEST
    FIELDS = frozenset({"base_model", "data", "data_digest", "spec", "spec_digest", "environment", "stages", "finished"})

    base_model: str
    data: str
    data_digest: str
    spec: dict[str, Any]
    spec_digest: str
    environment: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": TRAIN_MANIFEST.version, "base_model": self.base_model, "data": self.data,
                "data_digest": self.data_digest, "spec": self.spec, "spec_digest": self.spec_digest,
                "environment": self.environment, "stages": self.stages, "finished": self.finished, **self.extra}

    def text(self) -> str:
        return dumps(redact(self.to_dict()), newline=True, default=str)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "TrainManifest":
        return cls(field_of(data, "base_model", str, source, ""), field_of(data, "data", str, source, ""),
                   field_of(data, "data_digest", str, source, ""), field_of(data, "spec", dict, source, {}),
                   field_of(data, "spec_digest", str, source, ""), field_of(data, "environment", dict, source, {}),
                   field_of(data, "stages", dict, source, {}), field_of(data, "finished", bool, source, False),
                   extra_fields(data, cls.FIELDS))


@dataclass(frozen=True)
class BuiltModelManifest:
    """`manifest.json` of a built-in model in the cache. Its `version` is the version of the recipe that built
    it (1 where the file has none): an older build is built again, a newer one (built by a newer lc-harness)
    is refused. The file keeps its fields in the order the builder gave them."""

    name: str
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return json.dumps({"name": self.name, "version": self.version, **self.extra}, indent=2)

    def write(self, path: Path) -> None:
        write_atomic(path, self.text())

    @classmethod
    def read(cls, path: Path) -> "BuiltModelManifest":
        data = read_json_object(path, "built model manifest")
        source = str(path)
        version = field_of(data, "version", int, source, 1)
        return cls(field_of(data, "name", str, source, path.parent.name), version,
                   {k: v for k, v in data.items() if k not in ("name", "version")})

    def current(self, recipe: int, where: Path) -> bool:
        """Whether this build is the recipe's (`recipe`: the version it builds now); a build by a newer recipe
        is a RecordVersionError naming `where`."""
        if self.version > recipe:
            raise RecordVersionError(f"{where}: built-in model {self.name!r} built by recipe version {self.version}, newer "
                                     f"than this lc-harness builds ({recipe}): upgrade lc-harness, or delete {where} to "
                                     "build it again with this one")
        return self.version == recipe
