"""RULER's QA tasks (qa_1: SQuAD, qa_2: HotpotQA): gold paragraphs among distractors.

Follows NVIDIA/RULER @c3f5e3b scripts/data/synthetic/qa.py: sample i asks question i; its gold
documents, then a random sample of its same-article documents (all of them and random others
when they do not suffice) fill the budget; the documents are shuffled and numbered `Document {i}:`.

By default (`placement=ruler`) the count and the order are RULER's: the document count of a length
is the most its first sample fits, and a sample too long for it drops 10 documents at a time; the
shuffle is `random.Random(random_seed).shuffle`, a fresh generator each time, so n documents always
land in the same slots (we seed it with the eval's seed: 42, RULER's default, unless --seed).
`--task-args placement=per_sample` instead fits each sample's own count exactly, draws its own
permutation, and adds a few more distractors chosen best-fit into the slack (RULER leaves it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable, Sequence

import numpy as np

from harness.core.prompt import TokenCosts
from harness.core.types import Sample
from harness.tasks.base import Counter, prompt_budget
from harness.tasks.budget import Fitted
from harness.tasks.data import TaskOptions
from harness.tasks.ruler.common import fixed_shuffle, placement, ruler_memo, sample_rng, step_down_fit, templates
from harness.tasks.ruler.lazy_order import LazyOrder
from harness.tasks.ruler.qa_data import QAData, QAItem, load_qa
from harness.tasks.sizing import Layout, costs_of, count_layout, fit_layout, to_sample

SEP = "\n\n"
FILL_ROUNDS = 6
RULER_STEP = 10  # RULER's `incremental`: documents dropped per retry when a sample is too long


@dataclass(frozen=True)
class QAConfig:
    dataset: str = "squad"


@dataclass(frozen=True)
class _Draw:
    """One sample's question and documents: `build(k)` lays out its first k documents."""

    item: QAItem
    gold: list[int]
    # per_sample placement: every document (gold, same-article, the others in random order), which its best fit
    # searches; empty under ruler placement, which draws only the others it uses
    order: list[int]
    pick: Callable[[int], list[int]]
    layout: Callable[[list[int]], Layout]
    render: Callable[[str], str]

    def build(self, k: int) -> Layout:
        return self.layout(self.pick(k))


def make_qa_sample(config: QAConfig, options: TaskOptions, task: str, counter: Counter, length: int, index: int,
                   seed: int) -> Sample:
    """One qa sample of at most `length` tokens including RULER's tokens_to_generate."""
    spec = templates()["qa"]
    data = load_qa(config.dataset, options)
    budget = prompt_budget(int(spec["tokens_to_generate"]), length)
    draw = _draw(config, options, task, counter, length, index, seed)
    prefix, what = spec["answer_prefix"], f"{task} at length {length}"
    if placement(options) == "per_sample":
        fitted = _fit(counter, draw, budget, what, task)
        glue = _glue_costs(costs_of(counter), data)
        fitted = _best_fit(counter, draw.render, prefix, draw.layout, draw.pick(fitted.units), draw.order, fitted,
                           glue, budget)
    else:
        # RULER's count: the most documents its first sample fits, less RULER_STEP while too long
        start = ruler_memo(counter, (task, data.digest, length, seed), lambda: _fit(
            counter, _draw(config, options, task, counter, length, 0, seed), budget, what, task).units)
        fitted = step_down_fit(counter, draw.render, prefix, draw.build, SEP, budget, start, RULER_STEP,
                               len(draw.gold), what, task)
    sample = to_sample(task, length, index, seed, draw.render, prefix, fitted, draw.item.outputs,
                       {"dataset": config.dataset, "data": data.digest, "question_index": index % len(data.items)})
    return replace(sample, meta={**sample.meta, "units": fitted.value.meta["documents"]})


