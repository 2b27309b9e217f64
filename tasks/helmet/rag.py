"""HELMET's RAG tasks on KILT (`helmet_nq`, `helmet_triviaqa`, `helmet_hotpotqa`, `helmet_popqa`): answer a question
from retrieved Wikipedia passages, the gold passage(s) among distractors, as HELMET's `load_qa`
(princeton-nlp/HELMET @4526dfb, data.py; configs/rag.yaml; scripts/collect_results.py for the metric).

Prompt: `Use the given documents ... Answer: [answer]\\n\\n{demos}{context}\\n\\nQuestion: {question}` then
`\\nAnswer:` (the answer prefix); passages `Document (Title: {title}): {text}` joined by blank lines; two demos from
the dataset's demo file (`*-train-*_k3_*.jsonl`; popqa's own test file without the row's id) picked as HELMET picks
them (`shuffle(seed=sha256(key) % 2**31)`, first two distinct keys); 20 new tokens, stop at a newline; substring
exact match (x 100), the better of the raw and the "Answer:"-parsed output. popqa keeps rows with log10(s_pop) < 3
(test and demos). Rows: HELMET's 100 questions (`random.seed(42)`, `random.sample` of the sorted keys) with all their
rows (the files repeat each question with its gold at several depths), from the largest file (k1000).

Length: HELMET ships one file per length (k20 ... k1000 passages for 4k ... 128k). We read the k1000 rows at every
length and keep the gold passage(s) plus as many distractors, in the file's order, as fit the budget; each gold
passage sits at the position proportional to its place in the published row (the files encode the depth: rank 0,
200, ..., 999 of 1000 for `dep6`). Gold passages: the `ctxs` entries matching the row's `positive_ctxs` (title and
text), else those with `has_answer` true.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Sample, sample_id
from harness.core.userfiles import check_type
from harness.tasks.base import Counter, Metric, Task, prompt_budget
from harness.tasks.data import TaskOptions
from harness.tasks.docsource import Rows
from harness.tasks.helmet import fit
from harness.tasks.helmet.metrics import best_substring_match
from harness.tasks.helmet.source import HelmetOptions, RowFile, first_present, open_rows, read_rows

SIZES = (1000, 440, 220, 105, 50, 20)  # HELMET's passages per length, largest first
FILES = {
    "nq": ("kilt/nq-dev-multikilt_1000_k{}_dep6.jsonl", "kilt/nq-train-multikilt_1000_k3_dep6.jsonl"),
    "triviaqa": ("kilt/triviaqa-dev-multikilt_1000_k{}_dep6.jsonl", "kilt/triviaqa-train-multikilt_1000_k3_dep6.jsonl"),
    "hotpotqa": ("kilt/hotpotqa-dev-multikilt_1000_k{}_dep3.jsonl", "kilt/hotpotqa-train-multikilt_1000_k3_dep3.jsonl"),
    "popqa": ("kilt/popqa_test_1000_k{}_dep6.jsonl", "kilt/popqa_test_1000_k3_dep6.jsonl"),
}
DATASETS = tuple(FILES)
FIELDS = (("question", str), ("answers", list), ("ctxs", list))
OPTIONAL = (("positive_ctxs", list), ("s_pop", (int, float)))
MAX_NEW_TOKENS = 20
SHOTS = 2
SAMPLES = 100  # HELMET's max_test_samples: questions, each with all its rows
POPULARITY = 3.0  # kilt_popqa_3: log10(s_pop) below this
SEED = 42
ALL = 10**9


def prompts() -> dict[str, Any]:
    return dict(toml_beside(__file__, "prompts.toml")["rag"])


def passage(ctx: dict[str, Any]) -> str:
    return str(prompts()["passage"]).format(title=ctx["title"], text=ctx["text"])


def check_ctxs(row: dict[str, Any], where: str) -> None:
    """Every passage an object with string `title` and `text` (errors name row, list and item)."""
    for field in ("ctxs", "positive_ctxs"):
        for i, ctx in enumerate(row.get(field) or []):
            check_type(ctx, dict, f"{where}: {field}[{i}]")
            for key in ("title", "text") if field == "ctxs" else ():
                if key not in ctx:
                    raise HarnessError(f"{where}: {field}[{i}]: missing field {key!r}")
                check_type(ctx[key], str, f"{where}: {field}[{i}].{key}")


def gold_indices(row: dict[str, Any], where: str) -> list[int]:
    """The gold passages among `ctxs`: those matching `positive_ctxs` by title and text, else `has_answer` ones."""
    ctxs = row["ctxs"]
    positives = {(str(p.get("title", "")).strip(), str(p.get("text", "")).strip()) for p in row.get("positive_ctxs") or []}
    found = [i for i, c in enumerate(ctxs) if (c["title"].strip(), c["text"].strip()) in positives]
    if not found:
        found = [i for i, c in enumerate(ctxs) if c.get("has_answer") is True]
    if not found:
        raise HarnessError(f"{where}: no gold passage: no entry of field 'ctxs' matches one of 'positive_ctxs' "
                           f"(title and text), and none has has_answer true")
    return found


def answers_of(row: dict[str, Any], where: str) -> tuple[str, ...]:
    flat = [a for item in row["answers"] for a in (item if isinstance(item, list) else [item])]
    if not flat or not all(isinstance(a, str) for a in flat):
        raise HarnessError(f"{where}: field 'answers': expected a non-empty list of strings")
    return tuple(flat)


def popular(s_pop: Any, where: str) -> bool:
    """popqa's filter: log10(s_pop) < 3 (HELMET's kilt_popqa_3)."""
    if not isinstance(s_pop, (int, float)) or isinstance(s_pop, bool) or s_pop <= 0:
        raise HarnessError(f"{where}: field 's_pop': expected a positive number, got {s_pop!r}")
    return math.log10(s_pop) < POPULARITY


@dataclass(frozen=True)
class Layout:
    """One row's passages: the gold ones with their relative depths, the distractors in the file's order."""

    gold: tuple[tuple[float, str], ...]
    others: tuple[str, ...]

    def context(self, keep: int) -> str:
        items, _ = fit.place(list(self.gold), list(self.others[:keep]))
        return "\n\n".join(items)


class Rag:
    """One dataset's rows (read when first needed) and its sample factory."""

    def __init__(self, dataset: str, options: TaskOptions) -> None:
        self.dataset, self.options = dataset, options
        test, demos = FILES[dataset]
        self.test_files = tuple(test.format(k) for k in SIZES)
        self.demo_file = demos

    def rows(self) -> RowFile:
        return open_rows(self.options, first_present(self.options, self.test_files), FIELDS, OPTIONAL)

    def demos(self) -> Rows:
        return read_rows(self.options, self.demo_file, FIELDS, (("id", (str, int)), *OPTIONAL))

    @cached_property
    def key(self) -> str:
        """HELMET's question key: `id` where the test rows have one (popqa), else `question`."""
        return "id" if "id" in self.rows().row(0) else "question"

    @cached_property
    def selected(self) -> list[int]:
        """HELMET's test rows: popqa's popularity filter, then 100 questions drawn with random.seed(42), all their rows."""
        table = self.rows()
        keys = table.values(self.key)
        if self.dataset == "popqa":
            pops = table.values("s_pop")
            kept = [i for i in range(len(table)) if popular(pops[i], f"{table.path}:{table.lines[i]}")]
        else:
            kept = list(range(len(table)))
        return [kept[i] for i in fit.helmet_subset([keys[i] for i in kept], SAMPLES, SEED)]

    def size(self) -> int:
        return len(self.selected)

    def demo_pool(self) -> list[dict[str, Any]]:
        rows = self.demos()
        pool = list(rows.rows)
        if self.dataset == "popqa":
            pool = [d for d in pool if popular(d.get("s_pop"), f"{rows.source}: a demo row")]
        for d in pool:
            if self.key not in d:
                raise HarnessError(f"{rows.source}: a demo row lacks field {self.key!r}")
        return pool

    def demo_text(self, sample_key: Any) -> str:
        """Two demos as HELMET picks them for this question (popqa: never the question itself)."""
        pool = self.demo_pool()
        if self.dataset == "popqa":
            pool = [d for d in pool if d[self.key] != sample_key]
        chosen: list[dict[str, Any]] = []
        seen: set[Any] = set()
        for i in fit.shuffled(len(pool), fit.demo_seed(sample_key)):
            if pool[i][self.key] in seen:
                continue
            seen.add(pool[i][self.key])
            chosen.append(pool[i])
            if len(chosen) == SHOTS:
                break
        if len(chosen) < SHOTS:
            raise HarnessError(f"HELMET {self.dataset}: {self.demos().source} has {len(chosen)} usable demos, needs {SHOTS}")
        spec = prompts()
        texts = []
        for d in chosen:
            where = f"{self.demos().source}: demo {d.get(self.key)!r}"
            check_ctxs(d, where)
            texts.append(str(spec["demo"]).format(documents="\n\n".join(passage(c) for c in d["ctxs"]),
                                                  question=d["question"], answer=answers_of(d, where)[0]))
        return "\n\n".join(texts) + "\n\n"

    def make_sample(self, counter: Counter, length: int, index: int, seed: int) -> Sample:
        task = f"helmet_{self.dataset}"
        if index >= self.size():
            raise HarnessError(f"HELMET {self.dataset}: {self.size()} test rows, asked for #{index}")
        table = self.rows()
        number = self.selected[index]
        row, where = table.row(number), f"{table.path}:{table.lines[number]}"
        table.check_value(number, self.key, row, table.values(self.key)[number])
        check_ctxs(row, where)
        gold = gold_indices(row, where)
        count = len(row["ctxs"])
        golden = set(gold)
        layout = Layout(tuple((fit.relative(i, count), passage(row["ctxs"][i])) for i in gold),
                        tuple(passage(c) for i, c in enumerate(row["ctxs"]) if i not in golden))
        demos = self.demo_text(row[self.key])
        spec = prompts()
        answer_prefix = "\n" + spec["answer"]

        def prompt_for(keep: int) -> str:
            return str(spec["user"].format(demos=demos, context=layout.context(keep), question=row["question"]))

        fitted, skipped = fit.fit_units(counter, prompt_for, answer_prefix, [len(p) + 2 for p in layout.others],
                               prompt_budget(MAX_NEW_TOKENS, length), f"HELMET {self.dataset} at {length}")
        _, slots = fit.place(list(layout.gold), [""] * fitted.units)
        return Sample(
            id=sample_id(task, length, index, seed), task=task, length=length, index=index, prompt=fitted.value,
            targets=answers_of(row, where), answer_prefix=answer_prefix, prompt_tokens=fitted.tokens, skipped=skipped,
            meta={"row": number, "passages": fitted.units + len(gold), "published_passages": count,
                  "gold_at": slots, "published_gold_at": gold},
        )


