"""The Python API: `from harness import evaluate`.

`harness eval` turns its flags into an `EvalArgs` and calls the same `prepare` (arguments -> `EvalConfig`,
backend, judge) and `run`, so the command line and a notebook cannot drift: the same arguments give the same
`results.json` and the same `Result`.

```python
from harness import evaluate
result = evaluate("tiny-random", "niah_single_1", lengths="256,512", limit=4, output="runs/nb")
result.results["niah_single_1"]["256"]["score"]
```
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.core.errors import HarnessError

if TYPE_CHECKING:
    from harness.core.backends.base import Backend
    from harness.core.outputs import OutputLock
    from harness.judge import Judge
    from harness.results import Result
    from harness.runner import EvalConfig

Options = str | Mapping[str, Any] | None


@dataclass(frozen=True)
class EvalArgs:
    """What `harness eval` takes, flag for flag (lm-eval's spellings included); strings as on the command line, or
    Python values (lists, dicts, numbers)."""

    model: str
    tasks: str | Sequence[str]
    lengths: str | int | Sequence[int | str] = "4k"
    limit: int | float | str | None = None
    output: str | Path | None = None
    seed: int = 42
    batch_size: int | str | None = None
    chat_template: str | None = None
    apply_chat_template: bool = False
    model_args: Options = None
    base_url: str | None = None
    tokenizer: str | None = None
    device: str | None = None
    data_dir: str | Path | None = None
    task_args: Options = None
    num_fewshot: int | None = None
    depths: str | Sequence[float] | None = None
    depth_steps: int | None = None
    truncate: str = "middle"
    prompt_style: str | None = None
    gen_kwargs: Options = None
    judge: str | None = None
    judge_model_args: Options = None
    judge_base_url: str | None = None
    judge_tokenizer: str | None = None
    db: str | Path | None = None
    wandb_args: Options = None  # lm-eval's --wandb_args: log the results to W&B (wandb.init's keyword arguments)


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


def _options(value: Options, flag: str) -> dict[str, Any]:
    from harness.core.model_args import parse_model_args

    if value is None or isinstance(value, str):
        return parse_model_args(value, flag=flag)
    if not isinstance(value, Mapping):
        raise HarnessError(f"bad {flag} {value!r}: expected k=v,... or a mapping")
    return dict(value)


def _names(value: str | Sequence[str], flag: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    names = [item.strip() for item in items if item.strip()]
    if not names:
        raise HarnessError(f"bad {flag} {value!r}: nothing given")
    return names


def _depth(text: object) -> float:
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise HarnessError(f"bad --depths entry {text!r}: expected a number from 0 to 100") from None


def _chat_mode(args: EvalArgs) -> str:
    mode = args.chat_template or "auto"
    if mode not in ("auto", "on", "off"):
        raise HarnessError(f"bad --chat-template {mode!r}: expected auto, on or off")
    if args.apply_chat_template:
        if args.chat_template not in (None, "on"):
            raise HarnessError(f"--apply_chat_template and --chat-template {args.chat_template} disagree")
        mode = "on"
    return mode


def task_arguments(args: EvalArgs) -> dict[str, Any]:
    """`--task-args` with the flags that are task arguments (`--num_fewshot`, `--depths`, `--truncate`, ...)."""
    from harness.core.backend_options import merge_options

    extra = _options(args.task_args, "--task-args")
    for flag, value, least in (("--num_fewshot", args.num_fewshot, 0), ("--depth-steps", args.depth_steps, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise HarnessError(f"bad {flag} {value!r}: expected a whole number >= {least}")
    flags: dict[str, Any] = {"num_fewshot": args.num_fewshot, "depth_steps": args.depth_steps}
    if args.depths is not None:
        depths = args.depths.split(",") if isinstance(args.depths, str) else list(args.depths)
        flags["depths"] = [_depth(d) for d in depths if str(d).strip()]
    if args.truncate != "middle":  # only non-defaults enter task args (and so the fingerprints of existing runs stay)
        from harness.tasks.truncation import check_mode

        flags["truncate"] = check_mode(args.truncate)
    if args.prompt_style is not None:
        if args.prompt_style not in ("chat", "completion"):
            raise HarnessError(f"bad --prompt-style {args.prompt_style!r}: expected chat or completion")
        flags["prompt_style"] = args.prompt_style
    names = {"num_fewshot": "--num_fewshot", "depth_steps": "--depth-steps", "depths": "--depths",
             "truncate": "--truncate", "prompt_style": "--prompt-style"}
    return merge_options(extra, flags, "--task-args", names)


def _fewshot_note(task_names: list[str], task_args: dict[str, Any], num_fewshot: int | None) -> list[str]:
    """Which tasks ignore `--num_fewshot` (those whose parameters have no shot count keep their own)."""
    if num_fewshot is None:
        return []
    from harness.tasks import get_task
    from harness.tasks.data import TaskOptions

    options = TaskOptions(args=task_args)
    ignoring = [name for name in task_names if "num_fewshot" not in get_task(name, options).params]
    if not ignoring:
        return []
    shown = ", ".join(ignoring[:5]) + (f", ... ({len(ignoring)} tasks)" if len(ignoring) > 5 else "")
    return [f"note: --num_fewshot {num_fewshot} does not apply to {shown}: they keep their benchmark's own prompt"]


def prepare(args: EvalArgs) -> Prepared:
    """Check every argument, then load the backend and the judge: (EvalConfig, backend, judge, output)."""
    from harness.core.backend_options import backend_options
    from harness.core.backends import load_backend
    from harness.core.lengths import parse_lengths
    from harness.core.limit import parse_limit
    from harness.core.outputs import lock_output
    from harness.core.pathnames import slugify
    from harness.core.paths import default_db_path
    from harness.lmeval_compat import check_gen_kwargs, check_output_path, resolve_model
    from harness.runner import RUN_FILE, EvalConfig, read_run_file
    from harness.store import Store
    from harness.tasks import resolve

    task_names = resolve(_names(args.tasks, "--tasks"))
    given = [args.lengths] if isinstance(args.lengths, int) else args.lengths
    length_specs = _names(given if isinstance(given, str) else [str(x) for x in given], "--lengths")
    parsed_lengths = parse_lengths(",".join(p for p in length_specs if p != "max")) if set(length_specs) - {"max"} else []
    limit = parse_limit(args.limit)
    chat_template = _chat_mode(args)
    check_gen_kwargs(_options(args.gen_kwargs, "--gen_kwargs"))
    spec, model_args = resolve_model(args.model, _options(args.model_args, "--model-args"))
    kwargs = backend_options(spec, model_args, base_url=args.base_url, tokenizer=args.tokenizer, device=args.device,
                             batch_size=args.batch_size)
    if args.device is not None:  # --device d is --model-args device=d (the same run)
        model_args["device"] = args.device
    task_args = task_arguments(args)
    judge_kwargs = None
    if args.judge:
        judge_kwargs = backend_options(args.judge, _options(args.judge_model_args, "--judge-model-args"),
                                       base_url=args.judge_base_url, tokenizer=args.judge_tokenizer,
                                       args_flag="--judge-model-args",
                                       flag_names={"base_url": "--judge-base-url", "tokenizer": "--judge-tokenizer"})
    elif args.judge_base_url or args.judge_tokenizer or args.judge_model_args:
        raise HarnessError("--judge-base-url, --judge-tokenizer and --judge-model-args need --judge MODEL")
    notes = _fewshot_note(task_names, task_args, args.num_fewshot)
    from harness.tracking import check_wandb_args

    wandb_args = check_wandb_args(args.wandb_args)  # wandb missing or a bad key fails now, before any work
    from harness.tasks import check_tasks
    from harness.tasks.data import TaskOptions

    data_dir = _data_dir(args.data_dir)
    # every task's data files read and checked now: a bad file fails before a model loads for nothing
    check_tasks(task_names, TaskOptions(data_dir=data_dir, args=task_args))
    output = Path(args.output) if args.output else Path("runs") / slugify(spec)
    check_output_path(output)  # lm-eval's `--output_path res.json` names a file; ours is a directory
    db = Path(args.db).expanduser() if args.db else default_db_path()
    lock = lock_output(output)  # refused at once when another process writes there; released by `run`
    try:
        if (output / RUN_FILE).exists():  # a damaged run.json fails now; `run` compares it with the loaded model
            read_run_file(output / RUN_FILE)
        Store(db)  # a database that cannot hold the result fails now, not after the run
        backend = load_backend(spec, **kwargs)
    except BaseException:
        lock.release()
        raise
    try:
        if "max" in length_specs and backend.max_length not in parsed_lengths:
            parsed_lengths.append(backend.max_length)
        judge = _judge(args.judge, judge_kwargs, spec, kwargs, backend) if args.judge and judge_kwargs is not None else None
    except BaseException:
        backend.close()
        lock.release()
        raise
    config = EvalConfig(
        model=spec,
        tasks=task_names,
        lengths=parsed_lengths,
        limit=limit,
        seed=args.seed,
        chat_template=chat_template,  # type: ignore[arg-type]
        model_args=model_args,
        data_dir=str(args.data_dir) if args.data_dir else None,
        task_args=task_args,
    )
    return Prepared(config, backend, judge, output, db, notes, lock, wandb_args)


def _data_dir(value: str | Path | None) -> Path | None:
    """`--data-dir` (or HARNESS_DATA_DIR), which must be a directory when given."""
    if value is None or str(value) == "":
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        why = "does not exist" if not path.exists() else "is not a directory"
        raise HarnessError(f"--data-dir {value} {why} (it is where tasks find their data files; also HARNESS_DATA_DIR)")
    return path


def _judge(spec: str, kwargs: dict[str, Any], model: str, model_kwargs: dict[str, Any], backend: Backend) -> Judge:
    """The judge: the evaluated backend itself when it is the same model with the same options, else its own."""
    from harness.core.backends import load_backend
    from harness.judge import Judge

    own = {k: v for k, v in kwargs.items() if k != "batch_size"}
    if spec == model and all(model_kwargs.get(k) == v for k, v in own.items()):
        return Judge(backend, spec)
    return Judge(load_backend(spec, **kwargs), spec)


def run(prepared: Prepared) -> tuple[str, Result]:
    """Evaluate a prepared run (results, samples, a database row); closes its backends. Returns (run id, result)."""
    from harness.runner import evaluate as run_evaluation
    from harness.store import Store

    try:
        run_id, result = run_evaluation(prepared.config, prepared.backend, prepared.output, Store(prepared.db),
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


def evaluate(
    model: str,
    tasks: str | Sequence[str],
    lengths: str | int | Sequence[int | str] = "4k",
    limit: int | float | str | None = None,
    output: str | Path | None = None,
    seed: int = 42,
    batch_size: int | str | None = None,
    chat_template: str | None = None,
    apply_chat_template: bool = False,
    model_args: Options = None,
    base_url: str | None = None,
    tokenizer: str | None = None,
    device: str | None = None,
    data_dir: str | Path | None = None,
    task_args: Options = None,
    num_fewshot: int | None = None,
    depths: str | Sequence[float] | None = None,
    depth_steps: int | None = None,
    truncate: str = "middle",
    prompt_style: str | None = None,
    gen_kwargs: Options = None,
    judge: str | None = None,
    judge_model_args: Options = None,
    judge_base_url: str | None = None,
    judge_tokenizer: str | None = None,
    db: str | Path | None = None,
    wandb_args: Options = None,
) -> Result:
    """Evaluate `model` on `tasks` across `lengths`, exactly as `harness eval` with the same arguments does
    (the same files under `output`, the same database row); returns the `Result` the command prints.

    Arguments are `harness eval`'s flags (see `harness eval --help`), as strings or Python values:
    `evaluate("tiny-random", ["niah_single_1"], lengths=[256, 512], limit=4, model_args={"dtype": "float32"})`."""
    values = dict(locals())
    prepared = prepare(EvalArgs(**values))
    for note in prepared.notes:
        warnings.warn(note, stacklevel=2)
    return run(prepared)[1]
