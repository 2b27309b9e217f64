"""The `harness` command line. Each command parses its flags and calls one library function."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

import typer

from harness.core.errors import HarnessError

if TYPE_CHECKING:
    from harness.core.records import Result
    from harness.store import Store

app = typer.Typer(
    help="lc-harness: evaluate long-context language models across context lengths.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Built-in models that need no hub.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def _store(db: Optional[Path]) -> Store:
    from harness.core.paths import default_db_path
    from harness.store import Store

    return Store(db or default_db_path())


def _slug(model: str) -> str:
    """The default output directory's name for `model` (`runs/<slug>`): never `..`, a separator or a hidden name."""
    from harness.core.pathnames import slugify

    return slugify(model)


def _version(value: bool) -> None:
    if value:
        from harness import __version__
        from harness.core.provenance import git_sha

        sha = git_sha()
        typer.echo(f"lc-harness {__version__}" + (f" (git {sha[:12]})" if sha else ""))
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    pass


MAX_NEW_TOKENS_HELP = "the answer budget of every task (default: each task's own); prompts shrink to fit each length"
MAX_THINK_TOKENS_HELP = ("a reasoning model's thinking budget, added to the answer's (prompts shrink by it too); "
                         "think blocks are stripped before scoring (default 0: not a reasoning model)")
THINK_MARKERS_HELP = "opening,closing marker of a think block (default '<think>,</think>')"


