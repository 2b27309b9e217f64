"""BABILong's tasks qa1-qa20 on the published sets: each run length reads the published length
config that fits it, with the reference's prompt, generation length and answer check.

As the reference (booydar/babilong @7a6efee, `scripts/run_model_on_babilong.py`, `babilong/prompts.py`,
`babilong/metrics.py`): the prompt is `{instruction}\n\n{examples}\n\n{post_prompt}\n\n<context>\n{input}\n</context>\n\nQuestion: {question}`
(stripped; the three task parts switched off by `use_instruction`, `use_examples`, `use_post_prompt`),
one user turn, 20 new tokens, greedy; the output is scored by `scoring.is_correct` (100 or 0).

Length: run length L reads config `Nk`, the largest published config with N x 1024 <= L ("0k" below 1k).
The prompt must fit L minus the generation budget (the one budget rule); a prompt over it is cut in
the middle of the haystack (`truncate=middle`, as our other real-document tasks; `skip` leaves it out).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from harness.core.errors import HarnessError
from harness.core.lengths import parse_length
from harness.core.resources import toml_beside
from harness.core.types import Sample
from harness.tasks.babilong import scoring
from harness.tasks.babilong.generated import make_generated
from harness.tasks.base import Counter, Metric, Task
from harness.tasks.data import DataSource, TaskOptions
from harness.tasks.docsource import DocSource, Rows
from harness.tasks.options import Options, one_of
from harness.tasks.realdoc import DocFlow, Rendered
from harness.tasks.ruler.haystacks import Essay, load_essay
from harness.tasks.truncation import check_mode

HUB_ID = "RMT-team/babilong"
REVISION = "8ead439982a0a63dd0c056ab6d73e9e23273b91b"  # the hub dataset's commit (see README.md)
CONFIGS = ("0k", "1k", "2k", "4k", "8k", "16k", "32k", "64k", "128k", "256k", "512k", "1M", "10M")
TASKS = tuple(f"qa{i}" for i in range(1, 21))
MAIN = TASKS[:5]  # the group `babilong`: the tasks the published sets hold at every length
MAX_NEW_TOKENS = 20  # the reference's generate_kwargs
SAMPLES = 100  # rows per task and length in RMT-team/babilong (a local file may hold fewer: `size`)
HAYSTACKS = ("published", "generated")
CONFIG_RULES = ("fit", "nominal")
TEMPLATE = "{instruction}\n\n{examples}\n\n{post_prompt}\n\n<context>\n{context}\n</context>\n\nQuestion: {question}"


def prompts() -> dict[str, Any]:
    """Each task's instruction, examples, post_prompt and answer labels (`prompts.toml`)."""
    return toml_beside(__file__, "prompts.toml")


def config_tokens(config: str) -> int:
    """A published config's nominal length in tokens ("0k" -> 0, "4k" -> 4096)."""
    return 0 if config == "0k" else parse_length(config)


def config_for(length: int) -> str:
    """The largest published config whose nominal length is at most `length`."""
    return [c for c in CONFIGS if config_tokens(c) <= length][-1]


def _hub(name: str, revision: str | None) -> Any:
    import datasets

    config, split = name.split("/")
    return datasets.load_dataset(HUB_ID, config, split=split, revision=revision)


SOURCE = DocSource("BABILong", "babilong", lambda name: f"{name}.jsonl", _hub,
                   (("input", str), ("question", str), ("target", str)), hub_id=HUB_ID, revision=REVISION)


@dataclass(frozen=True)
class BabilongOptions(Options):
    """BABILong's `--task-args`: the reference's prompt ablations, the truncation mode, and the folder of
    its files (`babilong`, else `<data dir>/babilong`, else the hub)."""

    shared: ClassVar[frozenset[str]] = frozenset({"truncate", "haystack_dir"})

    use_instruction: bool = True
    use_examples: bool = True
    use_post_prompt: bool = True
    truncate: str = "middle"
    babilong: str | None = None
    haystack: str = "published"  # published: the hub's configs; generated: the 0k facts in our haystack at any length
    config: str = "fit"  # published: fit = the largest config whose prompt fits uncut; nominal = the largest N <= L
    haystack_dir: str | None = None  # generated: a folder of .txt background text (default D/pg_essays)

    def check(self) -> None:
        check_mode(self.truncate)
        one_of("haystack", self.haystack, HAYSTACKS)
        one_of("config", self.config, CONFIG_RULES)


def prompt_text(task: str, options: BabilongOptions, context: str, question: str) -> str:
    """The reference's `get_formatted_input` with the task's parts (empty where switched off)."""
    spec = prompts()[task]
    return TEMPLATE.format(instruction=spec["instruction"] if options.use_instruction else "",
                           examples=spec["examples"] if options.use_examples else "",
                           post_prompt=spec["post_prompt"] if options.use_post_prompt else "",
                           context=context.strip(), question=question).strip()


