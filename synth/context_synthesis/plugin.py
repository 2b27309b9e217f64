"""Context synthesis (arXiv 2502.15592), as the authors' released pipeline (NJUNLP/context-synthesis):
for each seed instruction-answer pair, the generator infers a background context of about 2000
words (their system and user prompts, `prompts.toml`), parsed with their rule (`Context:\\s*(.*)`;
on failure they keep the raw reply, so does this plugin after re-asking); then each pair's
context is shuffled with `distractors` contexts (9) of other pairs of the same task, joined by
blank lines and put into the task's LongBench-style prompt; the answer is the assistant turn.

Additions, off by default: an LLM filter that keeps only pairs needing a context (`filter`; its
prompt is this plugin's own), and `target_words` (add distractors until the context reaches it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Message
from harness.core.userfiles import check_type, iter_jsonl
from harness.synth.context import SynthContext
from harness.synth.llm import CallFailed, Params, ParseError
from harness.synth.plugin import Record, SynthPlugin
from harness.synth.preflight import check_numbers


def prompts() -> dict[str, Any]:
    return toml_beside(__file__, "prompts.toml")


@dataclass(frozen=True)
class ContextSynthesisConfig:
    """`seeds`: task name -> jsonl of `{"instruction", "answer"}` (task names as the authors':
    narrativeqa, qasper, hotpotqa, 2wikiqa, musique, govreport, qmsum, multinews)."""

    seeds: dict[str, str] = field(default_factory=dict)
    distractors: int = 9
    temperature: float = 0.8
    max_tokens: int = 4096
    tries: int = 3
    limit_per_task: int | None = None
    filter: bool = False
    target_words: int | None = None

    def validate(self) -> str | None:
        unknown = sorted(set(self.seeds) - set(prompts()["tasks"]))
        if unknown:
            return f"seeds: unknown task {unknown[0]!r} (known: {', '.join(prompts()['tasks'])})"
        if not self.seeds:
            return "seeds: give at least one task -> jsonl file"
        if self.distractors < 0:
            return f"distractors = {self.distractors} must be >= 0"
        for task, path in sorted(self.seeds.items()):  # a bad seeds file fails now, before any model loads
            read_seeds(path, task, self.limit_per_task)
        return None


def parse_context(reply: str) -> str:
    """The authors' rule: the text after the first `Context:`."""
    found = re.findall(prompts()["context_pattern"], reply, re.DOTALL)
    if not found:
        raise ParseError("no 'Context:' in the reply")
    return str(found[0]).strip()


def parse_yes_no(reply: str) -> bool:
    word = reply.strip().split()[0].strip(".,!").lower() if reply.strip() else ""
    if word not in ("yes", "no"):
        raise ParseError(f"expected yes or no, got {reply.strip()[:40]!r}")
    return word == "yes"


def read_seeds(path: str, task: str, limit: int | None) -> list[dict[str, str]]:
    """The `{"instruction", "answer"}` pairs of a seeds jsonl; a bad line is an error naming it."""
    file = Path(path).expanduser()
    pairs = []
    for number, row in iter_jsonl(file, f"context_synthesis: seeds for {task}:"):
        if "instruction" not in row or "answer" not in row:
            raise HarnessError(f"{file}:{number}: a seed needs 'instruction' and 'answer'")
        for key in ("instruction", "answer"):
            check_type(row[key], (str, int, float), f"{file}:{number}: field {key!r}")
        pairs.append({"instruction": str(row["instruction"]), "answer": str(row["answer"])})
    if not pairs:
        raise HarnessError(f"context_synthesis: seeds for {task}: {file} holds no seeds")
    return pairs[:limit] if limit is not None else pairs


class ContextSynthesis(SynthPlugin):
    name = "context_synthesis"
    Config = ContextSynthesisConfig
    description = "background contexts generated for seed instruction-answer pairs, mixed with distractors (2502.15592)"

    def check(self, config: Any, corpus: list[dict[str, Any]]) -> None:
        """Every seeds file reads (fields and types), and the sizes are positive."""
        assert isinstance(config, ContextSynthesisConfig)
        check_numbers(config, {"max_tokens": 1, "tries": 1, "limit_per_task": 1, "target_words": 1, "temperature": 0})
        for task, path in sorted(config.seeds.items()):
            try:
                read_seeds(path, task, config.limit_per_task)
            except HarnessError as error:
                raise HarnessError(f"seeds: {task}: {error}") from error

    def planned(self, config: Any) -> int | None:
        """One record per seed pair."""
        return sum(len(read_seeds(path, task, config.limit_per_task)) for task, path in config.seeds.items())

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        assert isinstance(config, ContextSynthesisConfig)
        p = prompts()
        params = Params(max_tokens=config.max_tokens, temperature=config.temperature)
        for task, path in sorted(config.seeds.items()):
            pairs = read_seeds(path, task, config.limit_per_task)
            if config.filter:
                checks: list[list[Message]] = [[{"role": "user", "content": p["filter"].format(**pair)}] for pair in pairs]
                verdicts = ctx.generator.ask_parsed(checks, parse_yes_no, Params(max_tokens=4), config.tries)
                kept = []
                for pair, verdict in zip(pairs, verdicts):
                    if isinstance(verdict, ParseError):
                        ctx.drop(f"filter reply unreadable: {verdict}")
                    elif verdict:
                        ctx.drop("filter: answerable without a context")
                    else:
                        kept.append(pair)
                pairs = kept
            asks: list[list[Message]] = [
                [{"role": "system", "content": p["system"]}, {"role": "user", "content": p["user"].format(**pair)}] for pair in pairs
            ]
            parsed = ctx.generator.ask_parsed(asks, parse_context, params, config.tries)
            answered, contexts = [], []
            for pair, result in zip(pairs, parsed):
                if isinstance(result, CallFailed):  # no reply at all: nothing to fall back on (a rerun asks again)
                    ctx.drop(f"context generation: {result}")
                    continue
                if isinstance(result, ParseError):  # the authors keep the raw reply
                    ctx.note("no 'Context:' after every try: the raw reply is the context (the authors' fallback)")
                    result = result.reply.strip()
                answered.append(pair)
                contexts.append(result)
            yield from self._assemble(ctx, config, task, answered, contexts)

    def _assemble(self, ctx: SynthContext, config: ContextSynthesisConfig, task: str, pairs: list[dict[str, str]],
                  contexts: list[str]) -> Iterator[Record]:
        template = prompts()["tasks"][task]
        for i, (pair, context) in enumerate(zip(pairs, contexts)):
            others = [j for j in range(len(pairs)) if j != i]
            wanted = config.distractors
            if config.target_words is not None:
                wanted = len(others)
            if len(others) < config.distractors:
                ctx.drop(f"{task}: fewer than {config.distractors} other contexts to draw distractors from")
                continue
            chosen = ctx.rng.sample(others, wanted)
            picked = [context]
            for j in chosen:
                if config.target_words is not None and sum(len(c.split()) for c in picked) >= config.target_words:
                    break
                picked.append(contexts[j])
            ctx.rng.shuffle(picked)
            joined = "\n\n".join(picked)
            user = template.format(context=joined, input=pair["instruction"])
            key = hashlib.sha256(f"{task}|{i}|{pair['instruction']}|{pair['answer']}".encode()).hexdigest()[:16]
            messages = ({"role": "user", "content": user}, {"role": "assistant", "content": pair["answer"]})
            yield Record(id=f"context_synthesis-{key}", messages=messages,
                         meta={"task": task, "contexts": len(picked), "words": len(joined.split())})