@app.command("eval")
def eval_command(
    model: Optional[str] = typer.Option(None, "--model", help="checkpoint path, hub id, built-in name, openai:NAME or vllm:PATH "
                                        "(or lm-eval's hf, vllm, local-chat-completions, ... with --model_args pretrained=/model=)"),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="comma-separated tasks or groups; `list` prints them (see `harness tasks`)"),
    lengths: str = typer.Option("4k", help="comma-separated context lengths: 4k,8k,128k, plain integers, or max (the model's)"),
    limit: Optional[str] = typer.Option(None, "--limit", help="samples per task and length (default: the task's own), "
                                        "or a fraction of them, e.g. 0.1 (lm-eval's)"),
    output: Optional[Path] = typer.Option(None, "--output", "--output_path", help="output directory (default runs/<model>); reruns resume. "
                                          "A directory, also as --output_path: lm-eval's results-file form (x.json) is refused"),
    seed: int = typer.Option(42, help="seed for sample generation (one integer, not lm-eval's comma-separated seeds)"),
    batch_size: Optional[str] = typer.Option(None, "--batch-size", "--batch_size",
                                             help="batch size (default 1), or 'auto' (halve on out-of-memory; lm-eval's auto:N is auto)"),
    chat_template: Optional[str] = typer.Option(None, "--chat-template", help="auto (the default: when the tokenizer has one), on or off"),
    apply_chat_template: bool = typer.Option(False, "--apply_chat_template", help="lm-eval's spelling of --chat-template on (no template name). "
                                             "Unlike lm-eval, chat is also used without it: --chat-template is auto by default"),
    model_args: Optional[str] = typer.Option(None, "--model-args", "--model_args",
                                             help="backend arguments k=v,... (dtype, device, base_url, ...)"),
    base_url: Optional[str] = typer.Option(None, "--base-url",
                                           help="openai backend: API base URL (= --model-args base_url=; else OPENAI_BASE_URL)"),
    tokenizer: Optional[str] = typer.Option(None, "--tokenizer",
                                            help="openai backend: tokenizer path or hub id for counting (= --model-args tokenizer=)"),
    device: Optional[str] = typer.Option(None, "--device", help="local models: torch device, e.g. cuda:0 (= --model-args device=)"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HARNESS_DATA_DIR", help="where tasks find data files"),
    task_args: Optional[str] = typer.Option(None, help="task arguments k=v,... (e.g. haystack_dir=PATH)"),
    num_fewshot: Optional[int] = typer.Option(None, "--num_fewshot", "--num-fewshot",
                                              help="few-shot examples (= --task-args num_fewshot=; MMLU only: "
                                                   "other tasks keep their benchmark's prompt)"),
    depths: Optional[str] = typer.Option(None, help="niah: needle depths in percent, e.g. 0,25,50,75,100"),
    depth_steps: Optional[int] = typer.Option(None, help="niah: N evenly spaced depths in [0, 100]"),
    truncate: str = typer.Option("middle", help="real-document tasks: middle (first + last half), left (keep the end) or skip"),
    prompt_style: Optional[str] = typer.Option(None, help="infinitebench: chat or completion templates (default: by chat template)"),
    gen_kwargs: Optional[str] = typer.Option(None, "--gen_kwargs", "--gen-kwargs",
                                             help="lm-eval's generation settings: only do_sample=false and temperature=0 "
                                                  "(greedy, what every task uses) are accepted"),
    log_samples: bool = typer.Option(False, "--log_samples", "--log-samples", help="accepted for lm-eval's habit: samples are always logged; "
                                                  "their prompts by reference (`harness show RUN --sample ID` prints one)"),
    judge: Optional[str] = typer.Option(None, help="score judged tasks with this model (same specs as --model)"),
    judge_model_args: Optional[str] = typer.Option(None, help="judge backend arguments k=v,..."),
    judge_base_url: Optional[str] = typer.Option(None, help="openai judge: API base URL"),
    judge_tokenizer: Optional[str] = typer.Option(None, help="openai judge: tokenizer path or hub id"),
    db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database (SQLite)"),
    wandb_args: Optional[str] = typer.Option(None, "--wandb-args", "--wandb_args",
                                             help="log the results to W&B: wandb.init's arguments, e.g. project=P,mode=offline "
                                                  "(the `tracking` extra)"),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help=MAX_NEW_TOKENS_HELP),
    max_think_tokens: int = typer.Option(0, "--max-think-tokens", help=MAX_THINK_TOKENS_HELP),
    think_markers: Optional[str] = typer.Option(None, "--think-markers", help=THINK_MARKERS_HELP),
    replicas: int = typer.Option(1, "--replicas", help="model workers sharing the samples: hf/vllm processes, each on its own "
                                 "GPU(s) (CUDA_VISIBLE_DEVICES; vLLM: tensor_parallel_size each) or share of CPU cores; "
                                 "openai: one per --base-url URL1,URL2,..."),
    executor: str = typer.Option("local", "--executor", help="where --replicas workers run: local processes, or ray "
                                 "(actors on a Ray cluster; the `ray` extra)"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="--executor ray: the cluster to join "
                                              "(default: start a local one)"),
    schedule: str = typer.Option("prefix", "--schedule", help="prefix (default): samples sharing a prompt prefix sent "
                                 "together to one worker, longest first, for prefix caches; length: longest prompts first"),
) -> None:
    """Run a model over tasks at several context lengths; write results, samples and a database row."""
    flags = dict(locals())  # the flags by name: `harness.api.evaluate`'s parameters
    from harness.task_listing import LIST_VALUES, listing

    if tasks in LIST_VALUES:
        typer.echo(listing(tasks))
        return
    if model is None or tasks is None:
        raise HarnessError(f"--{'model' if model is None else 'tasks'} is required (see `harness eval --help`)")
    _run_eval(flags)


def _run_eval(flags: dict[str, object]) -> None:
    """Prepare and run an evaluation from `harness eval`'s flags; print its table and where it went."""
    from harness.api import prepare_flags, run
    from harness.report import result_table

    prepared = prepare_flags(flags)
    for note in prepared.notes:
        typer.echo(note, err=True)
    out = prepared.output
    try:
        run_id, result = run(prepared)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: finished samples are saved in {out}; rerun the same command to continue", err=True)
        raise typer.Exit(130) from None
    typer.echo(result_table(result))
    timings = result.config["timings"]
    typer.echo(
        f"\nrun {run_id}: {timings['samples_computed']} samples computed, {timings['samples_reused']} reused, "
        f"{timings['total_s']:.1f}s -> {out / 'results.json'}"
    )
    _exit_on_failed_samples(result, out)


