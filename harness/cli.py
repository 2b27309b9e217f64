"""The `harness` command line. Each command parses its flags and calls one library function."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional

import typer

from harness.errors import HarnessError

app = typer.Typer(
    help="lc-harness: evaluate long-context language models across context lengths.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Built-in models that need no hub.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _store(db: Optional[Path]):  # type: ignore[no-untyped-def]
    from harness.paths import default_db_path
    from harness.store import Store

    return Store(db or default_db_path())


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("_") or "model"


def _batch_size(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise HarnessError(f"bad --batch-size {value!r}: expected a positive integer or 'auto'")
    return size


@app.command("eval")
def eval_command(
    model: str = typer.Option(..., help="checkpoint path, hub id, built-in name, openai:NAME or vllm:PATH"),
    tasks: str = typer.Option(..., help="comma-separated tasks or groups (see `harness tasks`)"),
    lengths: str = typer.Option("4k", help="comma-separated context lengths: 4k,8k,128k, plain integers, or max (the model's)"),
    limit: Optional[int] = typer.Option(None, help="samples per task and length (default: the task's own)"),
    output: Optional[Path] = typer.Option(None, help="output directory (default runs/<model>); reruns resume"),
    seed: int = typer.Option(42, help="seed for sample generation"),
    batch_size: str = typer.Option("1", help="batch size, or 'auto' (halve on out-of-memory)"),
    chat_template: str = typer.Option("auto", help="auto (when the tokenizer has one), on or off"),
    model_args: Optional[str] = typer.Option(None, help="backend arguments k=v,... (dtype, device, ...)"),
    base_url: Optional[str] = typer.Option(None, help="openai backend: API base URL (or OPENAI_BASE_URL)"),
    tokenizer: Optional[str] = typer.Option(None, help="openai backend: tokenizer path or hub id for counting"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HARNESS_DATA_DIR", help="where tasks find data files"),
    task_args: Optional[str] = typer.Option(None, help="task arguments k=v,... (e.g. haystack_dir=PATH)"),
    depths: Optional[str] = typer.Option(None, help="niah: needle depths in percent, e.g. 0,25,50,75,100"),
    depth_steps: Optional[int] = typer.Option(None, help="niah: N evenly spaced depths in [0, 100]"),
    truncate: str = typer.Option("middle", help="real-document tasks: middle (first + last half), left (keep the end) or skip"),
    prompt_style: Optional[str] = typer.Option(None, help="infinitebench: chat or completion templates (default: by chat template)"),
    judge: Optional[str] = typer.Option(None, help="score judged tasks with this model (same specs as --model)"),
    judge_base_url: Optional[str] = typer.Option(None, help="openai judge: API base URL"),
    judge_tokenizer: Optional[str] = typer.Option(None, help="openai judge: tokenizer path or hub id"),
    db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database (SQLite)"),
) -> None:
    """Run a model over tasks at several context lengths; write results, samples and a database row."""
    from harness.backends import load_backend, parse_model_spec
    from harness.lengths import parse_lengths
    from harness.model_args import parse_model_args
    from harness.report import result_table
    from harness.runner import EvalConfig, evaluate
    from tasks import resolve

    task_names = resolve([t.strip() for t in tasks.split(",") if t.strip()])
    length_specs = [p.strip() for p in lengths.split(",") if p.strip()]
    if not length_specs:
        raise HarnessError(f"bad --lengths {lengths!r}: no lengths given")
    parsed_lengths = parse_lengths(",".join(p for p in length_specs if p != "max")) if set(length_specs) - {"max"} else []
    args = parse_model_args(model_args)
    size = _batch_size(batch_size)
    if chat_template not in ("auto", "on", "off"):
        raise HarnessError(f"bad --chat-template {chat_template!r}: expected auto, on or off")
    if limit is not None and limit < 1:
        raise HarnessError(f"bad --limit {limit}: must be at least 1")
    backend_kwargs: dict = {"batch_size": size, **args}
    if parse_model_spec(model).backend == "openai":
        backend_kwargs.update(base_url=base_url, tokenizer=tokenizer)
    elif base_url or tokenizer:
        raise HarnessError("--base-url and --tokenizer are for openai:NAME models")
    extra_task_args = parse_model_args(task_args, flag="--task-args")
    if depths is not None:
        extra_task_args["depths"] = [_depth(d) for d in depths.split(",") if d.strip()]
    if depth_steps is not None:
        extra_task_args["depth_steps"] = depth_steps
    if truncate != "middle":  # only non-defaults enter task args (and so the fingerprints of existing runs stay)
        from tasks.truncation import check_mode

        extra_task_args["truncate"] = check_mode(truncate)
    if prompt_style is not None:
        if prompt_style not in ("chat", "completion"):
            raise HarnessError(f"bad --prompt-style {prompt_style!r}: expected chat or completion")
        extra_task_args["prompt_style"] = prompt_style
    backend = load_backend(model, **backend_kwargs)
    if "max" in length_specs and backend.max_length not in parsed_lengths:
        parsed_lengths.append(backend.max_length)
    judge_obj = _judge(judge, model, backend, judge_base_url, judge_tokenizer) if judge else None
    config = EvalConfig(
        model=model,
        tasks=task_names,
        lengths=parsed_lengths,
        limit=limit,
        seed=seed,
        chat_template=chat_template,  # type: ignore[arg-type]
        model_args=args,
        data_dir=str(data_dir) if data_dir else None,
        task_args=extra_task_args,
    )
    out = output or Path("runs") / _slug(model)
    try:
        run_id, result = evaluate(config, backend, out, _store(db), judge_obj)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: finished samples are saved in {out}; rerun the same command to continue", err=True)
        raise typer.Exit(130) from None
    finally:
        backend.close()
    typer.echo(result_table(result))
    timings = result.config["timings"]
    typer.echo(
        f"\nrun {run_id}: {timings['samples_computed']} samples computed, {timings['samples_reused']} reused, "
        f"{timings['total_s']:.1f}s -> {out / 'results.json'}"
    )


def _depth(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise HarnessError(f"bad --depths entry {text!r}: expected a number from 0 to 100") from None


def _judge(spec: str, model: str, backend, base_url: Optional[str], tokenizer: Optional[str]):  # type: ignore[no-untyped-def]
    """The judge: the evaluated backend itself when the specs match, else a new backend."""
    from harness.backends import load_backend, parse_model_spec
    from harness.judge import Judge

    if spec == model:
        return Judge(backend, spec)
    kwargs: dict = {}
    if parse_model_spec(spec).backend == "openai":
        kwargs.update(base_url=base_url, tokenizer=tokenizer)
    return Judge(load_backend(spec, **kwargs), spec)


@app.command("train")
def train_command(
    model: str = typer.Option(..., help="base model: checkpoint path, hub id or built-in name"),
    data: str = typer.Option(..., help="JSONL of {messages} or {prompt, completion} records, a synth output dir, a hub dataset"),
    stages: str = typer.Option(..., help="LEN:STEPS[:THETA],... e.g. 8k:200,16k:100 (lengths non-decreasing)"),
    output: Path = typer.Option(..., help="output directory (the final model; rerun to resume)"),
    rope: Optional[str] = typer.Option(None, help="linear:F, dynamic:F, yarn:F, llama3:F or theta:T"),
    max_position_embeddings: Optional[int] = typer.Option(None, help="new max_position_embeddings"),
    lora: Optional[str] = typer.Option(None, help="LoRA r=..,alpha=..,dropout=.. (merged on save)"),
    lr: float = typer.Option(2e-5, help="peak learning rate"),
    warmup_ratio: float = typer.Option(0.05, help="warm-up share of each stage's steps"),
    weight_decay: float = typer.Option(0.0),
    grad_accum: int = typer.Option(1, help="gradient accumulation steps"),
    packing: bool = typer.Option(True, help="pack examples into full-length sequences (no cross-example attention)"),
    batch_size: int = typer.Option(1, help="sequences per step when --no-packing"),
    loss_norm: str = typer.Option("token", help="token (mean over label tokens) or sequence (mean of example means)"),
    gradient_checkpointing: bool = typer.Option(False, help="trade compute for memory"),
    save_steps: int = typer.Option(50, help="checkpoint every N steps (resume point)"),
    seed: int = typer.Option(0),
) -> None:
    """Fine-tune a causal LM with RoPE scaling and stepwise context extension."""
    from harness.train.spec import TrainSpec, parse_lora, parse_rope, parse_stages
    from harness.train.trainer import train

    spec = TrainSpec(
        model=model, data=data, stages=parse_stages(stages), rope=parse_rope(rope) if rope else None,
        max_position_embeddings=max_position_embeddings, lora=parse_lora(lora), learning_rate=lr,
        warmup_ratio=warmup_ratio, weight_decay=weight_decay, grad_accum=grad_accum, packing=packing,
        batch_size=batch_size, loss_normalization=loss_norm, gradient_checkpointing=gradient_checkpointing,
        save_steps=save_steps, seed=seed,
    )
    try:
        out = train(spec, output)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: rerun the same command to resume from the last checkpoint in {output}", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"trained -> {out}")


@app.command("tasks")
def tasks_command() -> None:
    """List the registered tasks and groups."""
    from tabulate import tabulate

    from tasks import GROUPS, TASKS, get_task

    rows = []
    for name in TASKS.names():
        task = get_task(name)
        groups = ",".join(g for g, group in GROUPS.items() if name in group.tasks)
        rows.append([name, groups, task.metric.name, task.max_new_tokens])
    typer.echo(tabulate(rows, headers=["task", "groups", "metric", "max new tokens"]))
    typer.echo("\ngroups: " + ", ".join(f"{g} ({len(group.tasks)} tasks)" for g, group in GROUPS.items()))


@app.command("runs")
def runs_command(db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database")) -> None:
    """List the runs in the results database, newest first."""
    from tabulate import tabulate

    rows = [[r["run_id"], r["created_at"], r["model"], r["backend"], r["tasks"], r["output_dir"]] for r in _store(db).runs()]
    typer.echo(tabulate(rows, headers=["run", "created", "model", "backend", "tasks", "output"]) if rows else "no runs yet")


@app.command("show")
def show_command(
    run_id: str = typer.Argument(..., help="run id (a unique prefix is enough)"),
    db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database"),
    fmt: str = typer.Option("simple", "--format", help="tabulate format: simple, github, ..."),
) -> None:
    """Print one run's scores as a table (tasks x lengths)."""
    from harness.report import result_table

    result = _store(db).result(run_id)
    if result is None:
        raise HarnessError(f"no run {run_id!r} (or more than one matches) in the database; see `harness runs`")
    typer.echo(f"model {result.config.get('model')} ({result.config.get('backend')})")
    typer.echo(result_table(result, fmt))


