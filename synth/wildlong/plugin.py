"""WildLong (arXiv 2502.16684): long-context instructions grounded in what real users ask.

Stage 1: meta-information (13 fields, `prompts.toml`) is extracted from user queries as JSON;
the document types users name are clustered (K-Means, k = 10, on TF-IDF + SVD or sentence
embeddings); per document type a co-occurrence graph of the other fields' values is built (edges
weighted log(1 + count)); weighted random walks of `path_length` nodes (6) pick combinations, and
the generator writes one instruction per path. Stage 2: each corpus document is typed into one of
the clusters, each instruction is paired with one document of its type (or, for a share
`multi_document`, several: comparison or aggregation), rewritten to fit the document(s), and
answered from them; the record is the document(s) plus the rewritten instruction, and the answer.

Everything an ablation changes is config: `path_length` (4, 6, 8), `weighted: false` (uniform walk),
`multi_document: 0`. The paper publishes no code or prompts; the prompts are lc-harness's wording.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError
from harness.core.resources import toml_beside
from harness.core.types import Message
from harness.synth.context import SynthContext
from harness.synth.corpus import Document
from harness.synth.embed import TFIDF, embed
from harness.synth.llm import Params, ParseError
from harness.synth.plugin import Record, SynthPlugin
from harness.synth.preflight import check_numbers, needs_corpus
from harness.synth.wildlong import queries as query_source
from harness.synth.wildlong.doctypes import TypeClusters, group_by_type
from harness.synth.wildlong.graph import build_graph, from_json, graph_stats, random_walk, to_json
from harness.synth.wildlong.meta import DOCUMENT_TYPE, parse_meta

MODES = ("comparison", "aggregation")


def prompts() -> dict[str, Any]:
    return toml_beside(__file__, "prompts.toml")


@dataclass(frozen=True)
class WildLongConfig:
    """`queries` (local jsonl) or `queries_dataset` (e.g. allenai/WildChat-1M, streamed); `fields`:
    name -> description (default: the 13 of `prompts.toml`); `instructions`: how many to write."""

    queries: str | None = None
    queries_dataset: str | None = None
    queries_split: str = "train"
    queries_limit: int = 1000
    language: str | None = "English"
    fields: dict[str, str] = field(default_factory=dict)
    document_types: int = 10
    embedding: str = TFIDF
    path_length: int = 6
    weighted: bool = True
    instructions: int = 100
    multi_document: float = 0.25
    documents_per_multi: int = 2
    document_typing: str = "llm"
    document_words: int | None = None  # words of each document in the record (None: the whole document)
    excerpt_words: int = 400
    query_words: int = 300
    temperature: float = 0.7
    max_tokens: int = 512
    response_max_tokens: int = 1024
    tries: int = 3

    def validate(self) -> str | None:
        if not (self.queries or self.queries_dataset):
            return "give `queries` (a jsonl file) or `queries_dataset` (a datasets id such as allenai/WildChat-1M)"
        if self.fields and DOCUMENT_TYPE not in self.fields:
            return f"fields: {DOCUMENT_TYPE!r} is required (the graphs are per document type)"
        if self.path_length < 2:
            return f"path_length = {self.path_length} must be >= 2"
        if self.document_types < 1:
            return f"document_types = {self.document_types} must be >= 1"
        if not 0 <= self.multi_document <= 1:
            return f"multi_document = {self.multi_document} must be a share between 0 and 1"
        if self.documents_per_multi < 2:
            return f"documents_per_multi = {self.documents_per_multi} must be >= 2"
        if self.document_typing not in ("llm", "embedding"):
            return f"document_typing = {self.document_typing!r} must be 'llm' or 'embedding'"
        return None

    def field_descriptions(self) -> dict[str, str]:
        return dict(self.fields) if self.fields else dict(prompts()["fields"])


def parse_instruction(reply: str) -> str:
    """The request after `Instruction:` (or the whole reply), unquoted; at least three words."""
    text = reply.strip()
    marker = re.search(r"instruction\s*:\s*", text, re.IGNORECASE)
    if marker:
        text = text[marker.end():]
    text = text.strip().strip('"').strip()
    if len(text.split()) < 3:
        raise ParseError("no instruction of at least three words in the reply")
    return text


def instruction_ask(label: str, graph: Any, path: list[str]) -> list[Message]:
    """The request for one instruction written from `path` (its nodes' fields and values) for a `label` document."""
    listing = "\n".join(f"- {graph.nodes[n]['field'].replace('_', ' ')}: {graph.nodes[n]['value']}" for n in path)
    return [{"role": "user", "content": prompts()["instruction"].format(document_type=label, path=listing)}]


def parse_choice(reply: str, options: list[str]) -> str:
    """The option the reply picks, by its number or (failing that) by naming exactly one."""
    number = re.search(r"\d+", reply)
    if number and 1 <= int(number.group()) <= len(options):
        return options[int(number.group()) - 1]
    named = [o for o in options if o in reply.lower()]
    if len(named) == 1:
        return named[0]
    raise ParseError(f"no type number between 1 and {len(options)} in the reply")


def parse_response(reply: str) -> str:
    if not reply.strip():
        raise ParseError("empty response")
    return reply.strip()


def head(text: str, words: int | None) -> str:
    """The first `words` words of a document, its line breaks kept (None: all of it)."""
    if words is None:
        return text
    found = list(re.finditer(r"\S+", text))
    return text if len(found) <= words else text[: found[words - 1].end()]


def document_block(texts: list[str]) -> str:
    if len(texts) == 1:
        return f"Document:\n{texts[0]}"
    return "\n\n".join(f"Document {i}:\n{t}" for i, t in enumerate(texts, 1))


@dataclass(frozen=True)
class Pairing:
    """One instruction's place in stage 2: its type, path, documents and mode."""

    index: int
    label: str
    path: list[str]
    documents: list[Document]
    mode: str  # single | comparison | aggregation


class WildLong(SynthPlugin):
    name = "wildlong"
    Config = WildLongConfig
    description = "instructions from meta-information graphs of real user queries, paired with long documents (2502.16684)"

    def check(self, config: Any, corpus: list[dict[str, Any]]) -> None:
        """A corpus, the queries file, an embedding model's library where one is named, positive sizes."""
        assert isinstance(config, WildLongConfig)
        check_numbers(config, {"queries_limit": 1, "instructions": 1, "document_words": 1, "excerpt_words": 1, "query_words": 1,
                               "max_tokens": 1, "response_max_tokens": 1, "tries": 1, "temperature": 0})
        needs_corpus(self.name, corpus)
        if config.queries and not Path(config.queries).expanduser().is_file():
            raise HarnessError(f"queries: {config.queries} is not a file (a jsonl of user queries)")
        if config.embedding != TFIDF:
            from importlib.util import find_spec

            if find_spec("sentence_transformers") is None:
                raise HarnessError(f"embedding: {config.embedding!r} needs sentence-transformers: pip install "
                                   f"'lc-harness[embeddings]' (or use {TFIDF!r}, the offline default)")

    def planned(self, config: Any) -> int | None:
        """One record per instruction (fewer when a small graph repeats itself)."""
        return int(config.instructions)

    @classmethod
    def output_stats(cls, out: Path) -> dict[str, Any]:
        """Graph statistics recomputed from `OUT/work/graphs.json` (for `harness synth stats`)."""
        saved = out / "work" / "graphs.json"
        if not saved.exists():
            return {}
        from harness.core.userfiles import read_json_object

        graphs = read_json_object(saved, "WildLong graphs file")
        return {"graphs": {label: graph_stats(from_json(data)) for label, data in sorted(graphs.items())}}

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        assert isinstance(config, WildLongConfig)
        metas = self._extract(ctx, config)
        clusters, by_type = group_by_type([meta for _, meta in metas], config.document_types, config.embedding)
        graphs = {label: build_graph(group) for label, group in by_type.items()}
        (ctx.work_dir / "graphs.json").write_text(json.dumps({k: to_json(g) for k, g in graphs.items()}, sort_keys=True))
        typed = self._type_documents(ctx, config, clusters)
        usable = [label for label in sorted(graphs) if typed.get(label) and graphs[label].number_of_nodes()]
        self._stats = {
            "queries": len(metas),
            "document_types": {label: {"queries": len(by_type[label]), "members": clusters.members[label],
                                       "documents": len(typed.get(label, []))} for label in sorted(by_type)},
            "graphs": {label: graph_stats(graphs[label]) for label in sorted(graphs)},
        }
        if not usable:
            raise HarnessError("wildlong: no document type has both queries and corpus documents "
                               f"(types: {', '.join(sorted(graphs)) or 'none'}; documents typed: {sum(map(len, typed.values()))})")
        pairings = self._sample(ctx, config, graphs, typed, usable, by_type)
        self._stats["paths"] = {"count": len(pairings), "mean_length": round(sum(len(p.path) for p in pairings) / len(pairings), 2),
                                "modes": dict(sorted(Counter(p.mode for p in pairings).items()))}
        yield from self._write(ctx, config, pairings, graphs)

    def _extract(self, ctx: SynthContext, config: WildLongConfig) -> list[tuple[str, dict[str, list[str]]]]:
        """Stage 1a: meta-information of each query (JSON, validated; re-asked on failure)."""
        if config.queries:
            rows = query_source.from_file(Path(config.queries).expanduser())
        else:
            assert config.queries_dataset is not None
            rows = query_source.from_dataset(config.queries_dataset, config.queries_split, config.queries_limit)
        found = query_source.select(rows, config.language, config.queries_limit)
        if not found:
            raise HarnessError("wildlong: no query left after filtering (single-turn, language)")
        described = config.field_descriptions()
        names = list(described)
        listing = "\n".join(f"- {name}: {text}" for name, text in described.items())
        asks: list[list[Message]] = [[{"role": "user", "content": prompts()["extract"].format(
            query=head(q, config.query_words), fields=listing, keys=", ".join(names))}] for q in found]
        parsed = ctx.generator.ask_parsed(asks, lambda reply: parse_meta(reply, names), Params(config.max_tokens, 0.0), config.tries)
        kept = []
        with open(ctx.work_dir / "meta.jsonl", "w", encoding="utf-8") as f:
            for query, meta in zip(found, parsed):
                if isinstance(meta, ParseError):
                    ctx.drop(f"meta-information unreadable: {meta}")
                    continue
                kept.append((query, meta))
                f.write(json.dumps({"query": query, "meta": meta}, ensure_ascii=False, sort_keys=True) + "\n")
        if not kept:
            raise HarnessError(f"wildlong: no query's meta-information could be read ({sum(ctx.dropped.values())} dropped; see stats)")
        return kept

    def _type_documents(self, ctx: SynthContext, config: WildLongConfig, clusters: TypeClusters) -> dict[str, list[Document]]:
        """Stage 2a: each corpus document's type, one of the clusters (asked, or the nearest by embedding)."""
        if not ctx.corpus:
            raise HarnessError("wildlong needs a corpus of long documents (--corpus)")
        options = list(clusters.members)
        excerpts = [head(d.text, config.excerpt_words) for d in ctx.corpus]
        if config.document_typing == "embedding":
            described = [" ; ".join(clusters.members[label]) for label in options]
            vectors = embed(described + excerpts, config.embedding)
            nearest = (vectors[len(options):] @ vectors[: len(options)].T).argmax(axis=1)
            chosen: list[str | ParseError] = [options[int(i)] for i in nearest]
        else:
            listing = "\n".join(f"{i}. {label}" for i, label in enumerate(options, 1))
            asks: list[list[Message]] = [[{"role": "user", "content": prompts()["classify"].format(options=listing, document=e)}]
                                         for e in excerpts]
            chosen = list(ctx.generator.ask_parsed(asks, lambda reply: parse_choice(reply, options), Params(8, 0.0), config.tries))
        typed: dict[str, list[Document]] = {}
        for doc, label in zip(ctx.corpus, chosen):
            if isinstance(label, ParseError):
                ctx.drop(f"document type unreadable: {label}")
            else:
                typed.setdefault(label, []).append(doc)
        return typed

    def _sample(self, ctx: SynthContext, config: WildLongConfig, graphs: dict[str, Any], typed: dict[str, list[Document]],
                usable: list[str], by_type: dict[str, list[Any]]) -> list[Pairing]:
        """Stage 1b/2b: per instruction a type (by its share of queries), a walk, its documents and mode."""
        pairings = []
        seen: set[tuple[str, ...]] = set()
        for index in range(config.instructions):
            for _ in range(8):  # a few draws to find a combination not used yet (small graphs repeat)
                label = ctx.rng.choices(usable, weights=[len(by_type[u]) for u in usable])[0]
                path = random_walk(graphs[label], config.path_length, ctx.rng, config.weighted)
                docs = typed[label]
                mode = "single"
                if ctx.rng.random() < config.multi_document:
                    if len(docs) >= config.documents_per_multi:
                        mode = ctx.rng.choice(MODES)
                    else:
                        ctx.note(f"multi-document wanted, fewer than {config.documents_per_multi} documents of the type: single")
                chosen = ctx.rng.sample(docs, config.documents_per_multi if mode != "single" else 1)
                key = (label, mode, *path, "|", *(d.id for d in chosen))
                if key not in seen:
                    break
            if key in seen:
                ctx.drop("the same path, documents and mode drawn again (a small graph)")
                continue
            seen.add(key)
            pairings.append(Pairing(index, label, path, chosen, mode))
        return pairings

    def _write(self, ctx: SynthContext, config: WildLongConfig, pairings: list[Pairing], graphs: dict[str, Any]) -> Iterator[Record]:
        """Instructions from paths, rewritten to fit their documents, answered from the documents."""
        p = prompts()
        params = Params(config.max_tokens, config.temperature)
        asks = [instruction_ask(pairing.label, graphs[pairing.label], pairing.path) for pairing in pairings]
        drafts = ctx.generator.ask_parsed(asks, parse_instruction, params, config.tries)
        live = [(pairing, draft) for pairing, draft in zip(pairings, drafts) if not self._dropped(ctx, draft, "instruction")]
        rewrites: list[list[Message]] = []
        for pairing, draft in live:
            excerpts = [head(d.text, config.excerpt_words) for d in pairing.documents]
            if pairing.mode == "single":
                text = p["rewrite"].format(instruction=draft, document_type=pairing.label, document=excerpts[0])
            else:
                blocks = "\n\n".join(f"<document {i}>\n{e}\n</document {i}>" for i, e in enumerate(excerpts, 1))
                text = p["rewrite_multi"].format(instruction=draft, count=len(excerpts), document_type=pairing.label,
                                                 documents=blocks, mode=p["modes"][pairing.mode])
            rewrites.append([{"role": "user", "content": text}])
        rewritten = ctx.generator.ask_parsed(rewrites, parse_instruction, params, config.tries)
        final = [(pairing, draft, instruction) for (pairing, draft), instruction in zip(live, rewritten)
                 if not self._dropped(ctx, instruction, "rewritten instruction")]
        users = [document_block([head(d.text, config.document_words) for d in pairing.documents]) + "\n\n" + str(instruction)
                 for pairing, _, instruction in final]
        answers = ctx.generator.ask_parsed([[{"role": "user", "content": u}] for u in users], parse_response,
                                           Params(config.response_max_tokens, config.temperature), config.tries)
        for (pairing, draft, instruction), user, answer in zip(final, users, answers):
            if self._dropped(ctx, answer, "response"):
                continue
            key = hashlib.sha256(f"{pairing.index}|{user}".encode()).hexdigest()[:16]
            graph = graphs[pairing.label]
            yield Record(
                id=f"wildlong-{key}",
                messages=({"role": "user", "content": user}, {"role": "assistant", "content": str(answer)}),
                meta={"document_type": pairing.label, "mode": pairing.mode, "path": pairing.path,
                      "path_fields": [graph.nodes[n]["field"] for n in pairing.path],
                      "documents": [d.id for d in pairing.documents], "draft_instruction": draft, "instruction": instruction},
            )

    @staticmethod
    def _dropped(ctx: SynthContext, result: Any, what: str) -> bool:
        if isinstance(result, ParseError):
            ctx.drop(f"{what} unreadable: {result}")
            return True
        return False