def _exit_on_failed_samples(result: Result, out: Path) -> None:
    """Exit 1, after one loud line, when some samples got no answer: the run is written but incomplete
    (a script or CI gate must not take it for a finished one), and a rerun retries only those."""
    from harness.results import failed_samples

    failed = failed_samples(result)
    if failed:
        typer.echo(f"warning: {failed} samples failed (no answer after retries; left out of the scores, "
                   f"reasons in {out / 'samples'}): rerun the same command to retry them", err=True)
        raise typer.Exit(1)


@app.command("noise")
def noise_command(
    model: str = typer.Option(..., "--model", help="the checkpoint, as `harness eval --model` takes it"),
    tasks: str = typer.Option(..., "--tasks", help="comma-separated tasks or groups"),
    lengths: str = typer.Option("4k", help="comma-separated context lengths: 4k,8k, plain integers, or max"),
    eval_seeds: int = typer.Option(3, "--eval-seeds", help="K evaluation seeds (>= 2): --seed, --seed + 1, ..., each a new draw of samples"),
    seed: int = typer.Option(42, help="the first evaluation seed"),
    limit: Optional[str] = typer.Option(None, "--limit", help="samples per task and length (or a fraction), in every run"),
    output: Optional[Path] = typer.Option(None, "--output", help="OUT: the runs go to OUT/seed-<s>, the summary to OUT/noise.json "
                                          "(default runs/noise/<model>-<tasks>-<lengths>); reruns resume"),
    alpha: float = typer.Option(0.05, help="significance level of the minimum detectable effect (power 80%)"),
    batch_size: Optional[str] = typer.Option(None, "--batch-size", help="batch size (default 1), or 'auto'"),
    chat_template: Optional[str] = typer.Option(None, "--chat-template", help="auto (the default), on or off"),
    model_args: Optional[str] = typer.Option(None, "--model-args", help="backend arguments k=v,... (dtype, device, base_url, ...)"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="openai backend: API base URL"),
    tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="openai backend: tokenizer path or hub id for counting"),
    device: Optional[str] = typer.Option(None, "--device", help="local models: torch device, e.g. cuda:0"),
    data_dir: Optional[Path] = typer.Option(None, envvar="HARNESS_DATA_DIR", help="where tasks find data files"),
    task_args: Optional[str] = typer.Option(None, help="task arguments k=v,..."),
    judge: Optional[str] = typer.Option(None, help="score judged tasks with this model (same specs as --model)"),
    judge_model_args: Optional[str] = typer.Option(None, help="judge backend arguments k=v,..."),
    judge_base_url: Optional[str] = typer.Option(None, help="openai judge: API base URL"),
    judge_tokenizer: Optional[str] = typer.Option(None, help="openai judge: tokenizer path or hub id"),
    db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database (SQLite): one row per run"),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help=MAX_NEW_TOKENS_HELP),
    max_think_tokens: int = typer.Option(0, "--max-think-tokens", help=MAX_THINK_TOKENS_HELP),
    think_markers: Optional[str] = typer.Option(None, "--think-markers", help=THINK_MARKERS_HELP),
) -> None:
    """The suite's own noise floor: evaluate one checkpoint under K evaluation seeds (different sample draws);
    per cell the SD across seeds and the minimum detectable effect (MDE) of a comparison -> OUT/noise.json."""
    flags = dict(locals())  # `harness eval`'s flags by name (harness.api), with eval_seeds and alpha
    from harness.noise import NOISE_FILE, noise_table, run_noise

    try:
        done = run_noise(flags, progress=lambda line: typer.echo(line, err=True))
    except KeyboardInterrupt:
        typer.echo("\ninterrupted: finished samples are saved; rerun the same command to continue", err=True)
        raise typer.Exit(130) from None
    typer.echo(noise_table(done.record))
    typer.echo(f"\n{len(done.record.seeds)} evaluation seeds -> {done.output / NOISE_FILE}")
    if done.failed:
        typer.echo(f"warning: {done.failed} samples failed (no answer after retries; left out of the scores): "
                   "rerun the same command to retry them", err=True)
        raise typer.Exit(1)


