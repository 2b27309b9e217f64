"""`OUT/noise.json` of `harness noise` (`NoiseRecord`): one checkpoint evaluated under K evaluation seeds, and
per cell its score under each seed, their mean and SD, the within-run per-sample SD and the minimum detectable
effect (MDE) of a comparison on different sample draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.core.records.schema import JsonRecord, Schema, dumps, extra_fields, field_of

NOISE = Schema("noise floor", 1, too_old="run `harness noise` again (its evaluations are reused)")


@dataclass(frozen=True)
class NoiseRecord(JsonRecord):
    """`OUT/noise.json`: the model, tasks, lengths, evaluation seeds and limit, the MDE's alpha and power, and
    `cells`: one row per task x length and per group x length (`length` null: the group's average over lengths)
    with `kind` (task or group), `scores` and `n` (one per seed, in `seeds`' order; null where the cell has no
    score), `mean`, `sd_eval` (SD across seeds, ddof=1), `sd_sample` (within-run SD of the samples' scores,
    pooled over seeds; tasks only), `se_sample` (`sd_sample` / sqrt(n): the SD one draw of n samples would
    have), and `mde`; a group's row also has its `label` (`ruler (2/13)` when run on some of its tasks)."""

    SCHEMA = NOISE
    FIELDS = frozenset({"model", "tasks", "lengths", "seeds", "limit", "alpha", "power", "cells"})

    model: str
    tasks: list[str]
    lengths: list[int]
    seeds: list[int]
    cells: list[dict[str, Any]]
    limit: int | float | None = None
    alpha: float = 0.05
    power: float = 0.8
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": NOISE.version, "model": self.model, "tasks": self.tasks, "lengths": self.lengths,
                "seeds": self.seeds, "limit": self.limit, "alpha": self.alpha, "power": self.power,
                "cells": self.cells, **self.extra}

    def text(self) -> str:
        return dumps(self.to_dict(), newline=True)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "NoiseRecord":
        number = (int, float)
        return cls(field_of(data, "model", str, source), field_of(data, "tasks", list, source),
                   field_of(data, "lengths", list, source), field_of(data, "seeds", list, source),
                   field_of(data, "cells", list, source), field_of(data, "limit", number, source, None),
                   field_of(data, "alpha", number, source, 0.05), field_of(data, "power", number, source, 0.8),
                   extra_fields(data, cls.FIELDS))
