"""RULER's QA tasks (qa_1: SQuAD, qa_2: HotpotQA): gold paragraphs among distractors.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/qa.py: sample i asks question i; its gold
documents, then same-article documents, then random others fill the budget; the documents are
shuffled and numbered `Document {i}:`. Whole documents leave up to one document of slack, so we
add at most a few more distractors chosen best-fit into what is left (RULER leaves the gap).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from harness.prompt import TokenCosts
from harness.types import Sample
from tasks.base import Counter
from tasks.budget import Fitted
from tasks.data import TaskOptions
from tasks.ruler.common import sample_rng, templates
from tasks.ruler.qa_data import QAData, load_qa
from tasks.sizing import Layout, costs_of, count_layout, fit_layout, to_sample

SEP = "\n\n"
FILL_ROUNDS = 6


@dataclass(frozen=True)
class QAConfig:
    dataset: str = "squad"


def make_qa_sample(config: QAConfig, options: TaskOptions, task: str, counter: Counter, length: int, index: int,
                   seed: int) -> Sample:
    """One qa sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["qa"]
    costs = costs_of(counter)
    data = load_qa(config.dataset, options)
    item = data.items[index % len(data.items)]
    rng = sample_rng(task, length, index, seed)
    gold, more = list(item.context), list(item.more_context)
    taken = set(gold) | set(more)
    others = [i for i in range(len(data.docs)) if i not in taken]
    rng.shuffle(others)  # a fixed order: the first k are "k random others", so cost grows with k
    order = gold + more + others
    shuffle_seed = rng.getrandbits(64)
    glue = _glue_costs(costs, data)

    def layout(doc_ids: list[int]) -> Layout:
        ids = list(doc_ids)
        random.Random(shuffle_seed).shuffle(ids)
        first = spec["document"].format(i=1, document=data.docs[ids[0]])
        docs_text = lambda: SEP.join(  # noqa: E731
            spec["document"].format(i=i + 1, document=data.docs[d]) for i, d in enumerate(ids)
        )
        if len(ids) == 1:
            return Layout(first, None, 0, docs_text, {"documents": 1})
        last = spec["document"].format(i=len(ids), document=data.docs[ids[-1]])
        # Everything between the first and last document, cut where tokens cannot merge:
        # " {k}:" labels, and each document with the separator and next "Document" word after it.
        middle = sum(costs.of([f" {k}:" for k in range(2, len(ids))])) + int(glue[ids[1:-1]].sum())
        return Layout(first, last, middle, docs_text, {"documents": len(ids)})

    def build(k: int) -> Layout:
        return layout(_take(order, k))

    def render(context: str) -> str:
        return spec["template"].format(context=context, query=item.query)

    budget = length - int(spec["tokens_to_generate"])
    fitted = fit_layout(counter, render, spec["answer_prefix"], build, SEP, budget, min_units=len(gold),
                        first_guess=max(len(gold), budget // 200), what=f"{task} at length {length}", check_key=task)
    fitted = _best_fit(counter, render, spec["answer_prefix"], layout, order, fitted, glue, budget)
    sample = to_sample(task, length, index, seed, render, spec["answer_prefix"], fitted, item.outputs,
                       {"dataset": config.dataset, "data": data.digest, "question_index": index % len(data.items)})
    return replace(sample, meta={**sample.meta, "units": fitted.value.meta["documents"]})


def _take(order: list[int], k: int) -> list[int]:
    """The first k documents of `order`, cycling when k exceeds the corpus (as RULER repeats DOCS)."""
    rounds, rest = divmod(k, len(order))
    return order * rounds + order[:rest]


def _glue_costs(costs: TokenCosts, data: QAData) -> np.ndarray:
    """count("\n" + doc + "\n\nDocument") per document: a document with what follows it up to the
    next label's number. Cut there, trailing whitespace (common in HotpotQA) cannot merge across."""
    key = ("qa_glue", data.digest)
    if key not in costs.memo:
        costs.memo[key] = np.array(costs.of(["\n" + d + SEP + "Document" for d in data.docs]), dtype=np.int64)
    return costs.memo[key]


def _best_fit(counter: Counter, render, prefix: str, layout, order: list[int], fitted: Fitted[Layout],  # type: ignore[no-untyped-def]
              doc_costs: np.ndarray, budget: int) -> Fitted[Layout]:
    """Add the largest distractors that still fit the remaining slack (a few rounds)."""
    costs = costs_of(counter)
    chosen = _take(order, fitted.units)
    tokens = fitted.tokens
    used = set(chosen)
    # Unused distractors first; once the corpus has been cycled (as RULER repeats it), any document.
    pool = [d for d in order if d not in used] or list(dict.fromkeys(order))
    for _ in range(FILL_ROUNDS):
        # one more document adds its text and the label of the next number (the exact count decides)
        slack = budget - tokens - costs.of([f" {len(chosen) + 1}:"])[0]
        fits = [d for d in pool if doc_costs[d] <= slack]
        if not fits:
            break
        best = max(fits, key=lambda d: (int(doc_costs[d]), -d))
        pool.remove(best)
        candidate = layout(chosen + [best])
        count = count_layout(counter, render, prefix, candidate, SEP)
        if count > budget:
            continue
        chosen.append(best)
        tokens = count
        fitted = Fitted(value=candidate, units=len(chosen), tokens=count)
    return fitted
