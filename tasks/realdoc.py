"""One flow for every real-document benchmark (LongBench, InfiniteBench, LongBench-Chat, and the
families to come): rows -> render -> truncate -> sample.

A benchmark supplies where its rows come from (`Rows`, usually a `DocSource` with a pinned hub
revision) and how one row renders: the document-bearing text to cut, how the cut text becomes the
prompt (a chat wrapper, or the text itself), the targets and the row's own metadata. The flow
picks the `index`-th row, reserves the generation budget, fits the prompt with `truncation.fit`
and builds the `Sample` with the typed fields every such task sets (`truncated_from`, and
`skipped` / `max_new_tokens` where they apply).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from harness.core.errors import HarnessError
from harness.core.types import Prompt, Sample, sample_id
from harness.tasks.base import Counter, generation_budget, prompt_budget
from harness.tasks.docsource import Rows
from harness.tasks.truncation import fit


def as_is(text: str) -> Prompt:
    """The prompt is the cut text itself (a completion prompt, or one chat turn the runner wraps)."""
    return text


@dataclass(frozen=True)
class Rendered:
    """One row rendered: `text` (what truncation may cut), `build` (the prompt around a cut text),
    the targets and the row's metadata (recorded before the truncation's keys)."""

    text: str
    targets: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    build: Callable[[str], Prompt] = as_is


@dataclass(frozen=True)
class DocFlow:
    """A real-document task's sample factory. `label` names the task in errors ("LongBench
    hotpotqa"); `max_prompt`, when set, caps the prompt's tokens below the length's budget."""

    task: str
    label: str
    load: Callable[[], Rows]
    render: Callable[[dict[str, Any], int, Counter], Rendered]  # (row, its index, the counter)
    max_new_tokens: int
    truncate: str = "middle"
    max_prompt: int | None = None

    def row(self, index: int) -> dict[str, Any]:
        """The `index`-th row (a clear error past the end)."""
        data = self.load()
        if index >= len(data.rows):
            raise HarnessError(f"{self.label}: {data.source} has {len(data.rows)} examples, asked for #{index}")
        return data.rows[index]

    def make_sample(self, counter: Counter, length: int, index: int, seed: int) -> Sample:
        """The `index`-th row's sample at `length`: prompt plus generation fit in `length` tokens."""
        rendered = self.render(self.row(index), index, counter)
        new_tokens = generation_budget(self.max_new_tokens, length, halved=True)
        budget = prompt_budget(self.max_new_tokens, length, halved=True)  # the rule `Task.prompt_budget` uses
        if self.max_prompt is not None:
            budget = min(budget, self.max_prompt)
        fitted = fit(counter, rendered.text, rendered.build, budget, self.truncate)
        return Sample(
            id=sample_id(self.task, length, index, seed),
            task=self.task,
            length=length,
            index=index,
            prompt=rendered.build(fitted.text),
            targets=rendered.targets,
            meta=dict(rendered.meta),
            skipped=fitted.skipped,
            truncated_from=fitted.tokens_before,  # 0: the prompt fit untouched
            max_new_tokens=new_tokens if new_tokens < self.max_new_tokens else None,
        )
