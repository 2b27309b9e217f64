"""Hierarchical QA (He et al., arXiv 2504.12637): long-context instruction data of any length from a
generator that reads only short texts.

Each document is cut into small chunks (about `small_chunk_tokens`, 4k in the paper) grouped into
medium chunks; the generator summarises every small chunk, each medium chunk from its small
summaries, and the document from its medium summaries. Questions are planned per document with a
fixed count: `hierarchical_questions` walking down the hierarchy (whole document, a section, a
detail inside it, ...), `diverse_questions` of mixed kinds (local detail, multi-hop across distant
chunks, section), and revisits of earlier documents; each answer comes from the chunk text or the
summaries the question was written from. Documents are concatenated up to `target_tokens` (to 1M)
and the questions become the turns of one multi-turn conversation over them.

Defaults follow the paper where it is known (4k-token small chunks, 5 hierarchical questions per
document, 9 diverse ones, 3 revisit questions per earlier document with probability 0.6); the
medium-chunk size, the question-kind weights and the prompts (`prompts.toml`) are lc-harness's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Message
from harness.synth.context import SynthContext
from harness.synth.corpus import Document
from harness.synth.hierarchical.chunks import Tree, build_tree, split_small, token_counter
from harness.synth.hierarchical.plan import KINDS, Question, record_plan
from harness.synth.llm import Params, ParseError
from harness.synth.plugin import Record, SynthPlugin
from harness.synth.preflight import check_numbers, needs_corpus
from harness.synth.replies import parse_json

QA_SCHEMA = {"type": "object", "required": ["question", "answer"],
             "properties": {"question": {"type": "string"}, "answer": {"type": "string"}}}


def prompts() -> dict[str, Any]:
    return toml_beside(__file__, "prompts.toml")


@dataclass(frozen=True)
class HierarchicalConfig:
    """Sizes in tokens of the generator's tokenizer (words when it has none)."""

    small_chunk_tokens: int = 4096
    small_per_medium: int = 4
    hierarchical_questions: int = 5
    diverse_questions: int = 9
    diverse_weights: dict[str, float] = field(default_factory=lambda: {"local": 1.0, "multi_hop": 1.0, "medium": 1.0})
    revisit_questions: int = 3
    revisit_probability: float = 0.6
    target_tokens: int = 180_000
    documents_per_record: int | None = None
    records: int | None = None
    temperature: float = 0.7
    max_tokens: int = 512
    summary_max_tokens: int = 384
    tries: int = 3

    def validate(self) -> str | None:
        if self.small_chunk_tokens < 16:
            return f"small_chunk_tokens = {self.small_chunk_tokens} must be >= 16"
        if self.small_per_medium < 1:
            return f"small_per_medium = {self.small_per_medium} must be >= 1"
        unknown = sorted(set(self.diverse_weights) - set(KINDS))
        if unknown:
            return f"diverse_weights: unknown kind {unknown[0]!r} (kinds: {', '.join(KINDS)})"
        if self.diverse_questions and not any(w > 0 for w in self.diverse_weights.values()):
            return "diverse_weights: give at least one kind a positive weight"
        if not 0 <= self.revisit_probability <= 1:
            return f"revisit_probability = {self.revisit_probability} must be between 0 and 1"
        if self.hierarchical_questions + self.diverse_questions < 1:
            return "ask at least one question per document (hierarchical_questions, diverse_questions)"
        if self.target_tokens < self.small_chunk_tokens:
            return f"target_tokens = {self.target_tokens} is below small_chunk_tokens = {self.small_chunk_tokens}"
        return None


def parse_summary(reply: str) -> str:
    text = re.sub(r"^\s*summary\s*:\s*", "", reply.strip(), flags=re.IGNORECASE).strip()
    if not text:
        raise ParseError("empty summary")
    return text


def parse_qa(reply: str) -> tuple[str, str]:
    """(question, answer) from a JSON object, or from `Question: ... Answer: ...` lines."""
    try:
        value = parse_json(reply, QA_SCHEMA)
        question, answer = str(value["question"]), str(value["answer"])
    except ParseError as error:
        lines = re.search(r"question\s*:\s*(.+?)\s*\n+\s*\**answer\**\s*:\s*(.+)", reply, re.IGNORECASE | re.DOTALL)
        if not lines:
            raise error from None
        question, answer = lines.group(1), lines.group(2)
    question, answer = (text.strip().strip("*").strip().strip('"').strip() for text in (question, answer))
    if len(question.split()) < 3 or not answer:
        raise ParseError("no question of at least three words with an answer")
    return question, answer


