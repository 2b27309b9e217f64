"""Document types: the free-text types users name ("research paper", "academic article", ...)
grouped with K-Means (k = 10 by default) on their embeddings (TF-IDF + SVD offline, or a
sentence-transformers model); each group is named by its most frequent member."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from harness.synth.embed import embed
from harness.synth.wildlong.meta import DOCUMENT_TYPE

MetaFields = dict[str, list[str]]  # field -> values of one query


@dataclass(frozen=True)
class TypeClusters:
    """`label_of`: a document-type string -> its cluster's name; `members`: name -> its strings."""

    label_of: dict[str, str]
    members: dict[str, list[str]]


def cluster_types(mentions: list[str], k: int = 10, method: str = "tfidf", seed: int = 0) -> TypeClusters:
    """Cluster the distinct type strings of `mentions` (one per query) into at most `k` groups;
    a group is named by the string most queries used (ties: alphabetical)."""
    from sklearn.cluster import KMeans

    counts = Counter(mentions)
    distinct = sorted(counts)
    if not distinct:
        return TypeClusters({}, {})
    k = min(k, len(distinct))
    if k == len(distinct):
        assignment = list(range(k))
    else:
        vectors = embed(distinct, method, seed=seed)
        assignment = [int(c) for c in KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(vectors)]
    groups: dict[int, list[str]] = {}
    for text, cluster in zip(distinct, assignment):
        groups.setdefault(cluster, []).append(text)
    label_of: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for texts in groups.values():
        name = min(texts, key=lambda t: (-counts[t], t))
        members[name] = sorted(texts)
        for text in texts:
            label_of[text] = name
    return TypeClusters(label_of, dict(sorted(members.items())))


def group_by_type(metas: list[MetaFields], k: int = 10, method: str = "tfidf") -> tuple[TypeClusters, dict[str, list[MetaFields]]]:
    """The queries' document types clustered (`cluster_types`), and per cluster its queries' other fields
    (what the cluster's co-occurrence graph is built from)."""
    clusters = cluster_types([m[DOCUMENT_TYPE][0] for m in metas], k, method)
    by_type: dict[str, list[MetaFields]] = {label: [] for label in clusters.members}
    for meta in metas:
        by_type[clusters.label_of[meta[DOCUMENT_TYPE][0]]].append({f: v for f, v in meta.items() if f != DOCUMENT_TYPE})
    return clusters, by_type
