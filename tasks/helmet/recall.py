"""HELMET's synthetic recall task JSON KV (`helmet_json_kv`): find the value of one key in a JSON object of UUID
pairs, as HELMET's `load_json_kv` (princeton-nlp/HELMET @4526dfb, data.py; prompt from lost-in-the-middle).

Prompt: `{context}\\n\\nExtract the value ... below.\\n\\n{demos}Key: {question}` then `\\nCorresponding value:` (the
answer prefix), with the row's first two demo pairs (`Key: K\\nCorresponding value: V`); 100 new tokens, no stop
string; substring exact match (x 100), the better of the raw output and the output after "corresponding value:".
Rows: HELMET's 100 (`shuffle(seed=42)`, the first 100) of its largest file, `json_kv/test_k1800_dep6.jsonl`.

Length: HELMET ships one file per length (k50, k105, k220, k440, k900, k1800 pairs for 4k ... 128k, sized to
Llama-2's tokenizer). We take every length's rows from the largest file and keep as many key-value pairs as fit:
the gold pair always, at the position proportional to where it sits in the published object, the other pairs in
the published order, so prompt + 100 tokens fit the length for the evaluated model's tokenizer (any length, not
only the six). The object keeps the published layout (its separators; the text around it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Sample, sample_id
from harness.tasks.base import Counter, Metric, Task, prompt_budget
from harness.tasks.data import TaskOptions
from harness.tasks.helmet import fit
from harness.tasks.helmet.metrics import best_substring_match
from harness.tasks.helmet.source import HelmetOptions, RowFile, first_present, open_rows

FILES = tuple(f"json_kv/test_k{k}_dep6.jsonl" for k in (1800, 900, 440, 220, 105, 50))  # largest first
FIELDS = (("context", str), ("question", str), ("answer", (str, list)), ("demos", list))
MAX_NEW_TOKENS = 100
SHOTS = 2
SAMPLES = 100  # HELMET's max_test_samples
SEED = 42


def prompts() -> dict[str, Any]:
    return dict(toml_beside(__file__, "prompts.toml")["json_kv"])


@dataclass(frozen=True)
class KvObject:
    """A row's JSON object: the text around it, its records as published, the separators, the gold record."""

    prefix: str
    suffix: str
    records: tuple[str, ...]  # `"key": "value"` as written
    sep: str
    gold: int

    def render(self, keep: int) -> str:
        """The object with the gold record and the first `keep` other records, the gold where it sat, proportionally."""
        others = [r for i, r in enumerate(self.records) if i != self.gold][:keep]
        where = fit.relative(self.gold, len(self.records))
        items, _ = fit.place([(where, self.records[self.gold])], others)
        return self.prefix + "{" + self.sep.join(items) + "}" + self.suffix


def parse_object(context: str, question: str, where: str) -> KvObject:
    """The row's context as a `KvObject`; an error naming the row and field where it is not a flat JSON object of
    string values laid out one record per separator, or where the question's key is not among its keys."""
    start, end = context.find("{"), context.rfind("}")
    if start < 0 or end < start:
        raise HarnessError(f"{where}: field 'context' holds no JSON object")
    body = context[start:end + 1]
    try:
        pairs = json.loads(body, object_pairs_hook=list)
    except json.JSONDecodeError as error:
        raise HarnessError(f"{where}: field 'context' is not a JSON object ({error})") from None
    if not pairs or not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        raise HarnessError(f"{where}: field 'context': expected a non-empty JSON object of string values")
    key0 = json.dumps(pairs[0][0], ensure_ascii=False)
    colon = body[1 + len(key0):body.index(json.dumps(pairs[0][1], ensure_ascii=False), 1 + len(key0))]
    records = tuple(json.dumps(k, ensure_ascii=False) + colon + json.dumps(v, ensure_ascii=False) for k, v in pairs)
    sep = body[1 + len(records[0]):body.find(records[1], 1 + len(records[0]))] if len(records) > 1 else ", "
    if "{" + sep.join(records) + "}" != body:
        raise HarnessError(f"{where}: field 'context': the JSON object is not one record per separator "
                           f"({sep!r}), so it cannot be resized")
    wanted = {question.strip(), question.strip().strip('"')}
    gold = next((i for i, (k, _) in enumerate(pairs) if k in wanted), None)
    if gold is None:
        raise HarnessError(f"{where}: field 'question': key {question!r} is not among the context's {len(pairs)} keys")
    return KvObject(context[:start], context[end + 1:], records, sep, gold)


