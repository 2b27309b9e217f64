"""HELMET's long-document QA category: NarrativeQA, and InfiniteBench's longbook QA and choice with HELMET's own
templates (princeton-nlp/HELMET @4526dfb, data.py `load_narrativeqa`, `load_infbench`, configs/longqa.yaml).

As the reference: the template of `longqa_prompts.toml` with two demos (NarrativeQA: question-answer pairs from its
train split; InfiniteBench: two other books' questions with `[story text]` in place of the book, drawn as
`filter(id != this).shuffle(seed)`), the test rows in `shuffle(seed)` order (100 by default, `max_test_samples`),
the chat template when the model has one (no system message, no answer prefix; without one the prompt ends in
`Answer:`), 100 new tokens (NarrativeQA) or 10; scored on the raw and the parsed output, the better of the two:
ROUGE-L F1 for QA, exact match for choice (or its "X. option" text inside the output). NarrativeQA is HELMET's
GPT-4 judge task (`scripts/eval_gpt4_longqa.py`): with `--judge MODEL` its score is fluency x correctness scaled
to 0-100 (HELMET's x 100/3); without, ROUGE-L F1; the task's report says which (`scored_by`).

Truncation: only the document is cut. `truncate=right` (default, HELMET's `truncate_llama2` and its tokenizer-side
cut): the start of the document is kept and " ... [the rest of the text is omitted]" appended; `middle`, `left`
and `skip` are the other real-document tasks' modes. HELMET cuts to a Llama-2 token count fixed per length; here
the prompt (template included) plus the generation budget fits the length under the evaluated model's tokenizer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, ClassVar

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Message, Prompt, Sample, ScoredSample, sample_id
from harness.core.userfiles import check_type, parse_object_line
from harness.tasks.base import Counter, JudgeSpec, Metric, Task, generation_budget, mean, prompt_budget
from harness.tasks.data import DataSource, TaskOptions, file_digest, hub_source, local_source
from harness.tasks.helmet.fit import shuffled
from harness.tasks.helmet.icl import helmet_folder
from harness.tasks.helmet.qa_metrics import choice_exact_match, default_score, parse_output
from harness.tasks.helmet.source import HelmetOptions
from harness.tasks.infinitebench.task import SOURCE as INFINITEBENCH
from harness.tasks.infinitebench.task import InfiniteBenchOptions
from harness.tasks.options import one_of
from harness.tasks.truncation import MODES, Fitted, fit

TRUNCATE_MODES = ("right", *MODES)
TEST_SAMPLES = 100  # configs/longqa.yaml max_test_samples
SHOTS = 2  # configs/longqa.yaml shots
NARRATIVEQA_HUB = "deepmind/narrativeqa"
# HELMET loads `narrativeqa` (now deepmind/narrativeqa); its Parquet branch. Revision not verified online.
NARRATIVEQA_REVISION = "refs/convert/parquet"
MAX_NEW = {"narrativeqa": 100, "infbench_qa": 10, "infbench_choice": 10}  # generation_max_length
INFBENCH_SPLIT = {"infbench_qa": "longbook_qa_eng", "infbench_choice": "longbook_choice_eng"}
LETTERS = "ABCD"


def prompts() -> dict[str, Any]:
    """HELMET's long-QA templates, postfix and judge prompt (`longqa_prompts.toml`)."""
    return toml_beside(__file__, "longqa_prompts.toml")


@dataclass(frozen=True)
class Item:
    """One test question: its document, question, answers, demo text, extra template fields and metadata."""

    context: str
    question: str
    answers: tuple[str, ...]
    demo: str
    fields: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def build(kind: str, item: Item, chat: bool, context: str) -> Prompt:
    """HELMET's prompt with `context` as the document: the user text, and without chat `separator + Answer:`."""
    spec = prompts()[kind]
    user = str(spec["user"]).format(demo=item.demo, context=context, question=item.question, **item.fields)
    return user if chat else user + str(spec["separator"]) + str(spec["system"])


def demo_text(kind: str, demos: list[dict[str, str]]) -> str:
    """HELMET's demo block ("For example: ... Now, ...") around the filled demo items; empty without demos."""
    if not demos:
        return ""
    spec = prompts()[kind]
    return str(spec["demo"]).format(demos="\n\n".join(str(spec["demo_item"]).format(**d) for d in demos))


# -- truncation ---------------------------------------------------------------------------------------------------