@app.command("train")
def train_command(
    model: str = typer.Option(..., help="base model: checkpoint path, hub id or built-in name"),
    data: str = typer.Option(..., help="JSONL of {messages} or {prompt, completion} records, a synth output dir, a hub dataset"),
    stages: str = typer.Option(..., help="LEN:STEPS[:THETA],... e.g. 8k:200,16k:100 (lengths non-decreasing)"),
    output: Path = typer.Option(..., help="output directory (the final model; rerun to resume)"),
    rope: Optional[str] = typer.Option(None, help="linear:F, dynamic:F, yarn:F, llama3:F or theta:T"),
    max_position_embeddings: Optional[int] = typer.Option(None, help="new max_position_embeddings"),
    lora: Optional[str] = typer.Option(None, help="LoRA r=..,alpha=..,dropout=.. (merged on save)"),
    learning_rate: float = typer.Option(2e-5, "--lr", "--learning-rate", help="peak learning rate"),
    lr_scheduler: str = typer.Option("cosine", help="learning-rate schedule within each stage (transformers' "
                                                    "lr_scheduler_type): cosine, linear, constant_with_warmup, ..."),
    warmup_ratio: float = typer.Option(0.05, help="warm-up share of each stage's steps"),
    weight_decay: float = typer.Option(0.0),
    max_grad_norm: float = typer.Option(1.0, help="clip gradients to this norm (0: no clipping)"),
    grad_accum: int = typer.Option(1, help="gradient accumulation steps"),
    packing: bool = typer.Option(True, help="pack examples into full-length sequences (no cross-example attention)"),
    batch_size: int = typer.Option(1, help="sequences per step when --no-packing"),
    loss_normalization: str = typer.Option("token", "--loss-norm", "--loss-normalization",
                                           help="token (mean over label tokens) or sequence (mean of example means)"),
    gradient_checkpointing: bool = typer.Option(False, help="trade compute for memory"),
    save_steps: int = typer.Option(50, help="checkpoint every N steps (resume point)"),
    seed: int = typer.Option(0),
    report_to: str = typer.Option("none", help="experiment trackers: none, tensorboard, wandb, mlflow (comma-separated; "
                                               "transformers' integrations, the `tracking` extra)"),
) -> None:
    """Fine-tune a causal LM with RoPE scaling and stepwise context extension."""
    settings = {name: value for name, value in locals().items() if name != "output"}  # TrainSpec's fields by name
    from harness.tracking import parse_report_to
    from harness.train.data import check_data
    from harness.train.spec import load_train_spec
    from harness.train.trainer import train

    spec = load_train_spec({**settings, "report_to": parse_report_to(report_to)})
    check_data(data)  # a bad record fails now, before the output is claimed or a model loads
    try:
        out = train(spec, output)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: rerun the same command to resume from the last checkpoint in {output}", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"trained -> {out}")


@app.command("tasks")
def tasks_command(name: Optional[str] = typer.Argument(None, help="a group (lists its tasks) or a task (shows its settings)")) -> None:
    """List the registered tasks and groups, a group's tasks, or one task's settings."""
    from harness.task_listing import describe, listing

    typer.echo(describe(name) if name else listing())


