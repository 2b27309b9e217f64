"""HELMET's Cite category (princeton-nlp/HELMET @4526dfb): ALCE's ASQA and QAMPARI with citations.

As the reference (`data.py` `load_alce`, `configs/cite.yaml`, `eval_alce.py`, `scripts/collect_results.py`):
the rows of `alce/asqa_eval_gtr_top2000.json` / `alce/qampari_eval_gtr_top2000.json` in HELMET's order
(`shuffle(seed=42)`, the first 100), each with 2 of the 4 demos of `prompts/*_revised.json` (drawn as HELMET
draws them: `random.seed(42)`, one `random.sample(demos, 2)` per row in file order), the instruction, the
question and the retrieved documents as `Document [i](Title: ...): text`; one chat turn, 300 new tokens.
At length L the prompt holds as many of the row's documents, in order, as fit L minus 300 tokens (HELMET
fixes a count per length and cuts the text's end; whole documents are kept here).

Scoring (`eval_alce.py`): newlines become spaces; ASQA `str_em` (share of the question's short-answer
sets with an answer in the output, citations removed), QAMPARI `qampari_rec_top5` (answer sets named among
the comma-separated predictions, capped at 5); citation recall and precision (AutoAIS: each sentence -- for
QAMPARI each answer, prefixed with the question -- is checked against its cited documents, at most 3, by an
NLI model; precision credits a cited document unless it is unnecessary: it does not support the sentence
alone and the other cited ones do without it). A sample's score is the mean of its dataset's three
metrics (so the task's mean is HELMET's three-metric Cite mean); each component is in the sample's meta
and their means in the task's report. The reference leaves outputs with no sentence out of the citation
means; here they score 0 in the sample's score, and the report gives the reference's means too.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.core.errors import HarnessError
from harness.core.types import Sample, ScoredSample, sample_id
from harness.core.userfiles import check_type
from harness.tasks.base import Counter, Metric, Task, mean, prompt_budget
from harness.tasks.data import Schema, TaskOptions, check_fields
from harness.tasks.docsource import Rows
from harness.tasks.helmet.fit import fit_units, shuffled_subset
from harness.tasks.helmet.nli import NLI, REFERENCE_NLI, load_nli, nli_identity
from harness.tasks.helmet.source import HelmetOptions, read_rows
from harness.tasks.textmetrics import normalize_answer  # utils.py's (SQuAD's)

MAX_NEW_TOKENS = 300
SHOTS = 2
SEED = 42  # HELMET's --seed: its row order and demo draws
NUM_SAMPLES = 100  # configs/cite.yaml max_test_samples
AT_MOST_CITATIONS = 3  # eval_alce.py --at_most_citations default
USER_TEMPLATE = "{demo_text}{instruction}\n\nQuestion: {question}\n\n{context}"
FIELDS: dict[str, Schema] = {"asqa": (("question", str), ("docs", list)),
                              "qampari": (("question", str), ("docs", list), ("answers", list))}
OPTIONAL: dict[str, Schema] = {"asqa": (("qa_pairs", (list, type(None))),), "qampari": ()}
DATASETS = {"asqa": ("alce/asqa_eval_gtr_top2000.json", "str_em"),
            "qampari": ("alce/qampari_eval_gtr_top2000.json", "qampari_rec_top5")}


# -- the reference's text helpers (utils.py) ------------------------------------------------------

def remove_citations(text: str) -> str:
    """utils.py `remove_citations`: drop `[n` markers, ` |` and `]`."""
    return re.sub(r"\[\d+", "", re.sub(r" \[\d+", "", text)).replace(" |", "").replace("]", "")


def clean_output(text: str) -> str:
    """What eval_alce.py scores: newline runs become one space, `<|im_end|>` is dropped."""
    return re.sub(r"\n+", " ", text).replace("<|im_end|>", "")


@lru_cache(maxsize=1)
def sentence_splitter() -> tuple[str, Callable[[str], list[str]]]:
    """nltk's `sent_tokenize` (trained English Punkt, as the reference) when its data is installed, else
    untrained Punkt (the same algorithm without the learned abbreviations); the name says which."""
    import nltk
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    try:
        nltk.sent_tokenize("A test. Another one.")
        return "nltk.sent_tokenize (punkt english)", nltk.sent_tokenize
    except LookupError:
        return "nltk PunktSentenceTokenizer (untrained: no punkt data installed)", PunktSentenceTokenizer().tokenize


# -- the metrics (eval_alce.py) ---------------------------------------------------------------------

def str_em(output: str, qa_pairs: Sequence[dict[str, Any]]) -> float:
    """ASQA STR-EM of one output (0-100): the share of qa pairs with a short answer inside the output."""
    if not qa_pairs:
        return 0.0
    context = normalize_answer(remove_citations(output))
    hits = [any(normalize_answer(a) in context for a in pair["short_answers"]) for pair in qa_pairs]
    return 100.0 * sum(hits) / len(hits)


def qampari_predictions(output: str) -> list[str]:
    """The comma-separated answers of a QAMPARI output (trailing `.` and `,` removed)."""
    return [p for p in (normalize_answer(x.strip()) for x in output.rstrip().rstrip(".").rstrip(",").split(",")) if p]


def qampari_rec_top5(output: str, answers: Sequence[Sequence[str]]) -> float:
    """QAMPARI recall capped at 5 (0-100): answer sets (any alias) among the predictions, over min(5, sets)."""
    if not answers:
        raise HarnessError("QAMPARI: a row has no answers (qampari_rec_top5 divides by their number)")
    predictions = qampari_predictions(remove_citations(output))
    found = sum(any(normalize_answer(x) in predictions for x in aliases) for aliases in answers)
    return 100.0 * min(5, found) / min(5, len(answers))


def format_document(doc: dict[str, Any]) -> str:
    """A document as AutoAIS reads it."""
    return "Title: %s\n%s" % (doc["title"], doc["sent"] if "sent" in doc else doc["text"])


def claims(output: str, question: str, qampari: bool) -> list[str]:
    """The units AutoAIS checks: QAMPARI's answers prefixed with the question, else sentences of 5+ characters."""
    if qampari:
        return [question + " " + x.strip() for x in output.rstrip().rstrip(".").rstrip(",").split(",")]
    return [s for s in sentence_splitter()[1](output) if len(s.strip()) >= 5]


