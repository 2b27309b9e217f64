"""HELMET's passage re-ranking task on MS MARCO (`helmet_msmarco`): rank passages by relevance to a query, scored
by NDCG@10, as HELMET's `load_msmarco_rerank` (princeton-nlp/HELMET @4526dfb, data.py; configs/rerank.yaml).

Prompt: `You are provided with a list of documents ... Ranking: ID3 > ID1 > ID2\\n\\n{demos}{context}\\n\\nQuery:
{question}` then `\\nRanking:` (the answer prefix); passages `[ID: {id}] Document (Title: {title}): {text}` (no title
part where the row's first passage has none) joined by blank lines; two demos from `test_reranking_data_k10_dep3.jsonl`
with their gold rankings, picked as HELMET picks them (never the row's query; `shuffle(seed=sha256(qid) % 2**31)`,
the first two distinct qids); 200 new tokens, stop at a newline. The output is parsed into ranked ids
(`parse_rankings`) and scored by trec_eval's ndcg_cut_10 (pytrec_eval) against the labels of the passages shown
(x 100). Rows: HELMET's 100 queries (`random.seed(42)`, `random.sample` of the sorted qids), all their rows.

Length: HELMET ships one file per length (k14 ... k1000 passages for 4k ... 128k). We read the k1000 rows at every
length and keep as many passages as fit, in the file's order; the qrels and the gold ranking are those of the
passages kept.
"""

from __future__ import annotations

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
from harness.tasks.helmet.metrics import rerank_ndcg
from harness.tasks.helmet.source import HelmetOptions, RowFile, first_present, open_rows, read_rows

FILES = tuple(f"msmarco/test_reranking_data_k{k}_dep3.jsonl" for k in (1000, 600, 285, 130, 50, 14))  # largest first
DEMO_FILE = "msmarco/test_reranking_data_k10_dep3.jsonl"
FIELDS = (("qid", str), ("query", str), ("ctxs", list))
MAX_NEW_TOKENS = 200
SHOTS = 2
SAMPLES = 100
SEED = 42
ALL = 10**9


def prompts() -> dict[str, Any]:
    return dict(toml_beside(__file__, "prompts.toml")["rerank"])


def check_passages(row: dict[str, Any], where: str) -> list[tuple[str, int]]:
    """Each passage's (id, label); a passage without a string `id`, a `text`, or an integer `label` is an error."""
    out = []
    if not row["ctxs"]:
        raise HarnessError(f"{where}: field 'ctxs' is empty")
    for i, ctx in enumerate(row["ctxs"]):
        check_type(ctx, dict, f"{where}: ctxs[{i}]")
        for key in ("id", "text", "label"):
            if key not in ctx:
                raise HarnessError(f"{where}: ctxs[{i}]: missing field {key!r}")
        check_type(ctx["id"], str, f"{where}: ctxs[{i}].id")
        check_type(ctx["text"], str, f"{where}: ctxs[{i}].text")
        try:
            label = int(str(ctx["label"]))
        except ValueError:
            raise HarnessError(f"{where}: ctxs[{i}].label: expected an integer, got {ctx['label']!r}") from None
        out.append((ctx["id"], label))
    return out


def passage_template(row: dict[str, Any]) -> str:
    """HELMET's choice: with titles where the row's first passage has a title."""
    spec = prompts()
    return str(spec["passage"] if "title" in row["ctxs"][0] else spec["passage_untitled"])


def render(template: str, ctx: dict[str, Any], where: str) -> str:
    """One passage in the row's template (a passage lacking the title the template wants is an error)."""
    try:
        return template.format(**ctx)
    except KeyError as missing:
        raise HarnessError(f"{where}: missing field {missing} (the row's first passage has a title: all need one)") from None


def ranking(ctxs: list[dict[str, Any]]) -> str:
    """The gold ranking: ids by label, highest first (ties in the given order)."""
    return " > ".join(c["id"] for c in sorted(ctxs, key=lambda c: int(str(c["label"])), reverse=True))


