"""After a batch's generations: the answers that are scored, and the tasks' second generations (`Task.follow_up`).

A reasoning model's think block is stripped from each output (`harness.core.thinking`); the raw output stays what
the sample log records and the answer is what the task (or the judge) scores, kept in `meta["answer"]`. Each
generated sample records `hit_limit` when its generation stopped at its token limit (with a thinking budget:
always, with `think_truncated`).

A task with a `follow_up` turns the first answer (postprocessed) into a second prompt; the second prompts of a
batch go to the backend together, the second output is the one scored and the first stays in
`meta["first_output"]`. A sample's record is written only once both are done, so a rerun computes nothing
finished. The second prompt plus its generation must fit the sample's length like the first: a follow-up that
does not fit makes its sample failed, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.core.backends.base import Backend, Generation, GenerationRequest
from harness.core.backends.failures import RequestFailure, settle
from harness.core.errors import HarnessError
from harness.core.thinking import Thinking

if TYPE_CHECKING:
    from harness.runner.plan import WorkItem

MAX_FIRST_OUTPUT_CHARS = 100_000  # the first output of a follow-up, as stored


@dataclass
class BatchOutput:
    """What the backend made of one batch, item by item: raw output text, output tokens, extra meta, and the
    failure reason (None: answered); `answers` are the texts scored (`finish`: the outputs without their thinking);
    `abort` is the backend's reason to stop the run after this batch."""

    texts: list[str]
    tokens: list[int]
    extra: list[dict[str, object]]
    errors: list[str | None]
    abort: str | None = None
    answers: list[str] = field(default_factory=list)


def limit_meta(generation: Generation) -> dict[str, object]:
    """What a sample records of how its generation ended (`run_batch` puts it in the item's extra meta)."""
    return {"hit_limit": generation.hit_limit}


def finish(backend: Backend, batch: list[WorkItem], out: BatchOutput, thinking: Thinking) -> BatchOutput:
    """Strip thinking from the generated outputs, then run the follow-ups; `out.answers` are what is scored."""
    out.answers = list(out.texts)
    generated = [i for i, item in enumerate(batch) if not item.sample.choices and out.errors[i] is None]
    for i in generated:
        _read(out, i, thinking)
    asks: list[tuple[int, GenerationRequest, int]] = []
    for i in generated:
        item = batch[i]
        if item.task.follow_up is None:
            continue
        step = item.task.follow_up(item.sample, item.task.postprocess(out.answers[i]))
        if step is None:
            continue
        prompt, max_new = step
        if max_new < 1:
            raise HarnessError(f"task {item.task.name}: follow_up asked for {max_new} new tokens (at least 1)")
        tokens = item.prompt_format.count(prompt)
        limit = thinking.tokens + max_new
        if item.sample.length and tokens + limit > item.sample.length:
            out.errors[i] = (f"follow-up prompt of {tokens} tokens + {limit} new tokens is over the length "
                             f"{item.sample.length}")
            continue
        asks.append((i, item.prompt_format.request(prompt, "", limit, item.task.stop), tokens))
    if asks:
        seconds, abort = settle(backend.generate, [request for _, request, _ in asks])
        out.abort = out.abort or abort
        for (i, _, prompt_tokens), second in zip(asks, seconds):
            _second(out, i, second, prompt_tokens, thinking)
    return out


def _read(out: BatchOutput, i: int, thinking: Thinking) -> None:
    """Item i's answer from its raw output, and its meta: `hit_limit` only when true unless thinking is on."""
    answer, open_block = thinking.answer(out.texts[i])
    out.answers[i] = answer
    if thinking.on:
        out.extra[i].update(answer=answer, think_truncated=open_block)
        out.extra[i]["hit_limit"] = bool(out.extra[i].get("hit_limit"))
    elif not out.extra[i].get("hit_limit"):
        out.extra[i].pop("hit_limit", None)


def _second(out: BatchOutput, i: int, second: Generation | RequestFailure, prompt_tokens: int, thinking: Thinking) -> None:
    """Item i's second generation replaces its first (kept in meta, `first_` flags only when true), or fails it."""
    if isinstance(second, RequestFailure):
        out.errors[i] = f"follow-up: {second.reason}"
        return
    first = {"first_output": out.texts[i][:MAX_FIRST_OUTPUT_CHARS], "follow_up_prompt_tokens": prompt_tokens}
    first.update({f"first_{key}": True for key in ("hit_limit", "think_truncated") if out.extra[i].get(key)})
    if thinking.on:
        first["first_answer"] = out.answers[i][:MAX_FIRST_OUTPUT_CHARS]
    for key in ("answer", "hit_limit", "think_truncated"):
        out.extra[i].pop(key, None)
    out.extra[i].update(first, **limit_meta(second))
    text = second.text if isinstance(second.text, str) else ""
    out.texts[i] = text.encode("utf-8", "replace").decode("utf-8")
    out.tokens[i] += second.output_tokens
    _read(out, i, thinking)
