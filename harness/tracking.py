"""Experiment tracking, each tracker an optional extra (`pip install 'lc-harness[tracking]'`), imported
only when asked for:

- training reports to TensorBoard, Weights & Biases or MLflow through transformers' own integrations
  (`TrainingArguments.report_to`): `harness train --report-to tensorboard`, a sweep's `train.report_to`;
- evaluation results (the scores table, the run's config with secrets redacted) are logged to W&B with
  `--wandb-args project=P,mode=offline,...`, the keyword arguments of `wandb.init` (as lm-eval's
  `--wandb_args`).
"""

from __future__ import annotations

import difflib
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from harness.core.errors import HarnessError
from harness.core.lengths import format_length
from harness.core.redaction import redact, redact_text

if TYPE_CHECKING:
    from harness.results import Result

TRACKERS = ("tensorboard", "wandb", "mlflow")  # transformers' integration names; each its own package
EXTRA = "pip install 'lc-harness[tracking]'"
WANDB_INIT_ARGS = ("project", "entity", "name", "group", "job_type", "mode", "dir", "tags", "notes", "id", "resume")
TABLE_COLUMNS = ["task", "length", "score", "stderr", "n"]


def parse_report_to(value: Any, flag: str = "--report-to") -> tuple[str, ...]:
    """`none` (or nothing) -> (); `tensorboard`, `wandb,mlflow` or a list of them -> the trackers in order."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise HarnessError(f"bad {flag} {value!r}: expected none or one or more of {', '.join(TRACKERS)}")
    names = list(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))
    if names in ([], ["none"]):
        return ()
    for name in names:
        if name not in TRACKERS:
            close = difflib.get_close_matches(name, [*TRACKERS, "none"], n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise HarnessError(f"bad {flag} {name!r}: expected none or one or more of {', '.join(TRACKERS)}{hint}")
    return tuple(names)


def require_trackers(names: tuple[str, ...], flag: str = "--report-to") -> None:
    """Each tracker's package is installed (checked before training starts, not after the model loads)."""
    for name in names:
        if find_spec(name) is None:
            raise HarnessError(f"{flag} {name} needs the {name} package: {EXTRA} (or pip install {name})")


def parse_wandb_args(text: str | None, flag: str = "--wandb-args") -> dict[str, Any]:
    """`project=P,mode=offline,...` -> keyword arguments of `wandb.init`; unknown keys are an error."""
    from harness.core.model_args import parse_model_args

    args = parse_model_args(text, flag=flag)
    unknown = sorted(set(args) - set(WANDB_INIT_ARGS))
    if unknown:
        raise HarnessError(f"{flag}: unknown key {unknown[0]!r}; it takes {', '.join(WANDB_INIT_ARGS)}")
    if "tags" in args:
        args["tags"] = [t for t in str(args["tags"]).split("|") if t] if not isinstance(args["tags"], list) else args["tags"]
    return args


def check_wandb_args(value: str | Mapping[str, Any] | None, flag: str = "--wandb-args") -> dict[str, Any] | None:
    """`--wandb-args` (a string or a mapping) checked before any work starts, with wandb installed; None when not given."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        args = dict(value)
        unknown = sorted(set(args) - set(WANDB_INIT_ARGS))
        if unknown:
            raise HarnessError(f"{flag}: unknown key {unknown[0]!r}; it takes {', '.join(WANDB_INIT_ARGS)}")
    else:
        args = parse_wandb_args(value, flag)
    if find_spec("wandb") is None:
        raise HarnessError(f"{flag} needs wandb: {EXTRA} (or pip install wandb)")
    return args


def wandb_module() -> Any:
    """`wandb`, or an error naming the extra that installs it."""
    try:
        import wandb
    except ImportError as error:
        raise HarnessError(f"logging results to Weights & Biases needs wandb: {EXTRA} (or pip install wandb)") from error
    return wandb


def results_rows(result: Result) -> list[list[Any]]:
    """One row per task x length (groups included, in brackets), in `TABLE_COLUMNS` order."""
    rows = []
    for task, cells in sorted(result.results.items()):
        for length, cell in sorted(cells.items(), key=lambda item: int(item[0])):
            rows.append([task, format_length(int(length)), cell.get("score"), cell.get("stderr"), cell.get("n")])
    for group, info in sorted(result.groups.items()):
        for length, cell in sorted(info.get("lengths", {}).items(), key=lambda item: int(item[0])):
            rows.append([f"[{group}]", format_length(int(length)), cell.get("score"), cell.get("stderr"), cell.get("n")])
    return rows


def log_table_to_wandb(rows: list[list[Any]], columns: list[str], config: dict[str, Any], args: dict[str, Any],
                       summary: dict[str, Any]) -> str:
    """One W&B run: `config` (redacted) as its config, `rows` as the table `results`, `summary` as its
    summary; returns the run's local directory (offline) or its URL."""
    wandb = wandb_module()
    try:
        run = wandb.init(**{"job_type": "eval", **args}, config=redact(config))
        try:
            run.log({"results": wandb.Table(columns=columns, data=rows)})
            run.summary.update(summary)
            where = getattr(run, "url", None) or str(getattr(run, "dir", ""))
        finally:
            run.finish()
    except Exception as error:  # noqa: BLE001  W&B's own failures (login, network, a bad argument): one line
        raise HarnessError(redact_text(f"logging to Weights & Biases failed ({type(error).__name__}: {error}); "
                                       "the results are saved")) from error
    return where


def log_results_to_wandb(result: Result, args: dict[str, Any]) -> str:
    """Log one evaluation: its config, the task x length table, and each cell's score in the summary
    (`niah_single_1/4k`, `[ruler]/avg`); `args` go to `wandb.init` (see `parse_wandb_args`)."""
    rows = results_rows(result)
    summary: dict[str, Any] = {f"{task}/{length}": score for task, length, score, _, _ in rows if score is not None}
    summary.update({f"[{group}]/avg": info["avg"] for group, info in result.groups.items() if info.get("avg") is not None})
    return log_table_to_wandb(rows, TABLE_COLUMNS, result.config, args, summary)


def log_sweep_to_wandb(summary: dict[str, Any], args: dict[str, Any]) -> str:
    """Log a sweep: every finished variant's task x length scores in one table (a `variant` column
    first), the sweep's summary without per-stage detail as the config."""
    from harness.results import Result

    rows: list[list[Any]] = []
    scores: dict[str, Any] = {}
    for name, variant in sorted(summary["variants"].items()):
        if not variant.get("results"):
            continue
        for row in results_rows(Result.read(Path(variant["results"]))):
            rows.append([name, *row])
            if row[2] is not None:
                scores[f"{name}/{row[0]}/{row[1]}"] = row[2]
    config = {k: v for k, v in summary.items() if k != "variants"}
    config["variants"] = {name: {"kind": v["kind"], "status": v["status"]} for name, v in summary["variants"].items()}
    return log_table_to_wandb(rows, ["variant", *TABLE_COLUMNS], config, {"job_type": "sweep", "name": summary.get("name"), **args},
                              scores)