@models_app.command("list")
def models_list() -> None:
    """Show the built-in models and where they live."""
    from tabulate import tabulate

    from harness.models import BUILTINS

    rows = [[m.name, "built" if m.built else "not built", str(m.path), m.description] for m in BUILTINS.values()]
    typer.echo(tabulate(rows, headers=["model", "state", "path", "description"]))


@models_app.command("build")
def models_build(
    name: str = typer.Argument(..., help="built-in model name"),
    force: bool = typer.Option(False, "--force", help="rebuild even if it is already built"),
) -> None:
    """Build a built-in model into the cache (once; --force rebuilds)."""
    from harness.models import BUILTINS

    if name not in BUILTINS:
        raise HarnessError(f"unknown built-in model {name!r}; known: {', '.join(BUILTINS)}")
    model = BUILTINS[name]
    if force or not model.built:
        model.build(model.path)
    typer.echo(f"{name} -> {model.path}")


def main() -> None:
    """Entry point: one clear line and a non-zero exit for user errors; tracebacks only with --debug."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except HarnessError as error:
        if debug:
            raise
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)


synth_app = typer.Typer(help="Synthesis plugins: generate long-context training data.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")


@synth_app.command("list")
def synth_list() -> None:
    """Installed synthesis plugins (entry point group lc_harness.synth)."""
    from tabulate import tabulate

    from synth.plugin import plugins

    rows = [[name, cls.description] for name, cls in sorted(plugins().items())]
    typer.echo(tabulate(rows, headers=["plugin", "what"]))


@synth_app.command("run")
def synth_run(
    plugin: str = typer.Argument(..., help="plugin name (see `harness synth list`)"),
    config: Path = typer.Option(..., help="YAML or JSON config of the plugin"),
    out: Path = typer.Option(..., help="output directory: data.jsonl, manifest.json, stats.json"),
    generator: str = typer.Option("smollm2-135m", help="generator model: built-in, checkpoint, openai:NAME, vllm:PATH"),
    base_url: Optional[str] = typer.Option(None, help="openai generator: API base URL"),
    tokenizer: Optional[str] = typer.Option(None, help="openai generator: tokenizer path or hub id"),
    model_args: Optional[str] = typer.Option(None, help="generator backend arguments k=v,..."),
    corpus: Optional[Path] = typer.Option(None, help="YAML list of corpus sources (path / dataset / builtin), if the plugin reads documents"),
    seed: int = typer.Option(0, help="seed of the plugin's random choices"),
) -> None:
    """Run a plugin; a rerun after a crash reuses every cached LLM call."""
    from harness.backends import parse_model_spec
    from harness.configfile import read_config_file
    from harness.model_args import parse_model_args
    from synth.run import synthesize

    sources: list = []
    if corpus is not None:
        import yaml

        sources = yaml.safe_load(corpus.read_text()) or []
        if not isinstance(sources, list):
            raise HarnessError(f"{corpus}: expected a list of corpus sources")
    kwargs: dict = dict(parse_model_args(model_args))
    if parse_model_spec(generator).backend == "openai":
        kwargs.update(base_url=base_url, tokenizer=tokenizer)
    stats = synthesize(plugin, read_config_file(config), str(config), out, sources, seed, generator, kwargs)
    typer.echo(f"{stats['records']} records -> {out / 'data.jsonl'} ({stats['llm_calls']} LLM calls, {stats['llm_cache_hits']} cache hits)")
    if stats["dropped"]:
        typer.echo("dropped: " + ", ".join(f"{k}: {v}" for k, v in stats["dropped"].items()))


@synth_app.command("stats")
def synth_stats(out: Path = typer.Argument(..., help="an output directory of `harness synth run`")) -> None:
    """Sizes, lengths, diversity (and the plugin's own statistics) of a synthesized dataset."""
    import json

    from synth.plugin import get_plugin
    from synth.stats import dataset_stats, read_records

    stats = dataset_stats(read_records(out / "data.jsonl"))
    saved = out / "stats.json"
    if saved.exists():
        stats = {**json.loads(saved.read_text()), **stats}
    manifest = out / "manifest.json"
    if manifest.exists():  # the plugin's own statistics recomputed from its outputs (WildLong: graphs)
        plugin = get_plugin(json.loads(manifest.read_text())["plugin"])
        recomputed = plugin.output_stats(out)
        stats["plugin"] = {**stats.get("plugin", {}), **recomputed}
    typer.echo(json.dumps(stats, indent=2, sort_keys=True))


@app.command("sweep")
def sweep(
    config: Path = typer.Argument(..., help="sweep YAML: variants x base model x train spec x eval suite"),
    executor: str = typer.Option("local", help="local (this machine) or ray (a Ray cluster; local instance by default)"),
    jobs: int = typer.Option(1, help="local: variants run at a time (a process pool)"),
    address: Optional[str] = typer.Option(None, help="ray: cluster address (default: start a local instance)"),
    output: Optional[Path] = typer.Option(None, help="sweep directory (default runs/sweeps/NAME)"),
    only: Optional[str] = typer.Option(None, help="run only these variants (comma-separated names)"),
) -> None:
    """Synthesize, train and score every variant; finished stages are reused (content-hashed)."""
    from tabulate import tabulate

    from harness.sweep import run_sweep
    from harness.sweep.config import read_sweep

    settings = read_sweep(config)
    root = output or Path("runs") / "sweeps" / settings.name
    summary = run_sweep(settings, root, executor, jobs, address, [n.strip() for n in only.split(",")] if only else None)
    rows = []
    for name, variant in summary["variants"].items():
        ran = sum(1 for s in variant["stages"] if s["status"] == "done" and not s["cached"])
        reused = sum(1 for s in variant["stages"] if s["cached"])
        rows.append([name, variant["status"], ran, reused, variant["error"] or ""])
    typer.echo(tabulate(rows, headers=["variant", "status", "stages run", "reused", "error"]))
    typer.echo(f"{summary['stages_run']} stages run in {summary['seconds']} s -> {root / 'sweep.json'}")
    if any(v["status"] != "done" for v in summary["variants"].values()):
        raise typer.Exit(1)


board_app = typer.Typer(help="Leaderboards: a sweep's variants as rows, tasks x lengths as columns.", no_args_is_help=True)
app.add_typer(board_app, name="leaderboard")


@board_app.command("build")
def leaderboard_build(
    board: str = typer.Argument(..., help="a board name (leaderboards/NAME.yaml) or a board YAML path"),
    output: Optional[Path] = typer.Option(None, help="where to write board.md, board.csv, index.html, baseline.json "
                                                     "(default runs/leaderboards/NAME)"),
) -> None:
    """Print the board; write Markdown, CSV, the HTML page and a baseline for `harness check`."""
    from leaderboards.collect import collect
    from leaderboards.config import read_board
    from leaderboards.page import page
    from leaderboards.render import baseline_json, markdown, terminal, to_csv

    config = read_board(board)
    built = collect(config)
    out = output or Path("runs") / "leaderboards" / config.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "board.md").write_text(markdown(built))
    (out / "board.csv").write_text(to_csv(built))
    (out / "index.html").write_text(page(built))
    (out / "baseline.json").write_text(baseline_json(built))
    typer.echo(terminal(built))
    typer.echo(f"-> {out}/board.md, board.csv, index.html, baseline.json")