class Rerank:
    """The task's rows (read when first needed) and its sample factory."""

    def __init__(self, options: TaskOptions) -> None:
        self.options = options

    def rows(self) -> RowFile:
        return open_rows(self.options, first_present(self.options, FILES), FIELDS)

    def demos(self) -> Rows:
        return read_rows(self.options, DEMO_FILE, FIELDS)

    @cached_property
    def selected(self) -> list[int]:
        """HELMET's test rows: 100 qids drawn with random.seed(42), all their rows, in file order."""
        return fit.helmet_subset(self.rows().values("qid"), SAMPLES, SEED)

    def size(self) -> int:
        return len(self.selected)

    @cached_property
    def filtered_pool(self) -> list[dict[str, Any]] | None:
        """HELMET drops every test qid from the demos at once when they outnumber the test rows twice; else None
        (then each row drops its own qid)."""
        demos = list(self.demos().rows)
        if len(demos) > 2 * self.size():
            qids = set(self.rows().values("qid")[i] for i in self.selected)
            return [d for d in demos if d["qid"] not in qids]
        return None

    def demo_text(self, row: dict[str, Any]) -> str:
        pool = self.filtered_pool
        if pool is None:
            pool = [d for d in self.demos().rows if d["qid"] != row["qid"]]
        template = passage_template(row)
        text, seen = "", set()
        for i in fit.shuffled(len(pool), fit.demo_seed(row["qid"])):
            d = pool[i]
            if d["qid"] in seen:
                continue
            seen.add(d["qid"])
            place = f"{self.demos().source}: demo {d['qid']!r}"
            check_passages(d, place)
            text += ("\n\n".join(render(template, c, f"{place}: ctxs[{j}]") for j, c in enumerate(d["ctxs"]))
                     + f"\n\nQuery: {d['query']}\nRanking: {ranking(d['ctxs'])}" + "\n\n")
            if len(seen) == SHOTS:
                return text
        raise HarnessError(f"HELMET msmarco: {self.demos().source} has {len(seen)} usable demos, needs {SHOTS}")

    def make_sample(self, counter: Counter, length: int, index: int, seed: int) -> Sample:
        if index >= self.size():
            raise HarnessError(f"HELMET msmarco: {self.size()} test rows, asked for #{index}")
        table = self.rows()
        number = self.selected[index]
        row, where = table.row(number), f"{table.path}:{table.lines[number]}"
        table.check_value(number, "qid", row, table.values("qid")[number])
        labels = check_passages(row, where)
        template = passage_template(row)
        passages = [render(template, c, f"{where}: ctxs[{j}]") for j, c in enumerate(row["ctxs"])]
        demos = self.demo_text(row)
        spec = prompts()
        answer_prefix = "\n" + spec["answer"]

        def prompt_for(extra: int) -> str:
            context = "\n\n".join(passages[:1 + extra])
            return str(spec["user"].format(demos=demos, context=context, question=row["query"]))

        fitted, skipped = fit.fit_units(counter, prompt_for, answer_prefix, [len(p) + 2 for p in passages[1:]],
                               prompt_budget(MAX_NEW_TOKENS, length), f"HELMET msmarco at {length}")
        kept = 1 + fitted.units
        return Sample(
            id=sample_id("helmet_msmarco", length, index, seed), task="helmet_msmarco", length=length, index=index,
            prompt=fitted.value, targets=(ranking(row["ctxs"][:kept]),), answer_prefix=answer_prefix,
            prompt_tokens=fitted.tokens, skipped=skipped,
            meta={"row": number, "qid": row["qid"], "passages": kept, "published_passages": len(passages),
                  "qrels": dict(labels[:kept])},
        )


def score(sample: Sample, output: str) -> float:
    qrels = sample.meta.get("qrels")
    if not isinstance(qrels, dict):
        raise HarnessError(f"HELMET msmarco sample {sample.id}: no qrels in its meta")
    return 100.0 * rerank_ndcg(output, {str(k): int(v) for k, v in qrels.items()})


def _needs_sample(output: str, targets: Any) -> float:
    raise HarnessError("HELMET msmarco is scored against the sample's qrels (Task.score_sample)")


def rerank_task(dataset: str, options: TaskOptions) -> Task:
    """`helmet_msmarco` (data read on first use)."""
    if dataset != "msmarco":
        raise HarnessError(f"HELMET Re-rank: unknown dataset {dataset!r} (expected msmarco)")
    data = Rerank(options)
    return Task(
        name="helmet_msmarco",
        make_sample=data.make_sample,
        metric=Metric("NDCG@10", _needs_sample),
        max_new_tokens=MAX_NEW_TOKENS,
        postprocess=lambda text: text,
        stop=("\n",),
        chat=False,
        num_samples=ALL,  # HELMET's 100 queries, all their rows (`size`), unless --limit
        params={"benchmark": "helmet", "category": "rerank", "dataset": "msmarco_rerank_psg", "shots": SHOTS,
                "seed": SEED},
        score_sample=score,
        size=data.size,
        data_digest=lambda: data.rows().digest + "|" + data.demos().digest,
        data_source=lambda: data.rows().origin(),
        options=HelmetOptions.parse(options.args),
    )