def score(sample: Sample, output: str) -> float:
    return 100.0 * best_substring_match(output, sample.targets, str(prompts()["parse_prefix"]))


def rag_task(dataset: str, options: TaskOptions) -> Task:
    """`helmet_<dataset>` for nq, triviaqa, hotpotqa, popqa (data read on first use)."""
    if dataset not in FILES:
        raise HarnessError(f"HELMET RAG: unknown dataset {dataset!r} (expected one of {', '.join(DATASETS)})")
    data = Rag(dataset, options)
    return Task(
        name=f"helmet_{dataset}",
        make_sample=data.make_sample,
        metric=Metric("substring_exact_match", lambda output, targets: 100.0 * best_substring_match(
            output, targets, str(prompts()["parse_prefix"]))),
        max_new_tokens=MAX_NEW_TOKENS,
        postprocess=lambda text: text,
        stop=("\n",),
        chat=False,
        num_samples=ALL,  # HELMET's 100 questions, each with all its rows (`size`), unless --limit
        params={"benchmark": "helmet", "category": "rag", "dataset": dataset, "shots": SHOTS, "seed": SEED,
                **({"popularity_threshold": POPULARITY} if dataset == "popqa" else {})},
        score_sample=score,
        size=data.size,
        data_digest=lambda: data.rows().digest + "|" + data.demos().digest,
        data_source=lambda: data.rows().origin(),
        options=HelmetOptions.parse(options.args),
    )