def demo_text(demos: list[Any], where: str) -> str:
    """The row's first two demo pairs, as HELMET writes them."""
    spec = prompts()
    shown = demos[:SHOTS]
    if not all(isinstance(d, list) and len(d) == 2 and all(isinstance(x, str) for x in d) for d in shown):
        raise HarnessError(f"{where}: field 'demos': expected [key, value] string pairs")
    return "\n\n".join(spec["demo"].format(key=k, value=" " + v) for k, v in shown) + ("\n\n" if shown else "")


def targets_of(answer: Any, where: str) -> tuple[str, ...]:
    """The row's answer(s) (a string, a list, or a list of lists, as HELMET's metric flattens them)."""
    flat = [answer] if isinstance(answer, str) else [a for item in answer for a in (item if isinstance(item, list) else [item])]
    if not flat or not all(isinstance(a, str) for a in flat):
        raise HarnessError(f"{where}: field 'answer': expected a string or a list of strings")
    return tuple(flat)


class JsonKv:
    """The task's rows (read when first needed) and its sample factory."""

    def __init__(self, options: TaskOptions) -> None:
        self.options = options

    def rows(self) -> RowFile:
        return open_rows(self.options, first_present(self.options, FILES), FIELDS)

    @cached_property
    def order(self) -> list[int]:
        """Rows in HELMET's order: `shuffle(seed=42)`, whose first 100 are its test rows."""
        return fit.shuffled_subset(len(self.rows()), len(self.rows()), SEED)

    def size(self) -> int:
        return len(self.rows())

    def make_sample(self, counter: Counter, length: int, index: int, seed: int) -> Sample:
        table = self.rows()
        if index >= len(table):
            raise HarnessError(f"HELMET json_kv: {table.path} has {len(table)} rows, asked for #{index}")
        number = self.order[index]
        row, where = table.row(number), f"{table.path}:{table.lines[number]}"
        kv = parse_object(row["context"], row["question"], where)
        demos = demo_text(row["demos"], where)
        spec = prompts()
        answer_prefix = "\n" + spec["answer"]

        def prompt_for(keep: int) -> str:
            return str(spec["user"].format(context=kv.render(keep), demos=demos, question=row["question"]))

        sizes = [len(r) + len(kv.sep) for i, r in enumerate(kv.records) if i != kv.gold]
        fitted, skipped = fit.fit_units(counter, prompt_for, answer_prefix, sizes, prompt_budget(MAX_NEW_TOKENS, length),
                               f"HELMET json_kv at {length}")
        pairs = fitted.units + 1
        gold_at = fit.place([(fit.relative(kv.gold, len(kv.records)), 0)], [1] * fitted.units)[1][0]
        return Sample(
            id=sample_id("helmet_json_kv", length, index, seed), task="helmet_json_kv", length=length, index=index,
            prompt=fitted.value, targets=targets_of(row["answer"], where), answer_prefix=answer_prefix,
            prompt_tokens=fitted.tokens, skipped=skipped,
            meta={"row": number, "pairs": pairs, "published_pairs": len(kv.records), "gold_at": gold_at,
                  "published_gold_at": kv.gold},
        )


def score(sample: Sample, output: str) -> float:
    return 100.0 * best_substring_match(output, sample.targets, str(prompts()["parse_prefix"]))


def recall_task(dataset: str, options: TaskOptions) -> Task:
    """`helmet_json_kv` (data read on first use); HELMET's other Recall datasets are RULER's (tasks.ruler)."""
    if dataset != "json_kv":
        raise HarnessError(f"HELMET Recall: unknown dataset {dataset!r} (expected json_kv)")
    data = JsonKv(options)
    return Task(
        name="helmet_json_kv",
        make_sample=data.make_sample,
        metric=Metric("substring_exact_match", lambda output, targets: 100.0 * best_substring_match(
            output, targets, str(prompts()["parse_prefix"]))),
        max_new_tokens=MAX_NEW_TOKENS,
        postprocess=lambda text: text,
        chat=False,
        num_samples=SAMPLES,
        params={"benchmark": "helmet", "category": "recall", "dataset": "json_kv", "shots": SHOTS, "seed": SEED},
        score_sample=score,
        size=data.size,
        data_digest=lambda: data.rows().digest,
        data_source=lambda: data.rows().origin(),
        options=HelmetOptions.parse(options.args),
    )

