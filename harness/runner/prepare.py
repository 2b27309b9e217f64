"""One way into an evaluation, for `harness eval`, `harness.evaluate` and the sweep's eval stage alike.

`eval_config` loads settings (the command's flags, already in field form, or a sweep's `eval:` section) into the
one `EvalConfig`, with the typed loader every config section goes through: an unknown or ill-typed field is
named with its value. `prepare` checks the tasks' data files, claims the output directory, and loads the
backend and the judge; `run` evaluates, closes them, and logs to W&B when asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from harness.core.errors import HarnessError
from harness.core.specs import BackendSpec, JudgeSpec
from harness.runner import EvalConfig

if TYPE_CHECKING:
    from harness.core.backends.base import Backend
    from harness.core.outputs import OutputLock
    from harness.judge import Judge
    from harness.results import Result


@dataclass
class Prepared:
    """A run ready to start: its config, the loaded backend and judge, where it writes, and notes for the user."""

    config: EvalConfig
    backend: Backend
    judge: Judge | None
    output: Path
    db: Path
    notes: list[str] = field(default_factory=list)
    lock: OutputLock | None = None  # held from `prepare` to the end of `run`: one writer per output directory
    wandb_args: dict[str, Any] | None = None  # log the results to W&B after the run (harness.tracking)


def names(value: str | Sequence[Any], flag: str) -> list[str]:
    """A comma-separated string or a list as a list of non-empty names; nothing at all is an error."""
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    found = [item.strip() for item in items if item.strip()]
    if not found:
        raise HarnessError(f"bad {flag} {value!r}: nothing given")
    return found


def _tasks(value: Any) -> list[str]:
    from harness.tasks import resolve

    if not isinstance(value, (str, list, tuple)):
        raise HarnessError(f"bad --tasks {value!r}: expected names (a list, or comma-separated)")
    return resolve(names(value, "--tasks"))


def _chat_template(value: Any) -> Any:
    if value not in ("auto", "on", "off"):
        raise HarnessError(f"bad --chat-template {value!r}: expected auto, on or off")
    return value


def _judge(value: Any) -> Any:
    """`judge: MODEL` is `judge: {model: MODEL}`; a mapping is loaded as a `JudgeSpec`."""
    return JudgeSpec(value) if isinstance(value, str) else value


def _limit(value: Any) -> int | float | None:
    from harness.core.limit import parse_limit

    return parse_limit(value)


def _batch_size(value: Any) -> int | str | None:
    from harness.core.specs import parse_batch_size

    return parse_batch_size(value)


def _max_new_tokens(value: Any) -> int | None:
    from harness.core.thinking import parse_tokens

    return parse_tokens(value, "--max-new-tokens", minimum=1, allow_none=True)


def _max_think_tokens(value: Any) -> int:
    from harness.core.thinking import parse_tokens

    return parse_tokens(0 if value is None else value, "--max-think-tokens") or 0


def _think_markers(value: Any) -> tuple[str, str]:
    from harness.core.thinking import DEFAULT_MARKERS, parse_markers

    return DEFAULT_MARKERS if value is None else parse_markers(value)


def _replicas(value: Any) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if isinstance(value, bool) or count < 1 or (isinstance(value, float) and value != count):
        raise HarnessError(f"bad --replicas {value!r}: expected a whole number >= 1")
    return count


def _executor(value: Any) -> str:
    from harness.runner.replicas import EXECUTORS

    if value not in EXECUTORS:
        raise HarnessError(f"bad --executor {value!r}: expected {' or '.join(EXECUTORS)}")
    return str(value)


def _schedule(value: Any) -> str:
    from harness.runner.schedule import check_schedule

    return check_schedule(value)


# EvalConfig's fields that no `harness eval` flag sets by name, and why (tests/harness/test_cli_config_parity.py)
NO_FLAG = {"use_sample_cache": "off only for benchmarks that time a cold sample build (bench/); no command turns it off",
           "max_length": "set by `max` among --lengths (the model's own max length)"}
# text forms of EvalConfig's fields (YAML, flags): each turned into the field's type before the type check
PARSERS: dict[str, Callable[[Any], Any]] = {"tasks": _tasks, "chat_template": _chat_template, "judge": _judge,
                                            "limit": _limit, "batch_size": _batch_size, "max_new_tokens": _max_new_tokens,
                                            "max_think_tokens": _max_think_tokens, "think_markers": _think_markers,
                                            "replicas": _replicas, "executor": _executor, "schedule": _schedule}


def eval_config(settings: Mapping[str, Any], source: str = "", fixed: Mapping[str, Any] | None = None) -> EvalConfig:
    """`settings` (EvalConfig's fields by name, values in their text or typed forms) as an `EvalConfig`. `lengths`
    take `4k`, integers and `max` (the model's own, once it loads); `fixed` fields are the caller's (a sweep's
    model). The backend options are checked against the model's backend when it loads (`prepare`): a sweep's
model is known only then."""
    from harness.core.configfile import load_dataclass
    from harness.core.lengths import parse_lengths

    data = dict(settings)
    if "lengths" in data:
        given = data["lengths"]
        try:
            specs = names([given] if isinstance(given, int) else given, "--lengths")
            data["lengths"] = parse_lengths(",".join(p for p in specs if p != "max")) if set(specs) - {"max"} else []
        except HarnessError as error:
            raise HarnessError(f"{source}: field 'lengths' = {given!r}: {error}" if source else str(error)) from error
        if "max" in specs:
            data["max_length"] = True
    return load_dataclass(EvalConfig, data, source, PARSERS, fixed)


def data_dir(value: str | Path | None) -> Path | None:
    """`--data-dir` (or HARNESS_DATA_DIR), which must be a directory when given."""
    if value is None or str(value) == "":
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        why = "does not exist" if not path.exists() else "is not a directory"
        raise HarnessError(f"--data-dir {value} {why} (it is where tasks find their data files; also HARNESS_DATA_DIR)")
    return path


def prepare(config: EvalConfig, output: Path, db: Path | None = None, wandb_args: dict[str, Any] | None = None) -> Prepared:
    """Check the tasks' data, claim `output` (one writer at a time), then load the backend and the judge; `max`
    among the lengths becomes the loaded model's max length. Everything is released again on a failure."""
    from harness.core.outputs import lock_output
    from harness.core.paths import default_db_path
    from harness.runner import RUN_FILE, read_run_file
    from harness.store import Store
    from harness.tasks import check_tasks
    from harness.tasks.data import TaskOptions

    # every task's data files read and checked now: a bad file fails before a model loads for nothing
    check_tasks(config.tasks, TaskOptions(data_dir=data_dir(config.data_dir), args=config.task_args))
    _check_budgets(config)
    _check_scale(config)
    db = Path(db).expanduser() if db else default_db_path()
    lock = lock_output(output)  # refused at once when another process writes there; released by `run`
    try:
        if (output / RUN_FILE).exists():  # a damaged run.json fails now; `run` compares it with the loaded model
            read_run_file(output / RUN_FILE)
        Store(db)  # a database that cannot hold the result fails now, not after the run
        backend = _load_backend(config)
    except BaseException:
        lock.release()
        raise
    try:
        if config.max_length and backend.max_length not in config.lengths:
            config = replace(config, lengths=[*config.lengths, backend.max_length])
        judge = _load_judge(config, backend) if config.judge is not None else None
    except BaseException:
        backend.close()
        lock.release()
        raise
    return Prepared(config, backend, judge, output, db, [], lock, wandb_args)


def _check_scale(config: EvalConfig) -> None:
    """--replicas, --executor, --ray-address and --base-url fit together and the model's backend (before any loading)."""
    from harness.runner.replicas import check_scale

    check_scale(config.replicas, config.executor, config.backend)
    if config.ray_address and config.executor != "ray":
        raise HarnessError(f"--ray-address {config.ray_address} needs --executor ray")


def _load_backend(config: EvalConfig) -> Backend:
    """The evaluated model: one backend in this process, or its workers (`--replicas`, several `--base-url`s,
    `--executor ray`) behind one `ReplicaBackend`."""
    from harness.runner.replicas import load_replicas, wants_workers

    spec = config.backend  # --replicas and friends checked already (`_check_scale`); load_replicas checks them again
    if wants_workers(config.replicas, config.executor, spec):
        return load_replicas(spec, config.replicas, config.executor, config.ray_address)
    if spec.backend == "hf" and not config.max_length:  # `max` among the lengths needs the loaded model's
        return _load_behind_samples(spec)
    return spec.load()


def _load_behind_samples(spec: BackendSpec) -> Backend:
    """An hf model loading in a background thread while the samples are built with its tokenizer (which loads
    without torch); a tokenizer that does not load leaves the model to load now and name the problem itself."""
    from harness.core.backends.hf import KNOWN_ARGS, check_model_args
    from harness.core.model_args import check_known
    from harness.runner.loading import LoadingBackend
    from harness.runner.replicas import coordinator_tokenizer

    args = {k: v for k, v in spec.options().items() if k != "batch_size"}
    check_known("hf", args, KNOWN_ARGS)  # the model's arguments refused now, as the backend would, not after the samples
    check_model_args(args)
    try:
        tokenizer = coordinator_tokenizer(spec)
    except HarnessError:
        return spec.load()
    return LoadingBackend(spec.load, tokenizer)


def _check_budgets(config: EvalConfig) -> None:
    """--max-new-tokens / --max-think-tokens that leave no prompt room at a length fail now, before a model loads."""
    if config.budget.default:
        return
    from harness.runner.plan import check_budgets
    from harness.tasks import get_task
    from harness.tasks.data import TaskOptions

    options = TaskOptions(data_dir=data_dir(config.data_dir), args=config.task_args)
    check_budgets([get_task(name, options).with_budget(config.budget) for name in config.tasks], config.lengths)


def _load_judge(config: EvalConfig, backend: Backend) -> Judge:
    """The judge: the evaluated backend itself when it is the same model with the same options, else its own."""
    from harness.judge import Judge

    assert config.judge is not None
    if config.judge.shares(config.backend):
        return Judge(backend, config.judge.model)
    return Judge(config.judge.backend.load(), config.judge.model)


def run(prepared: Prepared) -> tuple[str, Result]:
    """Evaluate a prepared run (results, samples, a database row); closes its backends. Returns (run id, result)."""
    from harness.runner import evaluate
    from harness.store import Store

    try:
        run_id, result = evaluate(prepared.config, prepared.backend, prepared.output, Store(prepared.db),
                                  prepared.judge, prepared.lock)
    finally:
        prepared.backend.close()
        if prepared.judge is not None and prepared.judge.backend is not prepared.backend:
            prepared.judge.backend.close()
        if prepared.lock is not None:
            prepared.lock.release()
    if prepared.wandb_args is not None:  # after everything is written: a W&B failure loses nothing
        from harness.tracking import log_results_to_wandb

        log_results_to_wandb(result, prepared.wandb_args)
    return run_id, result