@dataclass
class Source:
    """One document of a record: its text (cut to the budget), hierarchy and summaries."""

    document: Document
    text: str
    tree: Tree
    small: list[str] = field(default_factory=list)
    medium: list[str] = field(default_factory=list)
    summary: str = ""


class Hierarchical(SynthPlugin):
    name = "hierarchical"
    Config = HierarchicalConfig
    description = "multi-turn QA over documents concatenated to a target length, from hierarchical summaries (2504.12637)"

    def check(self, config: Any, corpus: list[dict[str, Any]]) -> None:
        """A corpus, and positive sizes."""
        assert isinstance(config, HierarchicalConfig)
        check_numbers(config, {"hierarchical_questions": 0, "diverse_questions": 0, "revisit_questions": 0, "documents_per_record": 1,
                               "records": 1, "max_tokens": 1, "summary_max_tokens": 1, "tries": 1, "temperature": 0})
        needs_corpus(self.name, corpus)

    def planned(self, config: Any) -> int | None:
        """`records` when set; otherwise it depends on the corpus (unknown before it is packed)."""
        return config.records if config.records is not None else None

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        assert isinstance(config, HierarchicalConfig)
        if not ctx.corpus:
            raise HarnessError("hierarchical needs a corpus of documents (--corpus)")
        tokenizer = ctx.generator.backend.tokenizer
        count = token_counter(tokenizer)
        groups = self._group(ctx, config, count, tokenizer)
        sources = [[Source(doc, text, build_tree(text, tokenizer, config.small_chunk_tokens, config.small_per_medium))
                    for doc, text in group] for group in groups]
        self._summarise(ctx, config, [s for group in sources for s in group])
        plans = []
        for group in sources:
            complete = [s for s in group if s.summary]
            plans.append((complete, record_plan([s.tree for s in complete], ctx.rng, config.hierarchical_questions,
                                                config.diverse_questions, config.diverse_weights, config.revisit_questions,
                                                config.revisit_probability)))
        asks = [self._question_prompt(source_list[q.document], q) for source_list, plan in plans for q in plan]
        answers = iter(ctx.generator.ask_parsed(asks, parse_qa, Params(config.max_tokens, config.temperature), config.tries))
        kinds: dict[str, int] = {}
        for index, (group, plan) in enumerate(plans):
            turns: list[tuple[Question, str, str]] = []
            seen: set[tuple[int, str, str]] = set()
            for question in plan:
                result = next(answers)
                if isinstance(result, ParseError):
                    ctx.drop(f"{question.kind} question unreadable: {result}")
                    continue
                if (question.document, *result) in seen:  # a short document ran out of distinct chunks
                    ctx.drop("the same question and answer twice in a conversation")
                    continue
                seen.add((question.document, *result))
                turns.append((question, *result))
                kinds[question.kind] = kinds.get(question.kind, 0) + 1
            if not turns:
                ctx.drop("record without a readable question")
                continue
            yield self._record(index, group, turns, count)
        self._stats = {"records_planned": len(plans), "questions_by_kind": dict(sorted(kinds.items())),
                       "documents": sum(len(g) for g, _ in plans),
                       "small_chunks": sum(len(s.tree.small) for g, _ in plans for s in g),
                       "token_counter": "tokenizer" if tokenizer is not None else "words"}

    def _group(self, ctx: SynthContext, config: HierarchicalConfig, count: Callable[[str], int],
               tokenizer: Any) -> list[list[tuple[Document, str]]]:
        """Documents in seeded order, packed into records of at most `target_tokens` (or a fixed
        `documents_per_record`); a document longer than the target is cut to it."""
        order = list(ctx.corpus)
        ctx.rng.shuffle(order)
        groups: list[list[tuple[Document, str]]] = []
        current: list[tuple[Document, str]] = []
        used = 0
        for doc in order:
            text = doc.text
            size = count(text)
            if size > config.target_tokens:
                text = split_small(text, tokenizer, config.target_tokens)[0]
                size = count(text)
                ctx.note("document longer than target_tokens: cut to it")
            full = len(current) == config.documents_per_record if config.documents_per_record else used + size > config.target_tokens
            if current and full:
                groups.append(current)
                current, used = [], 0
            current.append((doc, text))
            used += size
        if current and (not config.documents_per_record or len(current) == config.documents_per_record):
            groups.append(current)
        return groups[: config.records] if config.records is not None else groups

    def _summarise(self, ctx: SynthContext, config: HierarchicalConfig, sources: list[Source]) -> None:
        """Small chunks from their text; medium chunks from their small summaries; the document
        from its medium summaries (a level with a single child reuses the child's summary)."""
        p = prompts()
        params = Params(config.summary_max_tokens, 0.0)
        asks: list[list[Message]] = [[{"role": "user", "content": p["summarize_chunk"].format(text=chunk)}]
                                     for s in sources for chunk in s.tree.small]
        results = iter(ctx.generator.ask_parsed(asks, parse_summary, params, config.tries))
        for source in sources:
            source.small = [r if isinstance(r, str) else "" for r in (next(results) for _ in source.tree.small)]
        live = []
        for source in sources:
            if all(source.small):
                live.append(source)
            else:
                ctx.drop("a chunk summary unreadable: document left out")

        def merge(groups: list[list[str]]) -> list[str]:
            """One summary per group of summaries ("" where unreadable; a group of one is its member)."""
            multi = [g for g in groups if len(g) > 1]
            merges: list[list[Message]] = [[{"role": "user", "content": p["summarize_summaries"].format(
                summaries="\n\n".join(f"Part {i}: {t}" for i, t in enumerate(g, 1)))}] for g in multi]
            merged = iter(ctx.generator.ask_parsed(merges, parse_summary, params, config.tries))
            out = []
            for group in groups:
                result = group[0] if len(group) == 1 else next(merged)
                out.append(result if isinstance(result, str) else "")
            return out

        mediums = merge([[s.small[i] for i in group] for s in live for group in s.tree.medium])
        at = 0
        for source in live:
            source.medium = mediums[at : at + len(source.tree.medium)]
            at += len(source.tree.medium)
        for source, summary in zip(live, merge([s.medium for s in live])):
            if summary and all(source.medium):
                source.summary = summary
            else:
                ctx.drop("a section or document summary unreadable: document left out")

    def _question_prompt(self, source: Source, question: Question) -> list[Message]:
        p = prompts()
        templates = p["questions"]
        if question.kind == "global":
            text = templates["global"].format(summary=source.summary)
        elif question.kind == "medium":
            assert question.medium is not None
            text = templates["medium"].format(summary=source.summary, section=source.medium[question.medium])
        elif question.kind == "local":
            text = templates["local"].format(passage=source.tree.small[question.small[0]])
        else:
            first, second = question.small
            text = templates["multi_hop"].format(first=source.tree.small[first], second=source.tree.small[second])
        return [{"role": "user", "content": f"{text}\n\n{p['json_reply']}"}]

    def _record(self, index: int, group: list[Source], turns: list[tuple[Question, str, str]], count: Callable[[str], int]) -> Record:
        """One conversation: the documents and the first question, then one turn per question."""
        several = len(group) > 1
        context = group[0].text if not several else "\n\n".join(f"Document {i}:\n{s.text}" for i, s in enumerate(group, 1))
        messages: list[dict[str, str]] = []
        asked = []
        for number, (question, text, answer) in enumerate(turns):
            if several:
                text = f"About document {question.document + 1}: {text}"
            asked.append(text)
            messages.append({"role": "user", "content": f"{context}\n\n{text}" if number == 0 else text})
            messages.append({"role": "assistant", "content": answer})
        key = hashlib.sha256(f"{index}|{'|'.join(s.document.id for s in group)}|{asked[0]}".encode()).hexdigest()[:16]
        return Record(id=f"hierarchical-{key}", messages=tuple(messages), meta={
            "documents": [s.document.id for s in group], "context_tokens": count(context),
            "kinds": [q.kind for q, _, _ in turns], "revisits": sum(q.revisit for q, _, _ in turns), "instruction": asked})
