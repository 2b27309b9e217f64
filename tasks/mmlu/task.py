"""MMLU as lm-evaluation-harness runs it (`mmlu/default`): per subject, the description line, k
examples from the few-shot pool (first k, `question\\nA. ..\\nB. ..\\nC. ..\\nD. ..\\nAnswer: X`, joined
by blank lines), then the question ending in `Answer:`; the choices ` A`..` D` scored by
loglikelihood, accuracy. The `mmlu` group is size-weighted (micro over all questions, lm-eval's
group score); the macro mean over subjects is beside it. No chat template (lm-eval's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Sequence

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Sample, sample_id
from harness.tasks.base import Counter, Metric, Task
from harness.tasks.data import TaskOptions
from harness.tasks.mmlu.data import HELD_OUT, LETTERS, Question, load_subject
from harness.tasks.options import Options

DEFAULT_SHOTS = 5


def subjects() -> dict[str, str]:
    """Subject -> lm-eval category (stem, humanities, social_sciences, other)."""
    return {k: str(v) for k, v in toml_beside(__file__, "subjects.toml").items()}


def question_text(q: Question) -> str:
    """lm-eval's `doc_to_text`."""
    lines = [q.question.strip(), *(f"{letter}. {choice}" for letter, choice in zip(LETTERS, q.choices)), "Answer:"]
    return "\n".join(lines)


def prompt_for(subject: str, shots: tuple[Question, ...], q: Question) -> str:
    """Description, few-shot examples with their answers, then the question."""
    description = f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.\n\n"
    examples = [f"{question_text(s)} {LETTERS[s.answer]}" for s in shots]
    return description + "\n\n".join([*examples, question_text(q)])


@dataclass(frozen=True)
class MmluOptions(Options):
    """MMLU's `--task-args`: the shot count (`num_fewshot`, 0-5) and the data (`mmlu`: a jsonl file or a
    folder in the original CSV layout; else `<data dir>/mmlu`, the packaged copy, the hub)."""

    num_fewshot: int = DEFAULT_SHOTS
    mmlu: str | None = None

    def check(self) -> None:
        if not 0 <= self.num_fewshot <= 5:
            raise HarnessError(f"bad --task-args num_fewshot={self.num_fewshot}: MMLU's dev split has 5 examples per subject")


def shots_of(options: TaskOptions) -> int:
    """The shot count the task args ask for (checked)."""
    return MmluOptions.parse(options.args).num_fewshot


def make_sample(subject: str, options: TaskOptions, counter: Counter, length: int, index: int, seed: int) -> Sample:
    shots = shots_of(options)
    data = load_subject(options, subject)
    if index >= len(data.test):
        raise HarnessError(f"MMLU {subject}: {data.source} has {len(data.test)} test questions, asked for #{index}")
    q = data.test[index]
    return Sample(
        id=sample_id(f"mmlu_{subject}", length, index, seed),
        task=f"mmlu_{subject}",
        length=length,
        index=index,
        prompt=prompt_for(subject, data.fewshot[:shots], q),
        targets=(LETTERS[q.answer],),
        choices=LETTERS,
        meta={"subject": subject, "category": subjects()[subject], "fewshot_source": data.fewshot_source},
    )


def accuracy(output: str, targets: Sequence[str]) -> float:
    """100 when the most likely choice is the answer."""
    return 100.0 * (output == targets[0])


def mmlu_task(subject: str, options: TaskOptions) -> Task:
    """One MMLU subject (lm-eval's `mmlu_<subject>`)."""
    own = MmluOptions.parse(options.args)
    shots = own.num_fewshot
    load = partial(load_subject, options, subject)
    return Task(
        name=f"mmlu_{subject}",
        make_sample=partial(make_sample, subject, options),
        metric=Metric("acc", accuracy),
        max_new_tokens=1,
        postprocess=lambda text: text,
        chat=False,
        num_samples=10**9,  # every question, unless --limit
        # 0-4 shots held out only k questions before (issue 13): a new key keeps such cached samples
        # from being reused; 5-shot keys (and samples) are unchanged.
        params={"benchmark": "mmlu", "subject": subject, "num_fewshot": shots,
                **({"held_out": HELD_OUT} if shots != HELD_OUT else {})},
        size=lambda: len(load().test),
        data_digest=lambda: load().digest,
        data_source=lambda: load().origin,
        short=True,
        options=own,
    )
