"""`--output FILE.json` of `harness report correlation` (`CorrelationRecord`): the Spearman rank correlation
between categories (task groups or tasks) across runs, with percentile-bootstrap intervals over the runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.core.records.schema import JsonRecord, Schema, dumps, extra_fields, field_of

CORRELATION = Schema("correlation report", 1, too_old="run `harness report correlation` again")


@dataclass(frozen=True)
class CorrelationRecord(JsonRecord):
    """The runs (`name`, `path` of the results.json, `scores`: category -> its score in the run), the
    `categories` of the matrix (in its order), the `reference` (RULER by default; None: no reference row), the
    `length` taken (None: each category's mean over the lengths every run scored it at, listed in `lengths`),
    the bootstrap's `resamples`, `level` and `seed`, and `pairs`: one row per pair of categories (the reference
    included) with `a`, `b`, `rho` and `p` (scipy's Spearman; None where undefined: a category scored the same in
    every run), `low` and `high` (the percentile interval over the resamples where rho is defined; None when
    none is) and `defined` (how many resamples that is). `sweep` is the sweep directory the runs came from (None:
    runs given by path), `skipped` its replicates left out (not finished), `notes` what else the reader should know."""

    SCHEMA = CORRELATION
    FIELDS = frozenset({"method", "runs", "categories", "reference", "length", "lengths", "resamples", "level", "seed",
                        "pairs", "sweep", "skipped", "notes"})

    runs: list[dict[str, Any]]
    categories: list[str]
    pairs: list[dict[str, Any]]
    lengths: dict[str, list[int]]
    reference: str | None = None
    length: int | None = None
    resamples: int = 2000
    level: float = 0.95
    seed: int = 0
    sweep: str | None = None
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": CORRELATION.version, "method": "spearman", "runs": self.runs, "categories": self.categories,
                "reference": self.reference, "length": self.length, "lengths": self.lengths, "resamples": self.resamples,
                "level": self.level, "seed": self.seed, "pairs": self.pairs, "sweep": self.sweep,
                "skipped": self.skipped, "notes": self.notes, **self.extra}

    def text(self) -> str:
        return dumps(self.to_dict(), newline=True)

    @classmethod
    def _from(cls, data: dict[str, Any], source: str) -> "CorrelationRecord":
        number = (int, float)
        return cls(field_of(data, "runs", list, source), field_of(data, "categories", list, source),
                   field_of(data, "pairs", list, source), field_of(data, "lengths", dict, source),
                   field_of(data, "reference", str, source, None), field_of(data, "length", int, source, None),
                   field_of(data, "resamples", int, source, 2000), field_of(data, "level", number, source, 0.95),
                   field_of(data, "seed", int, source, 0), field_of(data, "sweep", str, source, None),
                   field_of(data, "skipped", list, source, []), field_of(data, "notes", list, source, []),
                   extra_fields(data, cls.FIELDS))

    def pair(self, a: str, b: str) -> dict[str, Any] | None:
        """The row of the pair {a, b} (either order), None if the record has none."""
        return next((p for p in self.pairs if {p["a"], p["b"]} == {a, b}), None)
