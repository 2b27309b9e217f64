"""LongBench v2 (THUDM/LongBench @2e00731, `pred.py`, `result.py`, `prompts/`): 503 multiple-choice
questions over long real documents, in the reference's four settings (`--task-args longbench_v2.mode=`):

- `direct` (`0shot.txt`, 128 new tokens), the default;
- `cot` (`0shot_cot.txt`, 1024 new tokens for the chain of thought, then `0shot_cot_ans.txt` with the
  stripped thought in place of `$COT$`, 128 new tokens: the second output is scored, the first kept);
- `no_context` (`0shot_no_context.txt`, 128): the question and choices only, the memorisation control;
- `rag` (`0shot_rag.txt`, 128): the row's retrieved chunks instead of the document, the first `rag_top`
  of them (all when 0; `pred.py --rag N`) in `c_idx` order, each as "Retrieved chunk i: ...".

The prompt is the template filled as `pred.py` does (a chain of `str.replace`: `$DOC$` with the stripped
context, then `$Q$` and `$C_A$`..`$C_D$` with the stripped fields), one user turn of the chat template.
The output is read by `pred.py`'s `extract_answer` and scores 100 when the letter is the row's answer.

Budgets at length L: the document is cut in the middle (`truncate=middle`, or `left`, or `skip`) so that
the prompt fits L minus the generation budget (128; for `cot` 1024, at most L/2). `pred.py` cuts the
whole prompt's tokens in the middle to the model's 120k; we cut only the document, so the template and
the question survive. For `cot` both calls fit L: the first is the document prompt plus the thought's
budget; the second (`0shot_cot_ans.txt`) holds no document ("The text is too long and omitted here."),
only the question, the choices and the thought, so its fixed part A (template, question, choices, chat
template) is counted when the sample is made and the thought's budget is capped at L - T - 128 - A - 8
(T a run's thinking budget, 0 by default; 8 tokens of slack for re-tokenizing the thought at its seam), so
A + thought + 128 <= L as well; a question whose answer prompt leaves no room for a thought is skipped.
The runner checks the follow-up's count again and fails the sample (never overruns L) if it is over.

Deviations: greedy decoding (the reference samples at temperature 0.1); an empty output is scored 0 (the
reference drops it from the results file and counts it nowhere).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Prompt, Sample
from harness.tasks.base import Counter, Metric, Task, generation_budget, prompt_budget
from harness.tasks.data import TaskOptions, file_digest
from harness.tasks.docsource import Rows
from harness.tasks.longbench_v2 import scoring
from harness.tasks.longbench_v2.source import HUB_ID, REVISION, load, retrieved
from harness.tasks.options import Options, one_of
from harness.tasks.realdoc import DocFlow, Rendered
from harness.tasks.truncation import check_mode

MODES = ("direct", "cot", "no_context", "rag")
MAX_NEW_TOKENS = {"direct": 128, "cot": 1024, "no_context": 128, "rag": 128}
ANSWER_TOKENS = 128  # the cot answer call's budget (`pred.py`)
THOUGHT_SLACK = 8  # tokens the thought may gain when re-tokenized inside the answer prompt
ALL = 10**9


def prompts() -> dict[str, Any]:
    """The five templates (`prompts.toml`, verbatim from the reference's `prompts/`)."""
    return toml_beside(__file__, "prompts.toml")


@dataclass(frozen=True)
class LongBenchV2Options(Options):
    """LongBench v2's `--task-args`: the setting (`mode`), how a long document is cut (`truncate`), for `rag`
    how many retrieved chunks (`rag_top`, 0: all) and where they are (`retrieval`, else the rows), and
    the data (`longbench_v2`: data.json or its folder, else `<data dir>/longbench_v2/`, else the hub)."""

    shared: ClassVar[frozenset[str]] = frozenset({"truncate"})

    mode: str = "direct"
    truncate: str = "middle"
    rag_top: int = 0
    retrieval: str | None = None
    longbench_v2: str | None = None

    def check(self) -> None:
        one_of("mode", self.mode, MODES)
        check_mode(self.truncate)
        if self.rag_top < 0:
            raise HarnessError(f"bad --task-args rag_top={self.rag_top}: expected 0 (all chunks) or more")
        if self.retrieval is not None and self.mode != "rag":
            raise HarnessError(f"--task-args retrieval={self.retrieval} is read by mode=rag only (mode is {self.mode})")


def fill(template: str, row: dict[str, Any], document: str) -> str:
    """`pred.py`'s prompt: the template's placeholders replaced in its order (`$DOC$` first, so a
    placeholder inside the document is replaced too, as there)."""
    text = template.replace("$DOC$", document).replace("$Q$", row["question"].strip())
    for letter in "ABCD":
        text = text.replace(f"$C_{letter}$", row[f"choice_{letter}"].strip())
    return text


def rag_context(chunks: list[dict[str, Any]], top: int) -> str:
    """`pred.py`'s retrieved context: the first `top` chunks (all when 0), in document order, numbered."""
    kept = sorted(chunks[:top] if top else chunks, key=lambda chunk: chunk["c_idx"])
    return "\n\n".join(f"Retrieved chunk {i + 1}: {chunk['content']}" for i, chunk in enumerate(kept))


def document(options: LongBenchV2Options, row: dict[str, Any], index: int, source: str) -> str:
    """What `$DOC$` holds in this mode (stripped, as `pred.py`), the text truncation may cut."""
    if options.mode == "no_context":
        return ""
    if options.mode == "rag":
        return rag_context(retrieved(row, index, source, options.retrieval), options.rag_top).strip()
    context: str = row["context"]
    return context.strip()


def render(options: LongBenchV2Options, source: str, row: dict[str, Any], index: int, counter: Counter) -> Rendered:
    """One question: its document (cut to fit), the filled template around it, the answer letter, its labels."""
    meta: dict[str, Any] = {"example_id": row["_id"], "domain": row["domain"], "sub_domain": row["sub_domain"],
                            "difficulty": row["difficulty"], "length_bucket": row["length"]}
    if options.mode == "cot":
        meta["cot_answer_template"] = fill(prompts()["cot_answer"]["template"], row, "")
    template = prompts()[options.mode]["template"]
    return Rendered(document(options, row, index, source), (row["answer"],), meta,
                    lambda text: fill(template, row, text))


def answer_prompt(sample: Sample, thought: str) -> str:
    """The cot answer call's prompt: `0shot_cot_ans.txt` (question and choices filled) with the stripped thought."""
    template: str = sample.meta["cot_answer_template"]
    return template.replace("$COT$", thought.strip())


def follow_up(sample: Sample, first_output: str) -> tuple[Prompt, int] | None:
    """For `cot`: the answer call after the chain of thought (its prompt and 128 new tokens)."""
    if "cot_answer_template" not in sample.meta:
        return None
    return answer_prompt(sample, first_output), ANSWER_TOKENS


@dataclass(frozen=True)
class Questions:
    """The task's questions and how one becomes a sample at a length."""

    options: TaskOptions
    typed: LongBenchV2Options

    def rows(self) -> Rows:
        return load(self.options)

    def digest(self) -> str:
        """The data's digest (with the retrieval file's, when `rag` reads one)."""
        digest = self.rows().digest
        if self.typed.mode == "rag" and self.typed.retrieval is not None:
            digest += "+" + file_digest([Path(self.typed.retrieval).expanduser()])
        return digest

    def make_sample(self, counter: Counter, length: int, index: int, seed: int) -> Sample:
        """The `index`-th question at `length`; for `cot`, the thought's budget capped so that the answer call fits too."""
        mode = self.typed.mode
        source = self.rows().source
        flow = DocFlow("longbench_v2", f"LongBench v2 ({mode})", self.rows, partial(render, self.typed, source),
                       MAX_NEW_TOKENS[mode], self.typed.truncate)
        sample = flow.make_sample(counter, length, index, seed)
        if mode != "cot" or sample.skipped:
            return sample
        thought = generation_budget(MAX_NEW_TOKENS[mode], length, halved=True)
        think = length - thought - prompt_budget(MAX_NEW_TOKENS[mode], length, halved=True)  # a run's thinking budget
        fixed = counter.count(answer_prompt(sample, ""))
        room = length - think - ANSWER_TOKENS - fixed - THOUGHT_SLACK
        if room <= 0:
            return replace(sample, skipped=f"the cot answer prompt without its thought has {fixed} tokens; with "
                                           f"{ANSWER_TOKENS} new tokens it leaves no room for a thought at length {length}")
        return replace(sample, max_new_tokens=room) if room < thought else sample


def score_sample(sample: Sample, output: str) -> float:
    return scoring.score(sample.targets[0], output)


def longbench_v2_task(options: TaskOptions) -> Task:
    """LongBench v2 in one of its four settings; the data is read on first use."""
    typed = LongBenchV2Options.parse(options.args)
    questions = Questions(options, typed)
    return Task(
        name="longbench_v2",
        make_sample=questions.make_sample,
        metric=Metric("accuracy", lambda output, targets: scoring.score(targets[0], output)),
        max_new_tokens=MAX_NEW_TOKENS[typed.mode],
        chat=True,
        num_samples=ALL,  # every question (`size`), unless --limit
        params={"benchmark": "longbench_v2", "mode": typed.mode, "hub": f"{HUB_ID}@{REVISION}",
                "truncate": typed.truncate, "rag_top": typed.rag_top},
        score_sample=score_sample,
        size=lambda: len(questions.rows().rows),
        data_digest=questions.digest,
        data_source=lambda: questions.rows().origin,
        report=scoring.report,
        options=typed,
        halve_generation=True,
        follow_up=follow_up if typed.mode == "cot" else None,
    )