def fit_right(counter: Counter, text: str, make: Callable[[str], Prompt], budget: int) -> Fitted:
    """HELMET's cut: keep the document's first tokens and append the postfix, so the prompt fits `budget`."""
    total = counter.count(make(text))
    if total <= budget:
        return Fitted(text)
    postfix = prompts()["postfix"]
    bare = counter.count(make(postfix))
    if bare > budget:
        return Fitted(text, total, f"the prompt without its document has {bare} tokens, the budget is {budget}")
    tokenizer = counter.tokenizer
    try:
        ends = [end for _, end in tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]]

        def head(keep: int) -> str:
            return text[:ends[keep - 1]] if keep > 0 else ""
    except (NotImplementedError, TypeError, KeyError):  # a tokenizer without offsets: decode the kept ids
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        ends = ids

        def head(keep: int) -> str:
            return str(tokenizer.decode(ids[:keep], skip_special_tokens=True)) if keep > 0 else ""
    keep = min(len(ends), budget - bare)  # the document's tokens left beside the template and the postfix
    for _ in range(8):  # re-tokenising at the cut can merge or split a token or two
        cut = head(max(keep, 0)) + postfix
        count = counter.count(make(cut))
        if count <= budget:
            return Fitted(cut, total)
        keep -= count - budget
    raise HarnessError(f"could not fit a prompt of {total} tokens into {budget} by keeping the document's start")


def fit_document(counter: Counter, text: str, make: Callable[[str], Prompt], budget: int, mode: str) -> Fitted:
    """The document cut by `mode` (`right`: HELMET's; the others: `harness.tasks.truncation.fit`)."""
    return fit_right(counter, text, make, budget) if mode == "right" else fit(counter, text, make, budget, mode)


def make_sample(task: str, kind: str, items: Callable[[int], list[Item]], truncate: str,
                counter: Counter, length: int, index: int, seed: int) -> Sample:
    """Question `index` (in the seed's order) with its document fit to `length`."""
    ordered = items(seed)
    if index >= len(ordered):
        raise HarnessError(f"HELMET {kind}: {len(ordered)} test questions, asked for #{index}")
    item = ordered[index]
    chat = bool(getattr(counter, "chat", False))
    make = partial(build, kind, item, chat)
    new_tokens = generation_budget(MAX_NEW[kind], length, halved=True)
    fitted = fit_document(counter, item.context, make, prompt_budget(MAX_NEW[kind], length, halved=True), truncate)
    return Sample(
        id=sample_id(task, length, index, seed), task=task, length=length, index=index, prompt=make(fitted.text),
        targets=item.answers, meta={**item.meta, "question": item.question, "chat": chat},
        skipped=fitted.skipped, truncated_from=fitted.tokens_before,
        max_new_tokens=new_tokens if new_tokens < MAX_NEW[kind] else None,
    )


# -- scoring ------------------------------------------------------------------------------------------------------

def prediction(meta: dict[str, Any], output: str) -> str:
    """The output as HELMET scores it: without a chat template `Answer:` is prepended (eval.py)."""
    return output if meta.get("chat") else prompts()["narrativeqa"]["system"] + output


def score_sample(kind: str, sample: Sample, output: str) -> float:
    """HELMET's post-process (x100): ROUGE-L F1 for QA, the choice rule for choice."""
    text = prediction(sample.meta, output)
    if kind == "infbench_choice":
        return 100.0 * choice_exact_match(text, sample.targets)
    return 100.0 * default_score("rougeL_f1", text, sample.targets)


def judge_prompt(sample: Sample, output: str) -> list[Message]:
    """eval_gpt4_longqa.py's judge prompt: the question, the answers (as a Python list), the parsed output."""
    parsed = parse_output(prediction(sample.meta, output).replace("\n", " "))
    text = prompts()["judge"]["prompt"].format(question=sample.meta.get("question", ""),
                                               correct_answers=str(list(sample.targets)), parsed_output=parsed)
    return [{"role": "user", "content": text}]


def parse_judge(reply: str) -> float | None:
    """The last `{...}` of the reply as JSON with numeric fluency and correctness: their product x 100/3 (None
    where HELMET's script finds no score, or would fail on a value that is not a number)."""
    found = re.findall(r"\{.*?\}", reply, re.DOTALL)
    if not found:
        return None
    try:
        scores = json.loads(found[-1])
    except json.JSONDecodeError:
        return None
    if not isinstance(scores, dict):
        return None
    fluency, correctness = scores.get("fluency"), scores.get("correctness")
    if not all(isinstance(v, (int, float)) for v in (fluency, correctness)):  # HELMET multiplies bools too
        return None
    return float(fluency) * float(correctness) * 100.0 / 3.0  # type: ignore[arg-type]


