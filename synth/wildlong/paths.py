"""WildLong's path sampling on its own (arXiv 2502.16684, stage 1b): random walks over the co-occurrence
graphs of a fixed meta-information set, and an instruction written from each of the first paths.

The ablation the paper rests its diversity on, weighted against uniform walks and paths of N = 4, 6 or 8
nodes, changes only this step; here it runs without the rest of the pipeline (no document typing, no
pairing, no answers). The meta-information is read from a file (`meta`: the `OUT/work/meta.jsonl` a
`wildlong` run writes, one `{"query", "meta"}` per line), so every setting walks the same graphs.

Plugin statistics (`stats.json` under `plugin.paths`), from the walks alone, no model called:
`distinct` (share of paths whose set of nodes no earlier path had), `nodes` and `fields` (mean distinct
nodes and fields per path), `field_share` (mean share of its graph's fields a path names), `node_coverage`
(share of all nodes some path visits), `pair_coverage` (share of the graphs' edges whose two nodes some
path names together) and `entropy` (of the node visits, in bits, over log2 of the node count: 1 is
uniform). With `instructions: K`, the generator writes one instruction from each of the first K paths
(WildLong's prompt): the records, whose diversity `stats.json` reports as for any dataset (distinct-n,
embedding dispersion of `meta.instruction`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import HarnessError
from harness.core.userfiles import iter_jsonl
from harness.synth.context import SynthContext
from harness.synth.embed import TFIDF
from harness.synth.llm import Params
from harness.synth.plugin import Record, SynthPlugin
from harness.synth.preflight import check_numbers
from harness.synth.wildlong.doctypes import MetaFields, group_by_type
from harness.synth.wildlong.graph import build_graph, graph_stats, random_walk
from harness.synth.wildlong.meta import DOCUMENT_TYPE
from harness.synth.wildlong.plugin import instruction_ask, parse_instruction


@dataclass(frozen=True)
class WildLongPathsConfig:
    """`meta`: the meta-information file; `paths`: walks to sample; `instructions`: how many of them (the
    first) get an instruction written by the generator (0: none, no model loaded)."""

    meta: str = ""
    document_types: int = 10
    embedding: str = TFIDF
    path_length: int = 6
    weighted: bool = True
    paths: int = 200
    instructions: int = 0
    temperature: float = 0.7
    max_tokens: int = 200
    tries: int = 3

    def validate(self) -> str | None:
        if not self.meta:
            return "meta: name the meta-information file (a wildlong run's OUT/work/meta.jsonl)"
        if self.path_length < 2:
            return f"path_length = {self.path_length} must be >= 2"
        if self.document_types < 1 or self.paths < 1:
            return "document_types and paths must be >= 1"
        if not 0 <= self.instructions <= self.paths:
            return f"instructions = {self.instructions} must lie between 0 and paths ({self.paths})"
        return None


def read_metas(path: Path) -> list[MetaFields]:
    """The `meta` of each line of a wildlong meta file; each must name a document type."""
    metas = []
    for number, row in iter_jsonl(path, "meta-information file"):
        meta = row.get("meta")
        if not isinstance(meta, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                                                 for v in meta.values()):
            raise HarnessError(f"{path}: line {number}: 'meta' must map each field to a list of strings")
        if not meta.get(DOCUMENT_TYPE):
            raise HarnessError(f"{path}: line {number}: 'meta' has no {DOCUMENT_TYPE!r}")
        metas.append(meta)
    if not metas:
        raise HarnessError(f"{path}: no meta-information records")
    return metas


def path_diversity(paths: list[tuple[str, list[str]]], graphs: dict[str, Any]) -> dict[str, float]:
    """The diversity of `(document type, path)` walks over `graphs` (see the module docstring)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    distinct = 0
    visits: Counter[tuple[str, str]] = Counter()
    pairs: set[tuple[str, str, str]] = set()
    nodes, fields, shares = [], [], []
    for label, path in paths:
        key = (label, frozenset(path))
        distinct += key not in seen
        seen.add(key)
        graph = graphs[label]
        named = {graph.nodes[n]["field"] for n in path}
        available = {f for _, f in graph.nodes(data="field")}
        nodes.append(len(set(path)))
        fields.append(len(named))
        shares.append(len(named) / len(available) if available else 0.0)
        visits.update((label, n) for n in path)
        pairs.update((label, a, b) for a, b in combinations(sorted(set(path)), 2))
    total_nodes = sum(g.number_of_nodes() for g in graphs.values())
    total_edges = sum(g.number_of_edges() for g in graphs.values())
    edge_pairs = sum(1 for label, a, b in pairs if graphs[label].has_edge(a, b))
    count = sum(visits.values())
    entropy = -sum(c / count * math.log2(c / count) for c in visits.values()) if count else 0.0
    n = len(paths) or 1
    return {
        "paths": len(paths),
        "distinct": round(distinct / n, 4),
        "nodes": round(sum(nodes) / n, 3),
        "fields": round(sum(fields) / n, 3),
        "field_share": round(sum(shares) / n, 4),
        "node_coverage": round(len(visits) / total_nodes, 4) if total_nodes else 0.0,
        "pair_coverage": round(edge_pairs / total_edges, 4) if total_edges else 0.0,
        "entropy": round(entropy / math.log2(total_nodes), 4) if total_nodes > 1 else 0.0,
    }


