"""A sweep's records: `stage.json` of each stage (`StageRecord`), the summary `sweep.json` (`SweepSummary`)
and a board's `baseline.json` (`BoardBaseline`: per variant, every cell's score and per-sample scores, what
`harness check --baseline` reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.core.records.schema import JsonRecord, Schema, dumps, extra_fields, field_of
from harness.core.redaction import redact

STAGE = Schema("stage record", 1, too_old="delete the stage's directory to run it again")
SWEEP = Schema("sweep summary", 1, too_old="run the sweep again")


def _baseline_cells_get_train_sd(data: dict[str, Any]) -> dict[str, Any]:
    """Board baseline 1 -> 2: each cell gains `train_sd` (None: one replicate, the training-seed spread not
    measured); a version-1 board had one replicate per variant, so no cell has `replicates`. Anything not
    shaped as rows of cells is left for the reader to refuse."""
    rows = data.get("rows")
    if not isinstance(rows, dict):
        return data
    upgraded: dict[str, Any] = {}
    for name, row in rows.items():
        if isinstance(row, dict) and isinstance(row.get("cells"), list):
            row = {**row, "cells": [{"train_sd": None, **cell} if isinstance(cell, dict) else cell for cell in row["cells"]]}
        upgraded[name] = row
    return {**data, "rows": upgraded}


BASELINE = Schema("board baseline", 2, migrations={1: _baseline_cells_get_train_sd},
                  too_old="build the board again (`harness leaderboard build`)")


@dataclass(frozen=True)
class StageRecord(JsonRecord):
    """`ROOT/stages/<id>/stage.json`: the stage (kind, params with secrets redacted, needs, key), its status
    (running, done, failed), when it started, and once it ended its output, seconds, or error and traceback."""

    SCHEMA = STAGE
    FIELDS = frozenset({"stage", "status", "started", "output", "error", "traceback", "seconds"})

    stage: dict[str, Any]
    status: str
    started: float | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None
    seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The record as a dict (a field not set yet is left out, as the file leaves it out)."""
        optional = {"started": self.started, "output": self.output, "error": self.error, "traceback": self.traceback,
                    "seconds": self.seconds}
        return {"version": STAGE.version, "stage": self.stage, "status": self.status,
                **{k: v for k, v in optional.items() if v is not None}, **self.extra}

    def text(self) -> str:
        return dumps(redact(self.to_dict()), default=str)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "StageRecord":
        number = (int, float)
        return cls(field_of(data, "stage", dict, source), field_of(data, "status", str, source),
                   field_of(data, "started", number, source, None), field_of(data, "output", dict, source, None),
                   field_of(data, "error", str, source, None), field_of(data, "traceback", str, source, None),
                   field_of(data, "seconds", number, source, None), extra_fields(data, cls.FIELDS))


@dataclass(frozen=True)
class SweepSummary(JsonRecord):
    """`ROOT/sweep.json`: per variant its kind, status, error, stages and results file; the sweep's name,
    config file, base model, wall time and how many stages ran (not reused)."""

    SCHEMA = SWEEP
    FIELDS = frozenset({"name", "source", "base_model", "variants", "seconds", "stages_run"})

    variants: dict[str, Any]
    name: str | None = None
    source: str | None = None
    base_model: str | None = None
    seconds: float | None = None
    stages_run: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": SWEEP.version, "name": self.name, "source": self.source, "base_model": self.base_model,
                "variants": self.variants, "seconds": self.seconds, "stages_run": self.stages_run, **self.extra}

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "SweepSummary":
        return cls(field_of(data, "variants", dict, source), field_of(data, "name", str, source, None),
                   field_of(data, "source", str, source, None), field_of(data, "base_model", str, source, None),
                   field_of(data, "seconds", (int, float), source, None), field_of(data, "stages_run", int, source, 0),
                   extra_fields(data, cls.FIELDS))


@dataclass(frozen=True)
class BoardBaseline(JsonRecord):
    """A board's `baseline.json`: `rows[variant] = {"cells": [{task, length, score, stderr, n, samples, train_sd,
    replicates}, ...]}`. A cell's score, stderr, n and samples are replicate 0's; `replicates` (only with more than
    one) holds every replicate's per-sample scores, replicate 0's first, and `train_sd` the SD of the replicates'
    scores on their shared samples (None with one replicate). Version 1 had neither (its cells read with
    `train_sd` None)."""

    SCHEMA = BASELINE

    board: str
    rows: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": BASELINE.version, "board": self.board, "rows": self.rows, **self.extra}

    def text(self) -> str:
        return dumps(self.to_dict(), indent=1, newline=True)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "BoardBaseline":
        return cls(field_of(data, "board", str, source, ""), field_of(data, "rows", dict, source),
                   extra_fields(data, {"board", "rows"}))
