"""WildLong's meta-information graphs: one undirected graph per document type, nodes the
meta-information values (`field: value`), edges joining values extracted from the same query,
weighted by log-scaled co-occurrence (`log(1 + count)`); weighted random walks sample the
combinations that instructions are written from.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from itertools import combinations
from typing import Any, Iterable, Mapping, Sequence

import networkx as nx

Meta = Mapping[str, Sequence[str]]  # field -> values of one query


def node_id(field: str, value: str) -> str:
    return f"{field}: {value}"


def build_graph(metas: Iterable[Meta]) -> nx.Graph:
    """The co-occurrence graph of the queries' meta-information (all fields but the document type,
    which the graph stands for). Node attributes: `field`, `value`, `count` (queries naming it);
    edge attributes: `count` (queries naming both) and `weight` = log(1 + count)."""
    graph = nx.Graph()
    pairs: Counter[tuple[str, str]] = Counter()
    for meta in metas:
        nodes = sorted({node_id(f, v) for f, values in meta.items() for v in values})
        for field, values in meta.items():
            for value in values:
                name = node_id(field, value)
                if name not in graph:
                    graph.add_node(name, field=field, value=value, count=0)
        for name in nodes:
            graph.nodes[name]["count"] += 1
        pairs.update(combinations(nodes, 2))
    for (a, b), count in sorted(pairs.items()):
        graph.add_edge(a, b, count=count, weight=math.log1p(count))
    return graph


def random_walk(graph: nx.Graph, length: int, rng: random.Random, weighted: bool = True) -> list[str]:
    """A path of up to `length` distinct nodes. The start is drawn by node count (uniformly when
    unweighted); each step goes to an unvisited neighbour with probability proportional to the edge
    weight (uniform when unweighted), preferring fields the path does not have yet, so a path
    combines different kinds of meta-information. Stops early where no unvisited neighbour is left."""
    nodes = sorted(graph.nodes)
    if not nodes:
        return []
    start = rng.choices(nodes, weights=[graph.nodes[n]["count"] for n in nodes] if weighted else None)[0]
    path = [start]
    while len(path) < length:
        here = path[-1]
        options = sorted(n for n in graph.neighbors(here) if n not in path)
        if not options:
            break
        fields = {graph.nodes[n]["field"] for n in path}
        fresh = [n for n in options if graph.nodes[n]["field"] not in fields]
        options = fresh or options
        weights = [graph.edges[here, n]["weight"] for n in options] if weighted else None
        path.append(rng.choices(options, weights=weights)[0])
    return path


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "mean": 0, "max": 0}
    return {"min": min(values), "median": statistics.median(values), "mean": round(statistics.fmean(values), 2), "max": max(values)}


def graph_stats(graph: nx.Graph, seed: int = 0) -> dict[str, Any]:
    """Nodes, edges, density, degree distribution (summary and histogram), connected components,
    Louvain communities (count, largest, modularity) and nodes per field."""
    degrees = [d for _, d in graph.degree()]
    stats: dict[str, Any] = {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "density": round(nx.density(graph), 4) if graph.number_of_nodes() > 1 else 0.0,
        "degree": _summary(degrees),
        "degree_histogram": nx.degree_histogram(graph),
        "components": nx.number_connected_components(graph) if graph.number_of_nodes() else 0,
        "nodes_per_field": dict(sorted(Counter(f for _, f in graph.nodes(data="field")).items())),
    }
    if graph.number_of_edges():
        communities = nx.community.louvain_communities(graph, weight="weight", seed=seed)
        stats["communities"] = len(communities)
        stats["largest_community"] = max(len(c) for c in communities)
        stats["modularity"] = round(nx.community.modularity(graph, communities, weight="weight"), 4) + 0.0  # no -0.0
    else:
        stats.update(communities=graph.number_of_nodes(), largest_community=min(1, graph.number_of_nodes()), modularity=0.0)
    return stats


def to_json(graph: nx.Graph) -> dict[str, Any]:
    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return data


def from_json(data: dict[str, Any]) -> nx.Graph:
    return nx.node_link_graph(data, edges="edges")
