"""bench/cluster_cost.py: hand-checked FLOPs and bytes, data-parallel arithmetic, scaling by bench/gpu.py's numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import cluster_cost as cc

ASSUME = cc.Assumptions()


def test_llama_31_8b_parameters_flops_and_bytes_by_hand() -> None:
    shape = cc.LLAMA_31_8B
    # per layer: q, o 4096^2 each; k, v 4096 x 8 x 128 each; gate, up, down 4096 x 14336 each; 2 norms of 4096
    layer = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096
    assert shape.layer_params == layer == 218_112_000
    assert shape.params == 32 * layer + 2 * 128256 * 4096 + 4096 == 8_030_261_248  # Llama-3.1-8B: 8.03B
    # a prompt of 8192 tokens: dense 2 x 32 x 218,112,000 x 8192 = 114,353,504,256,000; the output layer on the
    # last token 2 x 128256 x 4096 = 1,050,673,152; causal attention 2 x 32 x 8192^2 x 4096 = 17,592,186,044,416
    assert shape.prefill_flops(8192) == 114_353_504_256_000 + 1_050_673_152 + 17_592_186_044_416  # 1.3195e14
    assert shape.kv_bytes_per_token == 2 * 32 * 8 * 128 * 2 == 131_072  # 128 KiB: 16 GiB for a 128k context
    assert cc.LLAMA_32_1B.params == 1_235_814_400 and cc.MISTRAL_7B.params == 7_241_732_096


def test_one_sample_at_128k_on_an_h200() -> None:
    cost = cc.sample_cost(cc.LLAMA_31_8B, cc.H200, 131072, 128, ASSUME)
    prompt = 131072 - 128
    assert cost.prefill_s == pytest.approx(cc.LLAMA_31_8B.prefill_flops(prompt) / (989e12 * 0.4))
    assert 14 < cost.prefill_s < 18  # ~6.3e15 FLOPs at 396 TFLOP/s
    # memory for KV: 0.9 x 141e9 - 16.1e9 bytes of weights, 131072 x 131072 bytes per sequence -> 6 sequences
    assert cost.batch == 6
    assert cost.decode_s == pytest.approx(128 * (cc.LLAMA_31_8B.weight_bytes / 6 + 131072 * (prompt + 64)) / (4.8e12 * 0.7))
    assert cc.decode_batch(cc.LLAMA_31_8B, cc.H200, 1024, ASSUME) == 256  # capped by max_batch


def test_generation_tokens_come_from_the_ruler_task_table() -> None:
    tokens = cc.ruler_generation_tokens()
    assert len(tokens) == 13
    assert tokens["niah_single_1"] == 128 and tokens["vt"] == 30 and tokens["cwe"] == 120
    assert tokens["fwe"] == 50 and tokens["qa_1"] == tokens["qa_2"] == 32


def test_eight_replicas_take_an_eighth_of_the_time_for_the_same_gpu_hours() -> None:
    costs = cc.length_costs(cc.LLAMA_31_8B, cc.H200, cc.LENGTHS, cc.ruler_generation_tokens(), ASSUME)
    one, eight, many = (cc.wall_seconds(costs, r, ASSUME) for r in (1, 8, 32))
    assert eight == pytest.approx(one / 8, rel=0.03)
    assert 8 * eight == pytest.approx(one, rel=0.03) and 32 * many == pytest.approx(one, rel=0.05)
    assert one < 8 * eight < 32 * many  # start-up and the straggler tail are paid per GPU
    assert 30 < one / 3600 < 70  # tens of GPU-hours: 128k dominates
    assert costs[-1].seconds > sum(c.seconds for c in costs[:-1])


def test_measured_efficiencies_from_a_gpu_report(tmp_path: Path) -> None:
    shape = cc.LLAMA_32_1B
    prefill_rate = 0.5 * 989e12 * 8192 / shape.prefill_flops(8192)  # tokens/s at MFU 50%
    step_bytes = shape.weight_bytes + shape.kv_bytes_per_token * (8192 + 32)
    decode_rate = 0.25 * 4.8e12 / step_bytes  # tokens/s at 25% of HBM bandwidth
    config = {"hidden_size": 2048, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
              "intermediate_size": 8192, "vocab_size": 128256, "tie_word_embeddings": True}
    report: dict[str, Any] = {"config": config, "new_tokens": 64, "cells": [
        {"part": "inference", "setting": "sdpa prefill", "length": 8192, "status": "ok", "value": prefill_rate},
        {"part": "inference", "setting": "sdpa decode", "length": 8192, "status": "ok", "value": decode_rate},
        {"part": "inference", "setting": "sdpa prefill", "length": 131072, "status": "OOM", "value": None},
        {"part": "train", "setting": "packed", "length": 8192, "status": "ok", "value": 1.0}]}
    measured = cc.measured_assumptions(report, cc.H200, ASSUME)
    assert list(measured) == [8192]
    assert measured[8192].mfu == pytest.approx(0.5) and measured[8192].bandwidth_efficiency == pytest.approx(0.25)
    assert cc.nearest(measured, 131072) is measured[8192]
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps(report))
    text = cc.main(["--measured", str(path)])
    assert "measured efficiencies" in text and "8k MFU 50% / HBM 25%" in text
    with pytest.raises(ValueError, match="no measured sdpa prefill"):
        cc.measured_assumptions({**report, "cells": report["cells"][2:]}, cc.H200, ASSUME)


def test_report_has_every_length_setup_and_the_issue_7_comparison() -> None:
    text = cc.main([])
    for name in ("| 4k |", "| 128k |", "| 1 GPU |", "--replicas 8", "--executor ray --replicas 32", "~24 h", "120 min"):
        assert name in text
    assert text.count("Mistral-7B, one task") == 6