class WildLongPaths(SynthPlugin):
    name = "wildlong_paths"
    Config = WildLongPathsConfig
    description = "WildLong's path sampling alone: walks over a fixed meta-information set, their diversity, instructions (2502.16684)"

    def check(self, config: Any, corpus: list[dict[str, Any]]) -> None:
        assert isinstance(config, WildLongPathsConfig)
        check_numbers(config, {"max_tokens": 1, "tries": 1, "temperature": 0})
        read_metas(Path(config.meta).expanduser())  # present, readable, every line typed

    def planned(self, config: Any) -> int | None:
        return int(config.instructions)

    def run(self, ctx: SynthContext, config: Any) -> Iterator[Record]:
        assert isinstance(config, WildLongPathsConfig)
        metas = read_metas(Path(config.meta).expanduser())
        _, by_type = group_by_type(metas, config.document_types, config.embedding)
        graphs = {label: build_graph(group) for label, group in by_type.items()}
        usable = [label for label in sorted(graphs) if graphs[label].number_of_nodes()]
        if not usable:
            raise HarnessError(f"{config.meta}: no document type has meta-information besides its type")
        walks = []
        for _ in range(config.paths):  # a type by its share of queries, then a walk in its graph
            label = ctx.rng.choices(usable, weights=[len(by_type[u]) for u in usable])[0]
            walks.append((label, random_walk(graphs[label], config.path_length, ctx.rng, config.weighted)))
        self._stats = {"queries": len(metas), "paths": path_diversity(walks, graphs),
                       "graphs": {label: graph_stats(graphs[label]) for label in usable}}
        (ctx.work_dir / "paths.jsonl").write_text("".join(json.dumps({"type": t, "path": p}) + "\n" for t, p in walks))
        if config.instructions:
            yield from self._instructions(ctx, config, walks[: config.instructions], graphs)

    def _instructions(self, ctx: SynthContext, config: WildLongPathsConfig, walks: list[tuple[str, list[str]]],
                      graphs: dict[str, Any]) -> Iterator[Record]:
        asks = [instruction_ask(label, graphs[label], path) for label, path in walks]
        written = ctx.generator.ask_parsed(asks, parse_instruction, Params(config.max_tokens, config.temperature), config.tries)
        for index, ((label, path), ask, instruction) in enumerate(zip(walks, asks, written)):
            if not isinstance(instruction, str):
                ctx.drop(f"instruction unreadable: {instruction}")
                continue
            user = {"role": "user", "content": ask[0]["content"]}
            yield Record(id=f"wildlong-path-{index}", messages=(user, {"role": "assistant", "content": instruction}),
                         meta={"document_type": label, "path": path, "instruction": instruction,
                               "path_fields": [graphs[label].nodes[n]["field"] for n in path]})