@dataclass(frozen=True)
class Citations:
    """One output's citation recall and precision (0-100); `counted` False when it has no sentence
    (the reference leaves it out of both means)."""

    recall: float
    precision: float
    counted: bool


def citation_scores(output: str, question: str, docs: Sequence[dict[str, Any]], nli: NLI, qampari: bool,
                    at_most: int = AT_MOST_CITATIONS) -> Citations:
    """eval_alce.py `compute_autoais` for one item, its NLI calls batched in three rounds."""
    sents = claims(output, question, qampari)
    if not sents:
        return Citations(0.0, 0.0, False)
    targets = [remove_citations(s).strip() for s in sents]
    refs: list[list[int] | None] = []  # None: no citation, or one out of range (not supported, no NLI call)
    for sent in sents:
        ref = [int(r[1:]) - 1 for r in re.findall(r"\[\d+", sent)]
        refs.append(ref[:at_most] if ref and all(i < len(docs) for i in ref) else None)  # as the reference: [0 is docs[-1]

    def joined(ids: Sequence[int]) -> str:
        return "\n".join(format_document(docs[i]) for i in ids)

    asked = [i for i, ref in enumerate(refs) if ref is not None]
    joint = dict(zip(asked, nli.entails([(joined(refs[i] or []), targets[i]) for i in asked])))
    multi = [(i, doc) for i in asked if joint[i] and len(refs[i] or []) > 1 for doc in refs[i] or []]
    alone = nli.entails([(format_document(docs[doc]), targets[i]) for i, doc in multi])
    rest = [(i, doc) for (i, doc), ok in zip(multi, alone) if not ok]

    def without(ref: list[int], doc: int) -> list[int]:
        left = list(ref)
        left.remove(doc)
        return left

    others = nli.entails([(joined(without(refs[i] or [], doc)), targets[i]) for i, doc in rest])
    overcited = sum(others)
    total_citations = sum(len(refs[i] or []) for i in asked)
    entail = sum(joint.values())
    single = sum(1 for i in asked if joint[i] and len(refs[i] or []) <= 1)
    entail_prec = single + len(multi) - overcited
    return Citations(100.0 * entail / len(sents), 100.0 * entail_prec / total_citations if total_citations else 0.0, True)


def score_parts(dataset: str, row: dict[str, Any], output: str, nli: NLI) -> dict[str, Any]:
    """The dataset's three HELMET metrics of one output (0-100), and whether the citation ones count."""
    output = clean_output(output)
    qampari = dataset == "qampari"
    first = qampari_rec_top5(output, row["answers"]) if qampari else str_em(output, row.get("qa_pairs") or [])
    cited = citation_scores(output, row["question"], row["docs"], nli, qampari)
    return {DATASETS[dataset][1]: first, "citation_rec": cited.recall, "citation_prec": cited.precision,
            "citation_counted": cited.counted}


