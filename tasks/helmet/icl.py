"""HELMET's many-shot in-context learning (ICL) category: trec_coarse, trec_fine, nlu, banking77, clinic150.

As the reference (princeton-nlp/HELMET @4526dfb, data.py `load_icl`, configs/icl.yaml): the test examples are the
hub test split (nlu: 10% of its one split, `train_test_split(test_size=0.1, seed)`), shuffled and label-balanced to
500 when larger (`balance_labels`); each example gets its own demos, drawn label-balanced from the train split with
the seed `(sha256(text) + seed) % 2**31`, and its own random mapping of the labels to numbers (the same seed); the
prompt is `icl_prompts.toml` without a chat template (HELMET's `use_chat_template: false`), ending in `label:`;
20 new tokens, stopping at a newline; the output after `label:` is scored by exact match (`qa_metrics`).

One change: HELMET fixes a shot count per length in the dataset name (`icl_banking77_5900shot_balance` at 128k,
counted with Llama tokenizers); here the shots fill the length: at length L the most demos whose prompt fits
L - 20 tokens under the evaluated model's tokenizer (`--task-args shots=N` fixes N, as HELMET, and skips a sample
whose prompt does not fit). The demos for N shots are exactly HELMET's demos for N shots.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Sequence

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Prompt, Sample, sample_id
from harness.core.userfiles import iter_jsonl
from harness.tasks.base import Counter, Metric, Task, prompt_budget
from harness.tasks.data import DataSource, TaskOptions, check_fields, file_digest, hub_source, local_source
from harness.tasks.helmet.fit import shuffled
from harness.tasks.helmet.qa_metrics import icl_exact_match
from harness.tasks.helmet.source import HelmetOptions
from harness.tasks.sizing import Layout, count_layout, fit_layout, to_sample

MAX_NEW_TOKENS = 20  # configs/icl.yaml generation_max_length
TEST_SAMPLES = 500  # configs/icl.yaml max_test_samples
DEMO_SEPARATOR = "\n\n"  # between demos (load_icl's context join)
# The hub datasets HELMET loads use loading scripts, which `datasets` >= 4 no longer runs; their Parquet conversion
# (the hub's refs/convert/parquet branch) holds the same rows. Revision not verified online (no network here).
REVISION = "refs/convert/parquet"
Row = tuple[str, int]


@dataclass(frozen=True)
class IclSet:
    """One ICL dataset: its hub id and config, local folder, splits, fields and label count."""

    hub_id: str
    config: str | None
    folder: str  # D/helmet/icl/<folder>/<split>.jsonl
    train: str
    test: str | None  # None: HELMET splits the train split 90/10 (nlu)
    text: str
    label: str
    labels: int


SETS = {
    "trec_coarse": IclSet("CogComp/trec", None, "trec", "train", "test", "text", "coarse_label", 6),
    "trec_fine": IclSet("CogComp/trec", None, "trec", "train", "test", "text", "fine_label", 50),
    "nlu": IclSet("xingkunliuxtracta/nlu_evaluation_data", None, "nlu", "train", None, "text", "label", 68),
    "banking77": IclSet("PolyAI/banking77", None, "banking77", "train", "test", "text", "label", 77),
    "clinic150": IclSet("clinc/clinc_oos", "plus", "clinic150", "train", "validation", "text", "intent", 151),
}
DATASETS = tuple(SETS)


def prompts() -> dict[str, Any]:
    """HELMET's ICL item, user and system templates (`icl_prompts.toml`)."""
    return toml_beside(__file__, "icl_prompts.toml")


# -- HELMET's sampling, reproduced --------------------------------------------------------------------------------

def train_test_split(rows: Sequence[Row], seed: int, test_size: float = 0.1) -> tuple[list[Row], list[Row]]:
    """`datasets.Dataset.train_test_split(test_size=0.1, seed=seed)`: (train, test)."""
    order = shuffled(len(rows), seed)
    n_test = math.ceil(test_size * len(rows))
    return [rows[i] for i in order[n_test:]], [rows[i] for i in order[:n_test]]