def _fit(counter: Counter, draw: _Draw, budget: int, what: str, task: str) -> Fitted[Layout]:
    """The most documents of `draw` that fit the budget."""
    return fit_layout(counter, draw.render, templates()["qa"]["answer_prefix"], draw.build, SEP, budget,
                      min_units=len(draw.gold), first_guess=max(len(draw.gold), budget // 200), what=what,
                      check_key=task)


def _draw(config: QAConfig, options: TaskOptions, task: str, counter: Counter, length: int, index: int,
          seed: int) -> _Draw:
    """Sample `index`'s question, its documents in RULER's order and their layout."""
    spec = templates()["qa"]
    costs = costs_of(counter)
    data = load_qa(config.dataset, options)
    item = data.items[index % len(data.items)]
    rng = sample_rng(task, length, index, seed)
    gold, more = list(item.context), list(item.more_context)
    taken = set(gold) | set(more)
    pick: Callable[[int], list[int]]
    if placement(options) == "per_sample":
        others = [i for i in range(len(data.docs)) if i not in taken]
        rng.shuffle(others)  # a fixed order: the first k are "k random others", so cost grows with k
        order = gold + more + others
        shuffle_seed = rng.getrandbits(64)
        pick = partial(_take, order)
    else:
        order, shuffle_seed = [], seed
        sampled_more = rng.sample(more, len(more))
        # the others in a random order drawn from the front (it alone draws from `rng` from here on): a sample
        # pays for the documents it uses, not for shuffling the corpus
        lazy_others = LazyOrder(len(data.docs), taken, rng)
        pick = partial(_ruler_docs, gold, more, sampled_more, lazy_others.first, len(data.docs))

    def layout(doc_ids: list[int]) -> Layout:
        ids = fixed_shuffle(doc_ids, shuffle_seed)
        first = spec["document"].format(i=1, document=data.docs[ids[0]])
        docs_text = lambda: SEP.join(  # noqa: E731
            spec["document"].format(i=i + 1, document=data.docs[d]) for i, d in enumerate(ids)
        )
        if len(ids) == 1:
            return Layout(first, None, 0, docs_text, {"documents": 1})
        last = spec["document"].format(i=len(ids), document=data.docs[ids[-1]])
        # Everything between the first and last document, cut where tokens cannot merge:
        # " {k}:" labels, and each document with the separator and next "Document" word after it.
        middle = sum(costs.of([f" {k}:" for k in range(2, len(ids))])) + int(_glue_of(costs, data, ids[1:-1]).sum())
        return Layout(first, last, middle, docs_text, {"documents": len(ids)})

    def render(context: str) -> str:
        return str(spec["template"].format(context=context, query=item.query))

    return _Draw(item, gold, order, pick, layout, render)


def _take(order: list[int], k: int) -> list[int]:
    """The first k documents of `order`, cycling when k exceeds the corpus (as RULER repeats DOCS)."""
    rounds, rest = divmod(k, len(order))
    return order * rounds + order[:rest]


def _ruler_docs(gold: list[int], more: list[int], sampled_more: list[int], others: Callable[[int], list[int]],
                corpus: int, k: int) -> list[int]:
    """RULER's `all_docs` for k documents, before its shuffle: the gold documents, then a random
    sample of the same-article ones when they suffice, else all of them (in order) and random
    others (`others(m)`: the first m in the sample's random order); from k = corpus size on, the
    whole corpus in id order, repeated."""
    if k >= corpus:
        return _take(list(range(corpus)), k)
    extra = k - len(gold)
    if extra <= len(more):
        return gold + sampled_more[:extra]
    return gold + more + others(extra - len(more))


def _glue_costs(costs: TokenCosts, data: QAData) -> np.ndarray:
    """count("\n" + doc + "\n\nDocument") per document: a document with what follows it up to the
    next label's number. Cut there, trailing whitespace (common in HotpotQA) cannot merge across."""
    return _glue_of(costs, data, range(len(data.docs)))


def _glue_of(costs: TokenCosts, data: QAData, ids: Sequence[int]) -> np.ndarray:
    """`_glue_costs` of the documents `ids`, each tokenised the first time it is asked for (a short
    length reaches a few documents of the corpus); kept per tokenizer."""
    key = ("qa_glue", data.digest)
    if key not in costs.memo:
        costs.memo[key] = np.full(len(data.docs), -1, dtype=np.int64)
    glue: np.ndarray = costs.memo[key]
    wanted = np.asarray(ids, dtype=np.int64)
    # sorted() of a set, not np.unique: that imports numpy.ma (~7 ms of a short run's start)
    missing = sorted(set(wanted[glue[wanted] < 0].tolist()))
    if missing:
        glue[missing] = costs.of(["\n" + data.docs[d] + SEP + "Document" for d in missing])
    return glue[wanted]


def _best_fit(counter: Counter, render: Callable[[str], str], prefix: str, layout: Callable[[list[int]], Layout],
              chosen: list[int], order: list[int], fitted: Fitted[Layout], doc_costs: np.ndarray, budget: int) -> Fitted[Layout]:
    """Add the largest distractors that still fit the remaining slack (a few rounds) after the
    `chosen` documents of the fit; `order` is every document."""
    costs = costs_of(counter)
    chosen = list(chosen)
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
