"""`harness show RUN --sample ID`: the prompt a run's model saw for one sample.

Prompts are not copied into `samples/<task>.jsonl` (at 128k tokens one is ~0.5 MB, and a RULER sweep holds
thousands); each line names its sample cache entry (`sample_cache`), where the prompt is stored once for every
model sharing the tokenizer. When that entry is gone, the sample is generated again from the run's recorded
task arguments, seed and tokenizer (samples are pure functions of these) and checked against the sample id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.core.paths import cache_dir
from harness.core.types import Sample, ScoredSample
from harness.scored_lines import scored_rows


@dataclass(frozen=True)
class SamplePrompt:
    """One logged sample, the sample that produced it, and the prompt as the model saw it."""

    record: ScoredSample
    sample: Sample
    text: str  # rendered with the run's chat template and answer prefix
    source: str  # where the sample came from: the cache entry, or "regenerated"


def locate_run(run: str, store: Any) -> tuple[Path, dict[str, Any]]:
    """(output directory, results config) of `run`: a run directory, or a run id (prefix) in `store`."""
    from harness.results import Result

    path = Path(run).expanduser()
    if path.is_dir():
        if not (path / "results.json").is_file():
            raise HarnessError(f"{path} is not a run directory: it has no results.json")
        return path, Result.read(path / "results.json").config
    rows = [row for row in store.runs() if str(row["run_id"]).startswith(run)]
    result = store.result(rows[0]["run_id"]) if len(rows) == 1 else None
    if result is None:
        raise HarnessError(f"no run {run!r} (or more than one matches) in the database, and no such run directory")
    return Path(rows[0]["output_dir"]), result.config


def find_record(output: Path, sample_id: str) -> ScoredSample:
    """The logged sample `sample_id` (a unique prefix is enough) in `output/samples/*.jsonl`."""
    found: list[ScoredSample] = []
    for path in sorted((output / "samples").glob("*.jsonl")):
        found += [ScoredSample.from_dict(row) for row in scored_rows(path) if row["id"].startswith(sample_id)]
    ids = {r.id for r in found}
    if len(ids) != 1:
        what = "no sample" if not ids else f"{len(ids)} samples"
        raise HarnessError(f"{what} with id {sample_id!r} in {output / 'samples'}")
    return found[-1]


def _cached(key: str, record: ScoredSample) -> Sample | None:
    from harness.runner.sample_cache import read_entries

    sample = read_entries(cache_dir() / "samples" / f"{key}.jsonl", key).get(record.index)
    return sample if sample is not None and sample.id == record.id else None


def _tokenizer(config: dict[str, Any]) -> Any:
    from harness.core.backends.hf import load_tokenizer

    name = config.get("tokenizer")
    if not name or name == "none":
        return None
    return load_tokenizer(str(name))


def sample_prompt(output: Path, config: dict[str, Any], sample_id: str) -> SamplePrompt:
    """The prompt of sample `sample_id` of the run in `output` whose results config is `config`."""
    from harness.core.prompt import PromptFormat
    from harness.core.thinking import Budget
    from harness.tasks import get_task
    from harness.tasks.base import budget_scope
    from harness.tasks.data import TaskOptions

    record = find_record(output, sample_id)
    tokenizer = _tokenizer(config)
    options = TaskOptions(data_dir=Path(config["data_dir"]) if config.get("data_dir") else None, args=dict(config.get("task_args", {})))
    budget = Budget(config.get("max_new_tokens"), int(config.get("max_think_tokens") or 0))  # the run's, when it set one
    task = get_task(record.task, options).with_budget(budget)
    fmt = PromptFormat.create(tokenizer, config.get("chat_template", "auto"), task.chat)
    sample = _cached(record.sample_cache, record) if record.sample_cache else None
    source = f"{cache_dir() / 'samples' / f'{record.sample_cache}.jsonl'}" if sample is not None else "regenerated"
    if sample is None:
        if tokenizer is None:
            raise HarnessError(f"sample {record.id}: its cache entry is gone and the run recorded no tokenizer to generate it again")
        with budget_scope(task.budget):
            sample = task.make_sample(fmt, record.length, record.index, int(config.get("seed", 42)))
        if sample.id != record.id:
            raise HarnessError(f"sample {record.id}: generating it again gave sample {sample.id}; the task or its data changed")
    text = fmt.render(sample.prompt, sample.answer_prefix) if tokenizer is not None else _plain(sample)
    return SamplePrompt(record, sample, text, source)


def _plain(sample: Sample) -> str:
    from harness.core.prompt import as_messages

    turns = [f"[{m['role']}]\n{m['content']}" for m in as_messages(sample.prompt)]
    return "\n\n".join(turns) + (f"\n\n[assistant]\n{sample.answer_prefix}" if sample.answer_prefix else "")


def describe(found: SamplePrompt) -> str:
    """The sample as `harness show --sample` prints it: a header, the prompt, the output."""
    r = found.record
    header = (f"sample {r.id}: task {r.task}, length {r.length}, index {r.index}, {r.prompt_tokens} prompt tokens, "
              f"score {r.score}, targets {list(r.targets)}\nprompt from {found.source}")
    return f"{header}\n--- prompt ---\n{found.text}\n--- output ---\n{r.output}"
