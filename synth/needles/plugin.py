"""Needle drills: synthetic retrieval training data written by the RULER task generators of
`tasks/ruler` at chosen token lengths, with seeds far from evaluation's (7000+ against 42), and no
model called. The fine-tuning data of synthetic-retrieval papers (Xiong et al. 2024, "From
Artificial Needles to Real Haystacks", arXiv 2406.19292) is of this kind; here it is the cheap
variant a sweep can afford on a CPU, and the data the built-in `tiny` model was pretrained on.

Each record: the task's prompt (needles hidden in a haystack, then the question) as the user turn,
and the answer sentence (the task's answer prefix and the needle values) as the assistant turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from synth.context import SynthContext
from synth.plugin import Record, SynthPlugin


@dataclass(frozen=True)
class NeedlesConfig:
    """`tokenizer`: the model whose tokenizer sizes the prompts (a built-in name, path or hub id:
    the model that will be trained); `lengths`: prompt lengths in its tokens, drawn in turn."""

    tokenizer: str = ""
    examples: int = 1000
    lengths: list[int] = field(default_factory=lambda: [512, 1024, 2048])
    tasks: list[str] = field(default_factory=lambda: ["niah_single_1"])
    seed: int = 7000
    data_dir: str | None = None  # D with D/pg_essays, for the tasks with an essay haystack

    def validate(self) -> str | None:
        from tasks import GROUPS

        if not self.tokenizer:
            return "tokenizer: name the model whose tokenizer sizes the prompts (the one to be trained)"
        if self.examples < 1 or not self.lengths or min(self.lengths) < 64:
            return "examples >= 1 and lengths of at least 64 tokens are needed"
        for name in self.tasks:
            if name not in GROUPS["ruler"].tasks:
                return f"tasks: {name!r} is not a RULER task ({', '.join(GROUPS['ruler'].tasks)})"
        return None


class Needles(SynthPlugin):
    name = "needles"
    Config = NeedlesConfig
    description = "retrieval drills from RULER's generators at chosen token lengths, no model called (cf. 2406.19292)"
    uses_generator = False

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        assert isinstance(config, NeedlesConfig)
        from harness.backends import parse_model_spec
        from harness.backends.hf import load_tokenizer
        from harness.prompt import PromptFormat
        from tasks import get_task

        tokenizer = load_tokenizer(parse_model_spec(config.tokenizer).model)
        fmt = PromptFormat.create(tokenizer, "off")  # plain text: the trainer applies the chat template, if any
        from tasks.data import TaskOptions

        options = TaskOptions(data_dir=Path(config.data_dir).expanduser() if config.data_dir else None)
        tasks = [get_task(name, options) for name in config.tasks]
        for index in range(config.examples):
            task = tasks[index % len(tasks)]
            length = config.lengths[(index // len(tasks)) % len(config.lengths)]
            sample = task.make_sample(fmt, length, index, config.seed)
            if not isinstance(sample.prompt, str):
                raise HarnessError(f"needles: {task.name} gave a chat prompt; expected text")
            answer = f"{sample.answer_prefix.strip()} {', '.join(sample.targets)}.".strip()
            yield Record(id=f"needles-{sample.id}",
                         messages=({"role": "user", "content": sample.prompt}, {"role": "assistant", "content": answer}),
                         meta={"task": task.name, "length": length, "prompt_tokens": sample.prompt_tokens,
                               "instruction": sample.prompt.rsplit("\n", 1)[-1]})
