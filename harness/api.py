"""The Python API: `from harness import evaluate`.

`harness eval` and `evaluate` take the same flags (lm-eval's spellings included), turn them into the one
`EvalConfig` (`eval_config_from_flags`) and go through the same `harness.runner.prepare` (`prepare`, then `run`)
as the sweep's eval stage, so the command line, a notebook and a sweep cannot drift: the same settings give the
same `results.json` and the same `Result`.

```python
from harness import evaluate
result = evaluate("tiny-random", "niah_single_1", lengths="256,512", limit=4, output="runs/nb")
result.results["niah_single_1"]["256"]["score"]
```
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.core.errors import HarnessError
from harness.runner import EvalConfig
from harness.runner.prepare import Prepared, run

if TYPE_CHECKING:
    from harness.results import Result

Options = str | Mapping[str, Any] | None

EvalArgs = EvalConfig  # the earlier name of the evaluation's one schema, kept for `from harness import EvalArgs`

# `harness eval`'s flags that are no field of EvalConfig, and why (tests/harness/test_cli_config_parity.py checks it)
FLAG_ONLY = {
    "output": "where the run is written, not what is evaluated: `prepare`'s argument (a sweep picks its stage's)",
    "db": "the results database the run is recorded in: `prepare`'s argument",
    "wandb_args": "where the results are logged after the run: `prepare`'s argument",
    "apply_chat_template": "lm-eval's spelling of chat_template=on",
    "device": "a backend option recorded in model_args (`--device d` is `--model-args device=d`, one run)",
    "num_fewshot": "a task argument: folded into task_args",
    "depths": "a task argument (niah): folded into task_args",
    "depth_steps": "a task argument (niah): folded into task_args",
    "truncate": "a task argument (real-document tasks): folded into task_args when not the default",
    "prompt_style": "a task argument (infinitebench): folded into task_args",
    "gen_kwargs": "lm-eval's generation settings: only the greedy ones every task uses are accepted, nothing is kept",
    "log_samples": "lm-eval's habit, a no-op: samples are always logged",
    "judge_model_args": "the judge's model_args (EvalConfig.judge, a JudgeSpec)",
    "judge_base_url": "the judge's base_url (EvalConfig.judge, a JudgeSpec)",
    "judge_tokenizer": "the judge's tokenizer (EvalConfig.judge, a JudgeSpec)",
}


def _options(value: Options, flag: str) -> dict[str, Any]:
    from harness.core.model_args import parse_model_args

    if value is None or isinstance(value, str):
        return parse_model_args(value, flag=flag)
    if not isinstance(value, Mapping):
        raise HarnessError(f"bad {flag} {value!r}: expected k=v,... or a mapping")
    return dict(value)


def _depth(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise HarnessError(f"bad --depths entry {text!r}: expected a number from 0 to 100") from None


def _chat_mode(chat_template: str | None, apply_chat_template: bool) -> str:
    mode = chat_template or "auto"
    if mode not in ("auto", "on", "off"):
        raise HarnessError(f"bad --chat-template {mode!r}: expected auto, on or off")
    if apply_chat_template:
        if chat_template not in (None, "on"):
            raise HarnessError(f"--apply_chat_template and --chat-template {chat_template} disagree")
        mode = "on"
    return mode


def task_arguments(flags: Mapping[str, Any]) -> dict[str, Any]:
    """`--task-args` with the flags that are task arguments (`--num_fewshot`, `--depths`, `--truncate`, ...)."""
    from harness.core.specs import merge_options

    extra = _options(flags.get("task_args"), "--task-args")
    num_fewshot, depth_steps, depths = flags.get("num_fewshot"), flags.get("depth_steps"), flags.get("depths")
    truncate, prompt_style = flags.get("truncate", "middle"), flags.get("prompt_style")
    for flag, value, least in (("--num_fewshot", num_fewshot, 0), ("--depth-steps", depth_steps, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise HarnessError(f"bad {flag} {value!r}: expected a whole number >= {least}")
    folded: dict[str, Any] = {"num_fewshot": num_fewshot, "depth_steps": depth_steps}
    if depths is not None:
        items = depths.split(",") if isinstance(depths, str) else list(depths)
        folded["depths"] = [_depth(d) for d in items if str(d).strip()]
    if truncate != "middle":  # only non-defaults enter task args (and so the fingerprints of existing runs stay)
        from harness.tasks.truncation import check_mode

        folded["truncate"] = check_mode(truncate)
    if prompt_style is not None:
        if prompt_style not in ("chat", "completion"):
            raise HarnessError(f"bad --prompt-style {prompt_style!r}: expected chat or completion")
        folded["prompt_style"] = prompt_style
    names = {"num_fewshot": "--num_fewshot", "depth_steps": "--depth-steps", "depths": "--depths",
             "truncate": "--truncate", "prompt_style": "--prompt-style"}
    return merge_options(extra, _reaching(flags.get("tasks"), folded, names), "--task-args", names)


def _reaching(tasks: Any, folded: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The task-argument flags are sugar for the task arguments they set (`--depth-steps 5` is `depth_steps=5`,
    which reaches the tasks declaring it, `harness.tasks.options`): `--num_fewshot` where no selected task has
    shots is dropped (lm-eval's habit; `_fewshot_note` says so), another flag no selected task declares is an error."""
    given = [key for key, value in folded.items() if value is not None]
    if not given or not tasks:
        return folded
    from harness.tasks import resolve
    from harness.tasks.options import tasks_declaring

    selected = resolve([t.strip() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if str(t).strip()])
    out = dict(folded)
    for key in given:
        if not tasks_declaring(selected, key):
            if key != "num_fewshot":
                shown = ", ".join(selected[:5]) + (", ..." if len(selected) > 5 else "")
                raise HarnessError(f"{names[key]} applies to no selected task ({shown})")
            del out[key]
    return out


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