def by_label(rows: Sequence[Row]) -> tuple[tuple[Row, ...], ...]:
    """The rows of each label, labels in order of first appearance (balance_labels' `label_mapping`)."""
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[1], []).append(row)
    return tuple(tuple(g) for g in groups.values())


def balance_labels(groups: Sequence[Sequence[Row]], shots: int, seed: int) -> list[Row]:
    """HELMET's `balance_labels`: `shots` rows in rounds of one row per label (each round in random order)."""
    rand = random.Random(seed)
    rounds = math.ceil(shots / len(groups))
    chosen: list[list[Row]] = [[] for _ in range(rounds)]
    for samples in groups:
        indices = rand.sample(range(len(samples)), rounds % len(samples))
        while len(indices) < rounds:  # with replacement once a label runs out
            indices += rand.sample(range(len(samples)), min(rounds - len(indices), len(samples)))
        for i, idx in enumerate(indices):
            chosen[i].append(samples[idx])
    for group in chosen:
        rand.shuffle(group)
    return [row for group in chosen for row in group][:shots]


def local_seed(text: str, seed: int) -> int:
    """The per-example seed of HELMET's `preprocess`."""
    return (int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) + seed) % 2**31


def label_mapping(labels: int, seed: int) -> list[int]:
    """HELMET's random mapping of label ids to the numbers shown (`random.seed(s); random.shuffle`)."""
    mapping = list(range(labels))
    random.Random(seed).shuffle(mapping)
    return mapping


def helmet_folder(options: TaskOptions, arg: str, sub: str, what: str) -> Path | None:
    """`--task-args <arg>=DIR`, else `<sub>` in the HELMET folder (`--task-args helmet=DIR`, else `<data dir>/helmet`)
    where it exists, else None (the hub). HELMET's own archive holds no such folder: these datasets come from the hub."""
    if options.args.get(arg):
        return options.find(arg, sub, what)
    given = options.args.get("helmet")
    if given:
        path = Path(str(given)).expanduser() / sub
        return path if path.exists() else None
    return options.find_optional(arg, f"helmet/{sub}", what)


# -- data ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Split:
    """One split's (text, label) rows, its digest and where it came from."""

    rows: tuple[Row, ...]
    digest: str
    origin: DataSource


def _local(path: Path, spec: IclSet) -> Split:
    if not path.is_file():
        raise HarnessError(f"HELMET ICL: {path} does not exist (one split of {spec.hub_id} as jsonl, "
                           f"fields {spec.text!r} and {spec.label!r})")
    rows = []
    for number, row in iter_jsonl(path, "HELMET ICL data file"):
        where = f"{path}:{number}"
        check_fields(row, ((spec.text, str), (spec.label, int)), where)
        rows.append((row[spec.text], _label(row[spec.label], spec, where)))
    if not rows:
        raise HarnessError(f"HELMET ICL: {path} holds no examples")
    digest = file_digest([path])
    return Split(tuple(rows), digest, local_source(path, digest))


def _label(value: int, spec: IclSet, where: str) -> int:
    if not 0 <= value < spec.labels:
        raise HarnessError(f"{where}: field {spec.label!r} is {value}: expected a label id 0..{spec.labels - 1}")
    return value


def _hub(spec: IclSet, split: str) -> Split:
    try:
        import datasets

        data = datasets.load_dataset(spec.hub_id, spec.config, split=split, revision=REVISION)
    except Exception as error:  # datasets raises many types when offline or when the id is wrong
        raise HarnessError(f"HELMET ICL: could not load {spec.hub_id} ({split}) from the hub at {REVISION} "
                           f"({type(error).__name__}: {str(error)[:200]}); pass --data-dir D with "
                           f"D/helmet/icl/{spec.folder}/{split}.jsonl or --task-args helmet_icl=DIR") from error
    columns = data.select_columns([spec.text, spec.label])
    where = f"HELMET ICL {spec.hub_id} ({split})"
    rows = tuple((str(t), _label(int(v), spec, where)) for t, v in zip(columns[spec.text], columns[spec.label]))
    return Split(rows, str(getattr(data, "_fingerprint", "")), hub_source(spec.hub_id, data, split))


