"""The pure parts of bench/vllm_server.py: Prometheus text parsing, prefix-cache counters, run comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.vllm_server import CacheCounts, Outcome, cache_counts, compare, parse_metrics, sample_outcomes

METRICS = """\
# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="smollm2-135m"} 2877.0
vllm:prefix_cache_queries_total{engine="1",model_name="a b, c"} 123.0
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="smollm2-135m"} 384.0 1700000000000
process_open_fds 12
"""


def test_parse_metrics_sums_label_sets_and_ignores_comments_and_timestamps() -> None:
    metrics = parse_metrics(METRICS)
    assert metrics == {"vllm:prefix_cache_queries_total": 3000.0, "vllm:prefix_cache_hits_total": 384.0,
                       "process_open_fds": 12.0}
    counts = cache_counts(metrics)
    assert counts == CacheCounts(3000.0, 384.0)
    assert counts.rate == pytest.approx(12.8)


def test_parse_metrics_rejects_a_line_without_a_value() -> None:
    with pytest.raises(ValueError, match="not a Prometheus sample line"):
        parse_metrics("vllm:prefix_cache_hits_total{engine=\"0\"}\n")


def test_cache_counts_names_what_is_there_when_the_counters_are_missing() -> None:
    with pytest.raises(KeyError, match="vllm:prefix_cache_hits"):
        cache_counts({"vllm:prefix_cache_hits": 1.0, "other": 2.0})


def test_counts_difference_and_empty_rate() -> None:
    assert (CacheCounts(10, 4) - CacheCounts(3, 1)) + CacheCounts(1, 1) == CacheCounts(8, 4)
    assert CacheCounts(0, 0).rate == 0.0


def _log(out: Path, rows: list[dict[str, object]]) -> Path:
    (out / "run" / "samples").mkdir(parents=True)
    (out / "run" / "samples" / "t.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return out


def test_compare_counts_equal_outputs_and_the_largest_logprob_gap(tmp_path: Path) -> None:
    row = {"task": "mmlu_x", "length": 0, "id": "a", "output": "B", "score": 100.0, "meta": {"logprobs": [-1.0, -0.5]}}
    other = {**row, "id": "b", "output": "C", "score": 0.0, "meta": {}}
    a = sample_outcomes(_log(tmp_path / "a", [row, other]))
    assert a["mmlu_x/0/a"] == Outcome("B", 100.0, (-1.0, -0.5))
    b = sample_outcomes(_log(tmp_path / "b", [{**row, "meta": {"logprobs": [-1.0, -0.25]}}, {**other, "output": "D"}]))
    assert compare(a, b) == (2, 1, 0.25)
    with pytest.raises(ValueError, match="different samples"):
        compare(a, {"mmlu_x/0/a": a["mmlu_x/0/a"]})