def eval_config_from_flags(flags: Mapping[str, Any]) -> EvalConfig:
    """`harness eval`'s flags (by parameter name, as `evaluate` takes them) as the `EvalConfig` they describe:
    lm-eval's spellings read as ours, the task-argument flags folded into `task_args`, `--device` into
    `model_args`, the `--judge-*` flags into a `JudgeSpec`."""
    from harness.core.specs import BackendSpec
    from harness.lmeval_compat import check_gen_kwargs, resolve_model
    from harness.runner.prepare import eval_config

    chat_template = _chat_mode(flags.get("chat_template"), bool(flags.get("apply_chat_template")))
    check_gen_kwargs(_options(flags.get("gen_kwargs"), "--gen_kwargs"))
    spec, model_args = resolve_model(flags["model"], _options(flags.get("model_args"), "--model-args"))
    model = BackendSpec(spec, model_args, base_url=flags.get("base_url"), tokenizer=flags.get("tokenizer"),
                        device=flags.get("device"), batch_size=flags.get("batch_size"))
    model.options()  # a clash or a misplaced option is named by the flag it came from
    judge_flags = {"model_args": flags.get("judge_model_args"), "base_url": flags.get("judge_base_url"),
                   "tokenizer": flags.get("judge_tokenizer")}
    judge = None
    if flags.get("judge"):
        judge = {"model": flags["judge"], **{k: v for k, v in judge_flags.items() if v is not None}}
        judge["model_args"] = _options(judge_flags["model_args"], "--judge-model-args")
    elif any(judge_flags.values()):
        raise HarnessError("--judge-base-url, --judge-tokenizer and --judge-model-args need --judge MODEL")
    data_dir = flags.get("data_dir")
    settings = {"model": spec, "tasks": flags["tasks"], "lengths": flags.get("lengths", "4k"), "limit": flags.get("limit"),
                "seed": flags.get("seed", 42), "chat_template": chat_template, "model_args": model.recorded_args(),
                "data_dir": str(data_dir) if data_dir else None, "task_args": task_arguments(flags),
                "batch_size": model.batch_size, "base_url": model.base_url, "tokenizer": model.tokenizer, "judge": judge,
                "max_new_tokens": flags.get("max_new_tokens"), "max_think_tokens": flags.get("max_think_tokens"),
                "think_markers": flags.get("think_markers"), "replicas": flags.get("replicas", 1),
                "executor": flags.get("executor", "local"), "ray_address": flags.get("ray_address"),
                "schedule": flags.get("schedule", "prefix")}
    config = eval_config(settings)
    if config.judge is not None:
        config.judge.backend.options()  # the judge's options checked now, before the evaluated model loads
    return config


def prepare_flags(flags: Mapping[str, Any]) -> Prepared:
    """Check every flag, then prepare the run (`harness.runner.prepare.prepare`): backend, judge, output claimed."""
    from harness.core.pathnames import slugify
    from harness.lmeval_compat import check_output_path
    from harness.runner.prepare import data_dir, prepare
    from harness.tracking import check_wandb_args

    config = eval_config_from_flags(flags)
    notes = _fewshot_note(config.tasks, config.task_args, flags.get("num_fewshot"))
    wandb_args = check_wandb_args(flags.get("wandb_args"))  # wandb missing or a bad key fails now, before any work
    data_dir(config.data_dir)
    output = Path(flags["output"]) if flags.get("output") else Path("runs") / slugify(config.model)
    check_output_path(output)  # lm-eval's `--output_path res.json` names a file; ours is a directory
    prepared = prepare(config, output, Path(flags["db"]) if flags.get("db") else None, wandb_args)
    prepared.notes = notes
    return prepared


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
    max_new_tokens: int | None = None,
    max_think_tokens: int = 0,
    think_markers: str | Sequence[str] | None = None,
    replicas: int = 1,
    executor: str = "local",
    ray_address: str | None = None,
    schedule: str = "prefix",
) -> Result:
    """Evaluate `model` on `tasks` across `lengths`, exactly as `harness eval` with the same arguments does
    (the same files under `output`, the same database row); returns the `Result` the command prints.

    Arguments are `harness eval`'s flags (see `harness eval --help`), as strings or Python values:
    `evaluate("tiny-random", ["niah_single_1"], lengths=[256, 512], limit=4, model_args={"dtype": "float32"})`."""
    prepared = prepare_flags(dict(locals()))
    for note in prepared.notes:
        warnings.warn(note, stacklevel=2)
    return run(prepared)[1]


__all__ = ["EvalArgs", "EvalConfig", "Prepared", "eval_config_from_flags", "evaluate", "prepare_flags", "run",
           "task_arguments"]
