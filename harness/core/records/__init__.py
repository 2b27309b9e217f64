"""Every record the harness persists and reads back, typed and versioned, in one place: each reader goes through
here, so a record of an older version is brought up to date (or refused) and a newer one is refused, with one
message naming the file, its version and the versions read (`schema`).

| record | file | class | schema |
| --- | --- | --- | --- |
| a run's scores | `OUTPUT/results.json` | `Result` | `RESULTS` |
| a scored sample | a line of `OUTPUT/samples/<task>.jsonl` | `harness.core.types.ScoredSample` | `SAMPLES` (`sample_line_version`) |
| a run's config fingerprint | `OUTPUT/run.json` | `RunRecord` | `RUN` |
| a synthesis run | `OUT/manifest.json` | `SynthManifest` | `SYNTH_MANIFEST` |
| a training run | `OUTPUT/manifest.json` | `TrainManifest` | `TRAIN_MANIFEST` |
| a built-in model | `<cache>/models/<name>/manifest.json` | `BuiltModelManifest` | the recipe's version |
| a sweep stage | `ROOT/stages/<id>/stage.json` | `StageRecord` | `STAGE` |
| a sweep | `ROOT/sweep.json` | `SweepSummary` | `SWEEP` |
| a board's baseline | `BOARD/baseline.json` | `BoardBaseline` | `BASELINE` |
| a noise floor | `OUT/noise.json` of `harness noise` | `NoiseRecord` | `NOISE` |
| a category correlation | `--output` of `harness report correlation` | `CorrelationRecord` | `CORRELATION` |
| the results database | `--db` (SQLite) | `harness.store.Store` | `RESULTS_DB` (`prepare_sqlite`) |
| the LLM cache | `judge.db`, `OUT/llm_cache.sqlite` (SQLite) | `harness.core.llm_client.LLMCache` | `LLM_CACHE` (`prepare_sqlite`) |

`LLM_CACHE` (version 2) is the judge cache (`JUDGE_CACHE`) and the synthesis cache (`SYNTH_CACHE`), both
version 1, merged into one layout. A record gets a new version when its shape changes: bump its `version` and
add the step from the old one to `migrations` (or leave it out, and the old version is refused with the
schema's `too_old` advice).
"""

from harness.core.records.correlation import CORRELATION, CorrelationRecord
from harness.core.records.database import (
    JUDGE_CACHE,
    LLM_CACHE,
    RESULTS_DB,
    SYNTH_CACHE,
    SqliteSchema,
    check_columns,
    prepare_sqlite,
    set_sqlite_version,
    sqlite_version,
)
from harness.core.records.manifests import SYNTH_MANIFEST, TRAIN_MANIFEST, BuiltModelManifest, SynthManifest, TrainManifest
from harness.core.records.noise import NOISE, NoiseRecord
from harness.core.records.results import RESULTS, RUN, SAMPLES, Result, RunRecord, sample_line_version
from harness.core.records.schema import JsonRecord, RecordVersionError, Schema, write_atomic
from harness.core.records.sweep import BASELINE, STAGE, SWEEP, BoardBaseline, StageRecord, SweepSummary

__all__ = [
    "BASELINE", "CORRELATION", "JUDGE_CACHE", "LLM_CACHE", "NOISE", "RESULTS", "RESULTS_DB", "RUN", "SAMPLES", "STAGE", "SWEEP",
    "SYNTH_CACHE", "SYNTH_MANIFEST", "TRAIN_MANIFEST", "BoardBaseline", "BuiltModelManifest", "CorrelationRecord", "JsonRecord",
    "NoiseRecord", "RecordVersionError", "Result",
    "RunRecord", "Schema", "SqliteSchema", "StageRecord", "SweepSummary", "SynthManifest", "TrainManifest", "check_columns",
    "sample_line_version", "prepare_sqlite", "set_sqlite_version", "sqlite_version", "write_atomic",
]