@lru_cache(maxsize=32)
def read_split(spec: IclSet, directory: Path | None, split: str) -> Split:
    """One split from `directory` (the dataset's local folder) or, without one, from the hub."""
    return _local(directory / f"{split}.jsonl", spec) if directory is not None else _hub(spec, split)


@dataclass(frozen=True)
class Pool:
    """What one run draws from: the train rows by label, and HELMET's test selection in order."""

    groups: tuple[tuple[Row, ...], ...]
    test: tuple[Row, ...]


class IclData:
    """One ICL dataset's splits (local folder first, then the hub) and its per-seed pools."""

    def __init__(self, name: str, options: TaskOptions, typed: HelmetIclOptions) -> None:
        self.name, self.spec, self.options, self.typed = name, SETS[name], options, typed

    def directory(self) -> Path | None:
        root = helmet_folder(self.options, "helmet_icl", "icl", "HELMET ICL")
        if root is None:
            return None
        if not (root / self.spec.folder).is_dir():
            raise HarnessError(f"HELMET ICL {self.name}: no folder {root / self.spec.folder} (expected "
                               f"{self.spec.folder}/{self.spec.train}.jsonl{'' if self.spec.test is None else f', {self.spec.test}.jsonl'})")
        return root / self.spec.folder

    def splits(self) -> tuple[Split, Split | None]:
        directory = self.directory()
        train = read_split(self.spec, directory, self.spec.train)
        return train, (read_split(self.spec, directory, self.spec.test) if self.spec.test else None)

    def pool(self, seed: int) -> Pool:
        return _pool(self, seed)

    def size(self) -> int:
        train, test = self.splits()
        n = len(test.rows) if test is not None else math.ceil(0.1 * len(train.rows))
        return min(n, TEST_SAMPLES)

    def digest(self) -> str:
        train, test = self.splits()
        return hashlib.sha256(f"{train.digest}|{test.digest if test else ''}".encode()).hexdigest()[:16]

    def origin(self) -> DataSource:
        return self.splits()[0].origin

    def __hash__(self) -> int:
        return hash((self.name, self.options.data_root(), self.typed.helmet_icl, self.typed.helmet))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IclData) and hash(self) == hash(other)


@lru_cache(maxsize=16)
def _pool(data: IclData, seed: int) -> Pool:
    train_split, test_split = data.splits()
    if test_split is None:
        train, test = train_test_split(train_split.rows, seed)
    else:
        train, test = list(train_split.rows), list(test_split.rows)
    if len(test) > TEST_SAMPLES:  # shuffled, then label-balanced (HELMET's max_test_samples)
        test = balance_labels(by_label([test[i] for i in shuffled(len(test), seed)]), TEST_SAMPLES, seed)
    return Pool(by_label(train), tuple(test))


# -- samples ------------------------------------------------------------------------------------------------------

def render(question: str, chat: bool, context: str) -> Prompt:
    """HELMET's prompt around the demos: the user text, and without a chat template `\\nlabel:` after it."""
    spec = prompts()
    user = str(spec["user"]).format(context=context, question=question)
    return user if chat else user + str(spec["separator"]) + str(spec["system"])


def layout(counter: Counter, demos: list[tuple[str, str]]) -> Layout:
    """The demos (text, shown label) joined by blank lines, sized by cached costs where the tokenizer allows: a
    demo's cost is its text's part up to `label:` plus its label's part (split at the space before the label, a
    whitespace boundary as `harness.tasks.sizing` assumes), so the costs cache serves every example's mapping."""
    head, tail = prompts()["item"].rsplit(" {label}", 1)
    items = [head.format(text=text) + " " + label + tail for text, label in demos]
    joined = DEMO_SEPARATOR.join(items)
    costs = counter.costs
    if costs is None or len(items) < 2:
        return Layout(joined, None, 0, lambda: joined, {})
    middle = demos[1:-1]
    cost = sum(costs.of([DEMO_SEPARATOR + head.format(text=text) for text, _ in middle]))
    cost += sum(costs.of([" " + label + tail for _, label in middle]))
    return Layout(items[0], items[-1], cost, lambda: joined, {})