@app.command("runs")
def runs_command(db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database")) -> None:
    """List the runs in the results database, newest first."""
    from tabulate import tabulate

    rows = [[r["run_id"], r["created_at"], r["model"], r["backend"], r["tasks"], r["output_dir"]] for r in _store(db).runs()]
    typer.echo(tabulate(rows, headers=["run", "created", "model", "backend", "tasks", "output"]) if rows else "no runs yet")


@app.command("show")
def show_command(
    run_id: str = typer.Argument(..., help="run id (a unique prefix is enough); with --sample also a run directory"),
    db: Optional[Path] = typer.Option(None, envvar="HARNESS_DB", help="results database"),
    fmt: str = typer.Option("simple", "--format", help="tabulate format: simple, github, ..."),
    sample: Optional[str] = typer.Option(None, "--sample", help="print this sample's prompt (as the model saw it) and output"),
) -> None:
    """Print one run's scores as a table (tasks x lengths), or one sample's prompt and output (--sample ID)."""
    from harness.report import result_table

    if sample is not None:
        from harness.sample_prompt import describe, locate_run, sample_prompt

        output, config = locate_run(run_id, None if Path(run_id).expanduser().is_dir() else _store(db))
        typer.echo(describe(sample_prompt(output, config, sample)))
        return
    result = _store(db).result(run_id)
    if result is None:
        raise HarnessError(f"no run {run_id!r} (or more than one matches) in the database; see `harness runs`")
    typer.echo(f"model {result.config.get('model')} ({result.config.get('backend')})")
    typer.echo(result_table(result, fmt))


@models_app.command("list")
def models_list() -> None:
    """Show the built-in models and where they live."""
    from tabulate import tabulate

    from harness.core.models import BUILTINS

    rows = [[m.name, "built" if m.built else "not built", str(m.path), m.description] for m in BUILTINS.values()]
    typer.echo(tabulate(rows, headers=["model", "state", "path", "description"]))


@models_app.command("build")
def models_build(
    name: str = typer.Argument(..., help="built-in model name"),
    force: bool = typer.Option(False, "--force", help="rebuild even if it is already built"),
) -> None:
    """Build a built-in model into the cache (once; --force rebuilds)."""
    from harness.core.models import BUILTINS

    if name not in BUILTINS:
        from harness.core.registry import unknown_name

        raise unknown_name("built-in model", name, BUILTINS)
    model = BUILTINS[name]
    if force or not model.built:
        model.make()
    typer.echo(f"{name} -> {model.path}")


def main() -> None:
    """Entry point: one clear line and a non-zero exit for user errors; tracebacks only with --debug."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    click = _click_exceptions()
    try:
        code = app(standalone_mode=False, prog_name="harness")  # click's own errors come here, to be one line
    except HarnessError as error:
        if debug:
            raise
        from harness.core.redaction import redact_text

        typer.echo(f"error: {_one_line(redact_text(str(error)))}", err=True)  # a message may quote a URL's credentials
        sys.exit(2)
    except click.ClickException as error:  # a flag's value of the wrong type, an unknown option or command
        if type(error).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            ctx = getattr(error, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            typer.echo(f"error: {_one_line(error.format_message())}{hint}", err=True)
        sys.exit(error.exit_code)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    except OSError as error:  # a file-system fault no check caught (full disk, permissions): the path, not a traceback
        if debug:
            raise
        typer.echo(f"error: {_one_line(_os_error_line(error))}", err=True)
        sys.exit(1)
    if isinstance(code, int) and code:  # typer.Exit(n) from a command
        sys.exit(code)


def _os_error_line(error: OSError) -> str:
    """What failed and on which path(s); a path in the cache dir says how to move it."""
    from harness.core.paths import cache_dir

    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    line = f"{' -> '.join(paths)}: {error.strerror or error}" if paths else str(error)
    cache = cache_dir()
    if any(Path(p).is_relative_to(cache) for p in paths):
        line += f" (in the cache dir {cache}: HARNESS_CACHE moves it)"
    return line


def _click_exceptions() -> ModuleType:
    """The exceptions module of the click that typer runs on (its own copy in recent typer, else click)."""
    import importlib

    return importlib.import_module(typer.BadParameter.__module__)


def _one_line(message: str) -> str:
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


synth_app = typer.Typer(help="Synthesis plugins: generate long-context training data.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")


@synth_app.command("list")
def synth_list() -> None:
    """Installed synthesis plugins (entry point group lc_harness.synth); broken ones are named with their error."""
    from tabulate import tabulate

    from harness.synth.plugin import discover

    found, broken = discover()
    rows = [[name, cls.description] for name, cls in sorted(found.items())]
    rows += [[name, f"BROKEN: {why}"] for name, why in sorted(broken.items())]
    typer.echo(tabulate(rows, headers=["plugin", "what"]))
    for name, why in sorted(broken.items()):
        typer.echo(f"warning: synth plugin {name!r} is broken and cannot run: {why}", err=True)


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
    from harness.core.configfile import read_config_file
    from harness.core.model_args import parse_model_args
    from harness.core.specs import BackendSpec
    from harness.synth.run import synthesize

    sources: list[dict[str, Any]] = []
    if corpus is not None:
        from harness.synth.corpus import read_corpus_file

        sources = read_corpus_file(corpus)
    kwargs = BackendSpec(generator, parse_model_args(model_args), base_url=base_url, tokenizer=tokenizer).options()
    stats = synthesize(plugin, read_config_file(config), str(config), out, sources, seed, generator, kwargs)
    typer.echo(f"{stats['records']} records -> {out / 'data.jsonl'} ({stats['llm_calls']} LLM calls, {stats['llm_cache_hits']} cache hits)")
    if stats["dropped"]:
        typer.echo("dropped: " + ", ".join(f"{k}: {v}" for k, v in stats["dropped"].items()))
    if stats.get("llm_failed"):  # the data is written but short of these items: exit 1, as eval with failed samples
        failed = sum(stats["llm_failed"].values())
        typer.echo(f"warning: {failed} generator calls failed after retries "
                   f"({', '.join(f'{k}: {v}' for k, v in stats['llm_failed'].items())}); their items were dropped: "
                   "rerun the same command to retry them (finished calls are cached)", err=True)
        raise typer.Exit(1)


@synth_app.command("stats")
def synth_stats(out: Path = typer.Argument(..., help="an output directory of `harness synth run`")) -> None:
    """Sizes, lengths, diversity (and the plugin's own statistics) of a synthesized dataset."""
    import json

    from harness.core.records import SynthManifest
    from harness.core.userfiles import read_json_object
    from harness.synth.plugin import get_plugin
    from harness.synth.stats import dataset_stats, read_records

    stats = dataset_stats(read_records(out / "data.jsonl"))
    saved = out / "stats.json"
    if saved.exists():
        stats = {**read_json_object(saved, "synth stats file"), **stats}
    manifest = out / "manifest.json"
    if manifest.exists():  # the plugin's own statistics recomputed from its outputs (WildLong: graphs)
        plugin = get_plugin(SynthManifest.read(manifest).plugin)  # harness.core.records: shape and version checked
        recomputed = plugin.output_stats(out)
        earlier = stats.get("plugin")
        stats["plugin"] = {**(earlier if isinstance(earlier, dict) else {}), **recomputed}
    typer.echo(json.dumps(stats, indent=2, sort_keys=True))


@app.command("sweep")
def sweep(
    config: Path = typer.Argument(..., help="sweep YAML: variants x base model x train spec x eval suite"),
    executor: str = typer.Option("local", help="local (this machine) or ray (a Ray cluster; local instance by default)"),
    jobs: int = typer.Option(1, help="local: variants (replicates of variants) run at a time (a process pool)"),
    address: Optional[str] = typer.Option(None, help="ray: cluster address (default: start a local instance)"),
    output: Optional[Path] = typer.Option(None, help="sweep directory (default runs/sweeps/NAME)"),
    only: Optional[str] = typer.Option(None, help="run only these variants (comma-separated names)"),
    wandb_args: Optional[str] = typer.Option(None, "--wandb-args", "--wandb_args",
                                             help="log every variant's scores to W&B: wandb.init's arguments, e.g. "
                                                  "project=P,mode=offline (the `tracking` extra)"),
) -> None:
    """Synthesize, train and score every variant; finished stages are reused (content-hashed)."""
    from tabulate import tabulate

    from harness.sweep import run_sweep
    from harness.sweep.config import read_sweep
    from harness.tracking import check_wandb_args, log_sweep_to_wandb

    settings = read_sweep(config)
    tracked = check_wandb_args(wandb_args)  # wandb missing or a bad key fails now, before any stage runs
    root = output or Path("runs") / "sweeps" / settings.name
    summary = run_sweep(settings, root, executor, jobs, address, [n.strip() for n in only.split(",")] if only else None)
    rows = []
    for name, variant in summary["variants"].items():
        stages = [s for replicate in variant["replicates"] for s in replicate["stages"]]  # a shared stage counted once
        ran = {s["id"] for s in stages if s["status"] == "done" and not s["cached"]}
        reused = {s["id"] for s in stages if s["cached"]} - ran
        rows.append([name, variant["status"], len(ran), len(reused), variant["error"] or ""])
    typer.echo(tabulate(rows, headers=["variant", "status", "stages run", "reused", "error"]))
    typer.echo(f"{summary['stages_run']} stages run in {summary['seconds']} s -> {root / 'sweep.json'}")
    if tracked is not None:  # the finished variants' scores, after sweep.json is written
        typer.echo(f"logged to W&B: {log_sweep_to_wandb(summary, tracked)}")
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
    from harness.leaderboards.collect import collect
    from harness.leaderboards.config import default_output, read_board
    from harness.leaderboards.render import terminal
    from harness.leaderboards.write import write_board

    config = read_board(board)
    out = output or default_output(config)  # the name is checked before it becomes a directory
    built = collect(config)
    write_board(built, out)  # all four files or none
    typer.echo(terminal(built))
    typer.echo(f"-> {out}/board.md, board.csv, index.html, baseline.json")


report_app = typer.Typer(help="Reports over several finished runs.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("correlation")
def report_correlation(
    runs: Optional[list[str]] = typer.Argument(None, help="run directories or their results.json files (3 or more in all)"),
    sweep: Optional[Path] = typer.Option(None, "--sweep", help="a sweep directory: every finished replicate of every variant "
                                         "(its sweep.json) is a run"),
    categories: Optional[str] = typer.Option(None, "--categories", help="comma-separated groups or tasks (default: the "
                                             "groups scored in every run)"),
    reference: Optional[str] = typer.Option(None, "--reference", help="the category every other is set against "
                                            "(default: ruler, where every run has it)"),
    length: Optional[str] = typer.Option(None, "--length", help="take each category's score at this length (4k) instead of "
                                         "its mean over the lengths every run has (a short-only one, MMLU, stays short)"),
    resamples: int = typer.Option(2000, "--resamples", help="bootstrap resamples of the runs"),
    seed: int = typer.Option(0, "--seed", help="the bootstrap's seed (same runs and seed: same intervals)"),
    output: Optional[Path] = typer.Option(None, "--output", help="write everything as JSON to this .json file"),
    plot: Optional[Path] = typer.Option(None, "--plot", help="draw the matrix as a heatmap into this .png or .svg file"),
) -> None:
    """Spearman rank correlation between categories (and between RULER and each category) across runs, with
    bootstrap intervals over the runs: HELMET's figure, for your own models and data variants."""
    from harness.correlation import (
        check_output_file,
        correlate,
        correlation_table,
        parse_length_option,
        runs_from_paths,
        runs_from_sweep,
        score_table,
        write_outputs,
    )

    check_output_file(output, "--output", (".json",))
    check_output_file(plot, "--plot", (".png", ".svg"))
    chosen = None if categories is None else categories.split(",")
    sources = runs_from_paths(runs or [])
    skipped: list[str] = []
    if sweep is not None:
        swept, skipped = runs_from_sweep(sweep)
        sources += swept
    table = score_table(sources, chosen, reference, parse_length_option(length), skipped)
    record = correlate(table, resamples, seed=seed, sweep=sweep, skipped=skipped)
    write_outputs(record, output, plot)
    typer.echo(correlation_table(record))
    for path in (output, plot):
        if path is not None:
            typer.echo(f"-> {path}")


@app.command("check")
def check(
    run: str = typer.Option(..., help="the run to check: a run directory or its results.json"),
    baseline: Path = typer.Option(..., help="a results.json (or its run directory), or a board's baseline.json (with --row)"),
    row: Optional[str] = typer.Option(None, help="the baseline.json row (variant) to compare with"),
    max_drop: float = typer.Option(2.0, help="points a cell may drop before it can fail"),
    alpha: float = typer.Option(0.05, help="family-wise significance level: the chance of any false regression in the check"),
    correction: str = typer.Option("holm", help="adjustment of the p-values over all cells: holm, bh or none"),
    require_power: bool = typer.Option(False, "--require-power", help="exit 2 when a cell cannot see a --max-drop drop "
                                       "(its minimum detectable effect at 80% power is larger)"),
) -> None:
    """Exit 1 when a cell drops by more than --max-drop and the drop is significant at --alpha after
    --correction over all cells, or when the run lacks a cell (task x length) of the baseline. Warn (and
    with --require-power exit 2) when a cell's minimum detectable effect exceeds --max-drop."""
    import math

    from tabulate import tabulate

    from harness.check import HEADERS, WARNINGS_SHOWN, cells_of_results, compare, load_baseline, power_warning, resolve_results, table_rows
    from harness.core.lengths import format_length
    from harness.core.stats.multiple import check_correction

    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha {alpha}: must be in (0, 1)")
    if not (math.isfinite(max_drop) and max_drop >= 0):
        raise HarnessError(f"--max-drop {max_drop}: must be a finite number >= 0")
    check_correction(correction, "--correction")
    base_cells = load_baseline(baseline, row)
    done = compare(base_cells, cells_of_results(resolve_results(run)), max_drop, alpha, correction)
    typer.echo(tabulate(table_rows(done, base_cells, format_length), headers=HEADERS, disable_numparse=True,
                        colalign=["left", "left", *["right"] * 6, "left", "left"]))
    for verdict in done.underpowered[:WARNINGS_SHOWN]:
        typer.echo(power_warning(verdict, done, format_length), err=True)
    if len(done.underpowered) > WARNINGS_SHOWN:
        typer.echo(f"warning: and {len(done.underpowered) - WARNINGS_SHOWN} more cells whose MDE exceeds --max-drop "
                   "(marked 'underpowered' in the table)", err=True)
    cells = f"{len(done.verdicts)} cell" + ("" if len(done.verdicts) == 1 else "s")
    family = f"adjusted p < {alpha} ({correction} over {cells})"
    if done.regressions:
        typer.echo(f"{len(done.regressions)} regression(s): drop > {max_drop} points at {family}", err=True)
    if done.missing:
        typer.echo(f"{len(done.missing)} of {len(base_cells)} baseline cells missing from the run (no score): "
                   + ", ".join(f"{task} at {format_length(length)}" for task, length in done.missing), err=True)
    if done.regressions or done.missing:
        raise typer.Exit(1)
    typer.echo(f"no regression in {cells}: none dropped more than {max_drop} points at {family}")
    if done.underpowered and require_power:
        typer.echo(f"{len(done.underpowered)} cell(s) cannot see a {max_drop}-point drop (--require-power)", err=True)
        raise typer.Exit(2)