@app.command("check")
def check(
    run: str = typer.Option(..., help="the run to check: a run directory or its results.json"),
    baseline: Path = typer.Option(..., help="a results.json, or a board's baseline.json (with --row)"),
    row: Optional[str] = typer.Option(None, help="the baseline.json row (variant) to compare with"),
    max_drop: float = typer.Option(2.0, help="points a cell may drop before it can fail"),
    alpha: float = typer.Option(0.05, help="significance level a drop must reach to fail"),
) -> None:
    """Exit 1 when a cell drops by more than --max-drop and the drop is significant at --alpha."""
    from tabulate import tabulate

    from harness.check import cells_of_results, compare, load_baseline, resolve_results
    from harness.lengths import format_length

    if not 0 < alpha < 1 or max_drop < 0:
        raise HarnessError(f"--alpha {alpha} must be in (0, 1) and --max-drop {max_drop} >= 0")
    verdicts, missing = compare(load_baseline(baseline, row), cells_of_results(resolve_results(run)), max_drop, alpha)
    if not verdicts:
        raise HarnessError(f"{run} and {baseline} share no task x length cell")
    rows = [[v.task, format_length(v.length), f"{v.baseline:.2f}", f"{v.run:.2f}", f"{v.diff:+.2f}", f"{v.p_value:.3g}", v.test,
             "REGRESSION" if v.regression else "ok" if v.diff >= -max_drop else "drop, not significant"] for v in verdicts]
    typer.echo(tabulate(rows, headers=["task", "length", "baseline", "run", "diff", "p", "test", "verdict"]))
    for task, length in missing:
        typer.echo(f"not in the run: {task} at {format_length(length)}")
    failed = [v for v in verdicts if v.regression]
    if failed:
        typer.echo(f"{len(failed)} regression(s): drop > {max_drop} points at p < {alpha}", err=True)
        raise typer.Exit(1)
    typer.echo(f"no regression (max drop {max_drop} points, alpha {alpha})")