def make_sample(data: IclData, counter: Counter, length: int, index: int, seed: int) -> Sample:
    """Test example `index` with as many of its demos as fit `length` (or the fixed `shots`)."""
    pool = data.pool(seed)
    if index >= len(pool.test):
        raise HarnessError(f"HELMET ICL {data.name}: {len(pool.test)} test examples, asked for #{index}")
    question, label = pool.test[index]
    own_seed = local_seed(question, seed)
    mapping = label_mapping(data.spec.labels, own_seed)
    chat = bool(getattr(counter, "chat", False))

    def build(shots: int) -> Layout:
        return layout(counter, [(text, str(mapping[lab])) for text, lab in balance_labels(pool.groups, shots, own_seed)])

    task = f"helmet_icl_{data.name}"
    prompt_with = partial(render, question, chat)
    budget = prompt_budget(MAX_NEW_TOKENS, length)
    meta = {"label_id": label, "chat": chat}
    if data.typed.shots:
        fixed = build(data.typed.shots)
        tokens = count_layout(counter, prompt_with, "", fixed, DEMO_SEPARATOR)
        return Sample(id=sample_id(task, length, index, seed), task=task, length=length, index=index,
                      prompt=prompt_with(fixed.materialize()), targets=(str(mapping[label]),), prompt_tokens=tokens,
                      meta={**meta, "units": data.typed.shots},
                      skipped=f"{data.typed.shots} shots take {tokens} tokens, the budget is {budget}" if tokens > budget else "")
    costs = counter.costs
    memo_key = ("helmet_icl_shots", data.name, length, chat)
    guess = int(costs.memo.get(memo_key, 16)) if costs is not None else 16  # the last fit at this length
    fitted = fit_layout(counter, prompt_with, "", build, DEMO_SEPARATOR, budget, min_units=0,
                        first_guess=guess, what=f"{task} at length {length}", check_key=f"{task}|{chat}")
    if costs is not None:
        costs.memo[memo_key] = fitted.units
    return to_sample(task, length, index, seed, prompt_with, "", fitted, (str(mapping[label]),), meta)


def score_sample(sample: Sample, output: str) -> float:
    """HELMET's ICL post-process (x100): without a chat template the output follows `label:`, which HELMET
    prepends before parsing."""
    prediction = output if sample.meta.get("chat") else prompts()["system"] + output
    return 100.0 * icl_exact_match(prediction, sample.targets[0])


@dataclass(frozen=True)
class HelmetIclOptions(HelmetOptions):
    """HELMET ICL's `--task-args`: the folder of its datasets (`helmet_icl`, else `icl/` in the HELMET folder:
    `helmet=DIR` or `<data dir>/helmet`, else the hub) and a fixed shot count (`shots`; 0: as many as fit)."""

    helmet_icl: str | None = None
    shots: int = 0

    def check(self) -> None:
        if self.shots < 0:
            raise HarnessError(f"bad --task-args shots={self.shots}: expected 0 (fill the length) or a positive count")


def icl_task(name: str, options: TaskOptions) -> Task:
    """HELMET ICL dataset `name` (one of `DATASETS`); data read on first use."""
    if name not in SETS:
        raise HarnessError(f"unknown HELMET ICL dataset {name!r}: expected one of {', '.join(DATASETS)}")
    typed = HelmetIclOptions.parse(options.args)
    data = IclData(name, options, typed)
    spec = SETS[name]
    return Task(
        name=f"helmet_icl_{name}",
        make_sample=partial(make_sample, data),
        metric=Metric("exact_match", lambda output, targets: 100.0 * icl_exact_match("label:" + output, targets[0])),
        max_new_tokens=MAX_NEW_TOKENS,
        postprocess=lambda text: text,
        stop=("\n",),
        chat=False,
        num_samples=TEST_SAMPLES,
        params={"benchmark": "helmet", "category": "icl", "dataset": name, "shots": typed.shots or "fill",
                "hub": f"{spec.hub_id}{':' + spec.config if spec.config else ''}@{REVISION}"},
        score_sample=score_sample,
        size=data.size,
        data_digest=data.digest,
        data_source=data.origin,
        options=typed,
    )