# -- prompts and samples ----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def prompts() -> dict[str, Any]:
    """HELMET's demo files (`cite_prompts.json` beside this file: prompts/asqa_revised.json, qampari_revised.json)."""
    with open(Path(__file__).with_name("cite_prompts.json"), encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def doc_block(docs: Sequence[dict[str, Any]], doc_prompt: str) -> str:
    return "\n\n".join(doc_prompt.format(**d, ID=i + 1) for i, d in enumerate(docs))


def demo_text(dataset: str, picks: Sequence[int]) -> str:
    """The demos `picks`, as load_alce writes them (each with its 5 documents), then the separator."""
    spec = prompts()[dataset]
    demos = [spec["demo_prompt"].format(**spec["demos"][i], instruction=spec["instruction"],
                                        context=doc_block(spec["demos"][i]["docs"], spec["doc_prompt"])) for i in picks]
    return "\n\n\n".join(demos) + ("\n\n\n" if picks else "")


@lru_cache(maxsize=8)
def demo_draws(dataset: str, rows: int, seed: int = SEED) -> tuple[tuple[int, ...], ...]:
    """Each row's demos as HELMET draws them: `random.seed(seed)`, then `random.sample(demos, 2)` per row in file order."""
    rng = random.Random(seed)
    count = len(prompts()[dataset]["demos"])
    return tuple(tuple(rng.sample(range(count), SHOTS)) for _ in range(rows))


@lru_cache(maxsize=8)
def helmet_order(rows: int, seed: int = SEED) -> tuple[int, ...]:
    """Row indices in HELMET's order (`shuffle(seed=42)`; its first 100 are HELMET's test samples)."""
    return tuple(shuffled_subset(rows, rows, seed))


def doc_texts(dataset: str, row: dict[str, Any]) -> list[str]:
    """The row's documents as the prompt shows them."""
    return [prompts()[dataset]["doc_prompt"].format(**d, ID=i + 1) for i, d in enumerate(row["docs"])]


def build_prompt(dataset: str, row: dict[str, Any], picks: Sequence[int], n_docs: int) -> str:
    """The user turn with the row's first `n_docs` documents."""
    spec = prompts()[dataset]
    return USER_TEMPLATE.format(demo_text=demo_text(dataset, picks), instruction=spec["instruction"],
                                question=row["question"], context=doc_block(row["docs"][:n_docs], spec["doc_prompt"]))


def targets_of(dataset: str, row: dict[str, Any]) -> tuple[str, ...]:
    """What the sample shows as its answers: ASQA's short-answer sets, QAMPARI's answer sets (aliases joined by |)."""
    sets = row["answers"] if dataset == "qampari" else [p["short_answers"] for p in row.get("qa_pairs") or []]
    return tuple(" | ".join(str(a) for a in aliases) for aliases in sets)


def row_at(dataset: str, data: Rows, position: int) -> dict[str, Any]:
    """Row `position` with its documents and answers checked (errors name the file, item and field)."""
    row = data.rows[position]
    where = f"{data.source}: item {position}"
    for i, doc in enumerate(row["docs"]):
        check_type(doc, dict, f"{where}: docs[{i}]")
        check_fields(doc, (("title", str), ("text", str)), f"{where}: docs[{i}]")
    if dataset == "qampari":
        for i, aliases in enumerate(row["answers"]):
            check_type(aliases, list, f"{where}: answers[{i}] (a list of aliases)")
    for i, pair in enumerate(row.get("qa_pairs") or []):
        check_type(pair, dict, f"{where}: qa_pairs[{i}]")
        check_fields(pair, (("short_answers", list),), f"{where}: qa_pairs[{i}]")
    return row


def make_sample(task: str, dataset: str, load: Callable[[], Rows], counter: Counter, length: int, index: int,
                seed: int) -> Sample:
    """HELMET's `index`-th sample with as many whole documents as fit `length` minus the generation budget."""
    data = load()
    if index >= len(data.rows):
        raise HarnessError(f"HELMET {dataset}: {data.source} has {len(data.rows)} examples, asked for #{index}")
    position = helmet_order(len(data.rows))[index]
    row = row_at(dataset, data, position)
    picks = demo_draws(dataset, len(data.rows))[position]
    chars = [len(spec_doc) for spec_doc in doc_texts(dataset, row)]
    fitted, skipped = fit_units(counter, lambda n: build_prompt(dataset, row, picks, n), "", chars,
                                prompt_budget(MAX_NEW_TOKENS, length), f"HELMET alce_{dataset} at length {length}")
    return Sample(id=sample_id(task, length, index, seed), task=task, length=length, index=index, prompt=fitted.value,
                  targets=targets_of(dataset, row), prompt_tokens=fitted.tokens, skipped=skipped,
                  meta={"row": position, "docs_shown": fitted.units, "demos": list(picks)})


# -- the task ---------------------------------------------------------------------------------------

def report(dataset: str, nli_name: str, records: list[ScoredSample], output: Path) -> dict[str, Any]:
    """Per length: each metric's mean as eval_alce.py computes it (citation means over outputs with a sentence),
    HELMET's Cite score of this dataset (their mean), the NLI model and the sentence splitter."""
    first = DATASETS[dataset][1]
    by_length: dict[int, list[ScoredSample]] = {}
    for record in records:
        by_length.setdefault(record.length, []).append(record)
    out: dict[str, Any] = {"nli": nli_name, "sentence_splitter": sentence_splitter()[0]}
    for length, rs in sorted(by_length.items()):
        counted = [r for r in rs if r.meta.get("citation_counted", True)]
        means = {first: mean([float(r.meta.get(first, 0.0)) for r in rs]),
                 "citation_rec": mean([float(r.meta.get("citation_rec", 0.0)) for r in counted]),
                 "citation_prec": mean([float(r.meta.get("citation_prec", 0.0)) for r in counted])}
        out[str(length)] = {**{k: round(v, 4) for k, v in means.items()}, "cite": round(mean(list(means.values())), 4),
                            "n": len(rs), "no_sentence": len(rs) - len(counted)}
    return out


@dataclass(frozen=True)
class CiteOptions(HelmetOptions):
    """HELMET Cite's `--task-args`: the NLI model behind citation recall/precision (`nli`: a seq2seq NLI hub id or
    path, default the reference's TRUE T5-XXL; or `llm:MODEL`, one of our backends) and `nli_base_url` for an
    `llm:openai:NAME` server."""

    nli: str = REFERENCE_NLI
    nli_base_url: str | None = None

    def check(self) -> None:
        if self.nli_base_url and not self.nli.startswith("llm:"):
            raise HarnessError(f"--task-args nli_base_url={self.nli_base_url}: only for an nli=llm:MODEL "
                               f"(e.g. nli=llm:openai:NAME), not nli={self.nli}")


def scorer(dataset: str, load: Callable[[], Rows], nli: Callable[[], NLI], sample: Sample,
           output: str) -> tuple[float, dict[str, Any]]:
    """A sample's score (mean of its three metrics) and the metrics themselves."""
    row = row_at(dataset, load(), int(sample.meta["row"]))
    parts = score_parts(dataset, row, output, nli())
    return mean([float(v) for k, v in parts.items() if k != "citation_counted"]), parts


def _needs_row(output: str, targets: Sequence[str]) -> float:
    raise HarnessError("HELMET Cite scores need the sample's documents (Task.score_parts)")


def _helmet_rows(dataset: str, options: TaskOptions) -> Rows:
    """The dataset's file of HELMET's data/ tree (`tasks.helmet.source`), its rows checked."""
    return read_rows(options, DATASETS[dataset][0], FIELDS[dataset], OPTIONAL[dataset])


def cite_task(dataset: str, options: TaskOptions, load: Callable[[], Rows] | None = None) -> Task:
    """`helmet_alce_asqa` or `helmet_alce_qampari` (`load`: the rows, else HELMET's file through tasks.helmet.source)."""
    if dataset not in DATASETS:
        raise HarnessError(f"HELMET Cite: unknown dataset {dataset!r} (expected one of {', '.join(DATASETS)})")
    first = DATASETS[dataset][1]
    rows = load or partial(_helmet_rows, dataset, options)
    parsed = CiteOptions.parse(options.args)
    identity = nli_identity(parsed.nli, parsed.nli_base_url)
    nli = partial(load_nli, parsed.nli, parsed.nli_base_url)
    name = f"helmet_alce_{dataset}"
    return Task(
        name=name,
        make_sample=partial(make_sample, name, dataset, rows),
        metric=Metric(f"mean({first},citation_rec,citation_prec)", _needs_row),
        max_new_tokens=MAX_NEW_TOKENS,
        postprocess=clean_output,
        chat=True,
        num_samples=NUM_SAMPLES,
        params={"benchmark": "helmet", "category": "cite", "dataset": f"alce_{dataset}", "shots": SHOTS, "nli": identity},
        score_parts=partial(scorer, dataset, rows, nli),
        report=partial(report, dataset, identity),
        size=lambda: len(rows().rows),
        data_digest=lambda: rows().digest,
        data_source=lambda: rows().origin,
        options=parsed,
    )