def narrativeqa_report(records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """Per length: what scored the task (the judge or ROUGE-L F1), and ROUGE-L F1 and substring exact match of
    the outputs (0-100) either way."""
    by_length: dict[str, list[ScoredSample]] = {}
    for record in records:
        if not record.failed:
            by_length.setdefault(str(record.length), []).append(record)
    out: dict[str, Any] = {}
    for length, rs in sorted(by_length.items(), key=lambda kv: int(kv[0])):
        judged = any("judge_reply" in r.meta for r in rs)
        texts = [(prediction(r.meta, r.output), r.targets) for r in rs]
        out[length] = {
            "scored_by": "judge (fluency x correctness x 100/3)" if judged else "rougeL_f1",
            "rougeL_f1": round(100 * mean([default_score("rougeL_f1", t, a) for t, a in texts]), 4),
            "substring_exact_match": round(100 * mean([default_score("substring_exact_match", t, a) for t, a in texts]), 4),
        }
    return out


# -- NarrativeQA data ---------------------------------------------------------------------------------------------

def _get(row: dict[str, Any], dotted: str, kinds: type | tuple[type, ...], where: str) -> Any:
    """`row["a"]["b"]` for "a.b", checked (a clear error naming the field)."""
    value: Any = row
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise HarnessError(f"{where}: missing field {dotted!r}")
        value = value[part]
    check_type(value, kinds, f"{where}: field {dotted!r}")
    return value


@dataclass(frozen=True)
class NarrativeQA:
    """The test split: questions (document id, question, answers, word count), each story once, the digest."""

    questions: tuple[tuple[str, str, tuple[str, ...], int], ...]
    stories: dict[str, str]
    digest: str
    origin: DataSource


def _answers(row: dict[str, Any], where: str) -> tuple[str, ...]:
    answers = _get(row, "answers", list, where)
    out = tuple(_get(a, "text", str, f"{where} answers[{i}]") for i, a in enumerate(answers))
    if not out:
        raise HarnessError(f"{where}: field 'answers' is empty")
    return out


def _rows(path: Path) -> Any:
    if not path.is_file():
        raise HarnessError(f"HELMET NarrativeQA: {path} does not exist (the hub's deepmind/narrativeqa split as jsonl: "
                           "document {id, text, word_count}, question {text}, answers [{text}])")
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield f"{path}:{number}", parse_object_line(line)
                except ValueError as error:
                    raise HarnessError(f"{path}:{number}: {error}") from None


def _hub_split(split: str) -> Any:
    try:
        import datasets

        return datasets.load_dataset(NARRATIVEQA_HUB, split=split, revision=NARRATIVEQA_REVISION)
    except Exception as error:  # datasets raises many types when offline or when the id is wrong
        raise HarnessError(f"HELMET NarrativeQA: could not load {NARRATIVEQA_HUB} ({split}) from the hub at "
                           f"{NARRATIVEQA_REVISION} ({type(error).__name__}: {str(error)[:200]}); pass --data-dir D with "
                           f"D/helmet/narrativeqa/{split}.jsonl or --task-args helmet_narrativeqa=DIR") from error


@lru_cache(maxsize=4)
def narrativeqa_test(directory: Path | None) -> NarrativeQA:
    """The test split, from `directory/test.jsonl` or the hub (each story kept once)."""
    questions, stories = [], {}
    if directory is not None:
        path = directory / "test.jsonl"
        for where, row in _rows(path):
            doc = _get(row, "document.id", str, where)
            if doc not in stories:
                stories[doc] = _get(row, "document.text", str, where)
            words = row["document"].get("word_count") or 0
            questions.append((doc, _get(row, "question.text", str, where), _answers(row, where), int(words)))
        if not questions:
            raise HarnessError(f"HELMET NarrativeQA: {path} holds no questions")
        digest = file_digest([path])
        return NarrativeQA(tuple(questions), stories, digest, local_source(path, digest))
    data = _hub_split("test")
    flat = data.flatten().select_columns(["document.id", "document.word_count", "question.text", "answers"])
    for i, row in enumerate(flat):
        doc = row["document.id"]
        if doc not in stories:
            stories[doc] = data[i]["document"]["text"]
        questions.append((doc, row["question.text"], tuple(a["text"] for a in row["answers"]), int(row["document.word_count"] or 0)))
    return NarrativeQA(tuple(questions), stories, str(getattr(data, "_fingerprint", "")), hub_source(NARRATIVEQA_HUB, data, "test"))


@lru_cache(maxsize=4)
def narrativeqa_demos(directory: Path | None) -> tuple[tuple[str, str], ...]:
    """(question, first answer) of each train question: the demo pool."""
    if directory is not None:
        demos = tuple((_get(row, "question.text", str, where), _answers(row, where)[0])
                      for where, row in _rows(directory / "train.jsonl"))
    else:
        flat = _hub_split("train").flatten().select_columns(["question.text", "answers"])
        demos = tuple((row["question.text"], row["answers"][0]["text"]) for row in flat)
    if len(demos) < SHOTS:
        raise HarnessError(f"HELMET NarrativeQA: the train split has {len(demos)} questions, {SHOTS} demos are needed")
    return demos


def narrativeqa_items(directory: Path | None, min_words: int, seed: int) -> list[Item]:
    """The test questions in `shuffle(seed)` order (stories of at least `min_words` words), each with 2 train
    demos drawn by its own seeded generator (HELMET draws them unseeded)."""
    return _narrativeqa_items(directory, min_words, seed)


@lru_cache(maxsize=8)
def _narrativeqa_items(directory: Path | None, min_words: int, seed: int) -> list[Item]:
    import random

    data = narrativeqa_test(directory)
    demos = narrativeqa_demos(directory)
    items = []
    for i in shuffled(len(data.questions), seed):
        doc, question, answers, words = data.questions[i]
        if words < min_words:
            continue
        rng = random.Random(f"helmet_narrativeqa|{i}|{seed}")
        chosen = [{"question": q, "answer": a} for q, a in (demos[j] for j in rng.sample(range(len(demos)), SHOTS))]
        items.append(Item(data.stories[doc], question, answers, demo_text("narrativeqa", chosen),
                          meta={"document_id": doc, "row": i}))
    return items


# -- InfiniteBench through HELMET ---------------------------------------------------------------------------------

def infbench_items(kind: str, options: TaskOptions, seed: int) -> list[Item]:
    """InfiniteBench's rows as HELMET's `load_infbench` prepares them, in `shuffle(seed)` order."""
    return _infbench_items(kind, options_key(options), seed)


def options_key(options: TaskOptions) -> tuple[Path | None, str | None]:
    return options.data_root(), options.args.get("infinitebench")


@lru_cache(maxsize=8)
def _infbench_items(kind: str, key: tuple[Path | None, str | None], seed: int) -> list[Item]:
    root, folder = key
    options = TaskOptions(data_dir=root, args={"infinitebench": folder} if folder else {})
    rows = INFINITEBENCH.load(options, INFBENCH_SPLIT[kind]).rows
    prepared = [_prepare(kind, row, i) for i, row in enumerate(rows)]
    items = []
    for i in shuffled(len(prepared), seed):
        me = prepared[i]
        others = [p for p in prepared if p["id"] != me["id"]]  # HELMET: filter(id != this).shuffle(seed).select(2)
        demos = [others[j] for j in shuffled(len(others), seed)[:SHOTS]]
        fields = {"options": me["options"]} if kind == "infbench_choice" else {}
        items.append(Item(me["context"], me["question"], me["answers"],
                          demo_text(kind, [{**d, "answer": d["answers"][0]} for d in demos]), fields,
                          {"example_id": me["id"]}))
    return items


def _prepare(kind: str, row: dict[str, Any], index: int) -> dict[str, Any]:
    """HELMET's `process_example`: the question, and for choice the lettered options and [letter, "X. option"]."""
    example_id = row.get("id", index)
    answers = [str(a) for a in (row["answer"] if isinstance(row["answer"], list) else [row["answer"]])]
    if not answers:
        raise HarnessError(f"InfiniteBench {INFBENCH_SPLIT[kind]} id {example_id}: field 'answer' is empty")
    prepared: dict[str, Any] = {"id": example_id, "context": row["context"], "question": row["input"], "options": ""}
    if kind == "infbench_choice":
        options = [str(o) for o in row.get("options") or []]
        if len(options) != 4:
            raise HarnessError(f"InfiniteBench longbook_choice_eng id {example_id}: field 'options' has {len(options)} "
                               "options, expected 4")
        if answers[0] not in options:
            raise HarnessError(f"InfiniteBench longbook_choice_eng id {example_id}: answer {answers[0]!r} is not one of its options")
        letter = LETTERS[options.index(answers[0])]
        prepared.update(options=prompts()["infbench_choice"]["options"].format(*options), answers=(letter, f"{letter}. {answers[0]}"))
    else:
        prepared["answers"] = tuple(answers)
    return prepared


# -- options and tasks --------------------------------------------------------------------------------------------

def check_truncate(mode: str) -> str:
    return one_of("truncate", mode, TRUNCATE_MODES)


@dataclass(frozen=True)
class HelmetNarrativeQAOptions(HelmetOptions):
    """HELMET NarrativeQA's `--task-args`: how the story is cut (`truncate`: right | middle | left | skip), the
    folder of its test.jsonl and train.jsonl (`helmet_narrativeqa`, else `narrativeqa/` in the HELMET folder, else the
    hub), and a story-length floor in words (`min_words`; HELMET keeps stories over 131072 Llama-2 tokens)."""

    shared: ClassVar[frozenset[str]] = HelmetOptions.shared | {"truncate"}

    truncate: str = "right"
    helmet_narrativeqa: str | None = None
    min_words: int = 0

    def check(self) -> None:
        check_truncate(self.truncate)


@dataclass(frozen=True)
class HelmetInfbenchOptions(InfiniteBenchOptions):
    """InfiniteBench's options (its folder `infinitebench`, `truncate`), HELMET's default cut (`right`);
    `prompt_style` is accepted and unused: HELMET's templates serve both styles."""

    truncate: str = "right"

    def check(self) -> None:
        check_truncate(self.truncate)
        if self.prompt_style is not None:
            one_of("prompt_style", self.prompt_style, ("chat", "completion"))


def check_narrativeqa(directory: Path | None) -> None:
    """Read both splits now (a bad row fails before a model loads)."""
    narrativeqa_test(directory)
    narrativeqa_demos(directory)


def check_infbench(kind: str, options: TaskOptions) -> None:
    """Read and prepare the rows now (a bad row fails before a model loads)."""
    infbench_items(kind, options, 42)


def narrativeqa_task(options: TaskOptions) -> Task:
    """`helmet_narrativeqa`; its files are read on first use."""
    typed = HelmetNarrativeQAOptions.parse(options.args)

    def directory() -> Path | None:
        return helmet_folder(options, "helmet_narrativeqa", "narrativeqa", "HELMET NarrativeQA")

    def items(seed: int) -> list[Item]:
        return narrativeqa_items(directory(), typed.min_words, seed)

    return Task(
        name="helmet_narrativeqa",
        make_sample=partial(make_sample, "helmet_narrativeqa", "narrativeqa", items, typed.truncate),
        metric=Metric("rougeL_f1", lambda output, targets: 100.0 * default_score("rougeL_f1", output, targets)),
        max_new_tokens=MAX_NEW["narrativeqa"],
        postprocess=lambda text: text,
        num_samples=TEST_SAMPLES,
        params={"benchmark": "helmet", "category": "longqa", "dataset": "narrativeqa", "truncate": typed.truncate,
                "min_words": typed.min_words, "hub": f"{NARRATIVEQA_HUB}@{NARRATIVEQA_REVISION}"},
        judge=JudgeSpec(judge_prompt, parse_judge, int(prompts()["judge"]["max_tokens"])),
        report=narrativeqa_report,
        score_sample=partial(score_sample, "narrativeqa"),
        size=lambda: len(items(42)),
        data_digest=lambda: narrativeqa_test(directory()).digest,
        data_source=lambda: narrativeqa_test(directory()).origin,
        check=lambda: check_narrativeqa(directory()),
        options=typed,
        halve_generation=True,
    )


def infbench_task(kind: str, options: TaskOptions) -> Task:
    """`helmet_infbench_qa` or `helmet_infbench_choice` (InfiniteBench's files, HELMET's templates)."""
    if kind not in INFBENCH_SPLIT:
        raise HarnessError(f"unknown HELMET InfiniteBench task {kind!r}: expected one of {', '.join(INFBENCH_SPLIT)}")
    typed = HelmetInfbenchOptions.parse(options.args)
    load = partial(INFINITEBENCH.load, options, INFBENCH_SPLIT[kind])
    metric = "exact_match" if kind == "infbench_choice" else "rougeL_f1"
    scorer = choice_exact_match if kind == "infbench_choice" else partial(default_score, "rougeL_f1")
    return Task(
        name=f"helmet_{kind}",
        make_sample=partial(make_sample, f"helmet_{kind}", kind, partial(infbench_items, kind, options), typed.truncate),
        metric=Metric(metric, lambda output, targets: 100.0 * scorer(output, targets)),
        max_new_tokens=MAX_NEW[kind],
        postprocess=lambda text: text,
        num_samples=TEST_SAMPLES,
        params={"benchmark": "helmet", "category": "longqa", "dataset": INFBENCH_SPLIT[kind], "truncate": typed.truncate},
        score_sample=partial(score_sample, kind),
        size=lambda: len(load().rows),
        data_digest=lambda: load().digest,
        data_source=lambda: load().origin,
        check=lambda: check_infbench(kind, options),
        options=typed,
        halve_generation=True,
    )