def render(task: str, config: str, options: BabilongOptions, row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """One row: the haystack is what truncation may cut; question and target as published."""
    meta = {"question": row["question"], "config": config}
    return Rendered(row["input"], (row["target"],), meta, partial(prompt_text, task, options, question=row["question"]))


class Babilong:
    """One task's data across the published configs (local files first, then the hub)."""

    def __init__(self, task: str, options: TaskOptions, typed: BabilongOptions) -> None:
        self.task, self.options, self.typed = task, options, typed

    def load(self, config: str) -> Rows:
        return SOURCE.load(self.options, f"{config}/{self.task}")

    def local_configs(self) -> list[str] | None:
        """The configs with a local file for this task (None: no local folder, the hub serves)."""
        directory = SOURCE.local_dir(self.options)
        if directory is None:
            return None
        found = [c for c in CONFIGS if (directory / c / f"{self.task}.jsonl").is_file()]
        if not found:
            raise HarnessError(f"BABILong {self.task}: no {directory}/<length>/{self.task}.jsonl "
                               f"(lengths {', '.join(CONFIGS)}; the published rows: input, question, target)")
        return found

    def size(self) -> int:
        """Rows per length: the smallest local file's, or the hub's 0k split's."""
        configs = self.local_configs()
        return min(len(self.load(c).rows) for c in configs) if configs is not None else len(self.load("0k").rows)

    def digest(self) -> str:
        configs = self.local_configs()
        if configs is None:
            published = f"{HUB_ID}@{REVISION}/{self.task}"
        else:
            published = hashlib.sha256("|".join(f"{c}:{self.load(c).digest}" for c in configs).encode()).hexdigest()
        return f"{published}|essay:{self.essay().digest}" if self.typed.haystack == "generated" else published

    def origin(self) -> DataSource:
        configs = self.local_configs()
        return self.load(configs[0] if configs else "0k").origin

    def essay(self) -> Essay:
        """The background text of the generated haystack."""
        return load_essay(self.options.find("haystack_dir", "pg_essays", f"babilong_{self.task} (generated haystack)"))

    def check(self) -> None:
        """Read the files a run needs now (the generated haystack's text and the 0k facts)."""
        if self.typed.haystack == "generated":
            self.essay()
            self.load("0k")

    def make_sample(self, counter: Counter, length: int, index: int, seed: int) -> Sample:
        """The `index`-th row at `length`: generated (the 0k facts in as much haystack as fits), or the published
        config the `config` rule picks, fit to the length's prompt budget."""
        if self.typed.haystack == "generated":
            rows = self.load("0k")
            if index >= len(rows.rows):
                raise HarnessError(f"BABILong {self.task}: {rows.source} has {len(rows.rows)} examples, asked for #{index}")
            render = partial(prompt_text, self.task, self.typed, question=rows.rows[index]["question"])
            return make_generated(self.task, f"BABILong {self.task} (generated)", rows.rows[index], self.essay(),
                                  render, MAX_NEW_TOKENS, counter, length, index, seed)
        candidates = self.candidates(length)
        sample = self.published(candidates[0], counter, length, index, seed)
        for config in candidates[1:]:
            if not sample.truncated_from and not sample.skipped:
                break
            sample = self.published(config, counter, length, index, seed)
        return sample

    def candidates(self, length: int) -> list[str]:
        """Configs to try at `length`, largest first: the nominal one (`config=nominal`), or down to 0k (`fit`:
        the first whose prompt fits uncut; the smallest, cut, when none does)."""
        nominal = config_for(length)
        if self.typed.config == "nominal":
            return [nominal]
        local = self.local_configs()
        smaller = [c for c in CONFIGS[: CONFIGS.index(nominal) + 1] if local is None or c in local]
        return list(reversed(smaller)) or [nominal]

    def published(self, config: str, counter: Counter, length: int, index: int, seed: int) -> Sample:
        flow = DocFlow(f"babilong_{self.task}", f"BABILong {self.task} ({config})", partial(self.load, config),
                       partial(render, self.task, config, self.typed), MAX_NEW_TOKENS, self.typed.truncate)
        return flow.make_sample(counter, length, index, seed)


def score_sample(task: str, sample: Sample, output: str) -> float:
    return scoring.score(sample.targets[0], output, str(sample.meta.get("question", "")), prompts()[task]["labels"])


def babilong_task(task: str, options: TaskOptions) -> Task:
    """BABILong task `task` ("qa1" ... "qa20"); data read on first use."""
    if task not in TASKS:
        raise HarnessError(f"unknown BABILong task {task!r}: expected one of {', '.join(TASKS)}")
    typed = BabilongOptions.parse(options.args)
    data = Babilong(task, options, typed)
    labels = prompts()[task]["labels"]
    return Task(
        name=f"babilong_{task}",
        make_sample=data.make_sample,
        metric=Metric("accuracy", lambda output, targets: scoring.score(targets[0], output, "", labels)),
        max_new_tokens=MAX_NEW_TOKENS,
        num_samples=SAMPLES,
        params={"benchmark": "babilong", "task": task, "hub": f"{HUB_ID}@{REVISION}", "truncate": typed.truncate,
                "use_instruction": typed.use_instruction, "use_examples": typed.use_examples,
                "use_post_prompt": typed.use_post_prompt, "haystack": typed.haystack, "config": typed.config},
        score_sample=partial(score_sample, task),
        size=data.size,
        data_digest=data.digest,
        data_source=data.origin,
        options=typed,
        halve_generation=True,
        check=data.check,
    )

