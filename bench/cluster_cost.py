"""What a full RULER run costs: 13 tasks x {4k..128k} x 500 samples of a Llama-3.1-8B, on 1 GPU, 8 GPUs
(`--replicas 8`) and 4 nodes x 8 GPUs (`--executor ray --replicas 32`): arithmetic, not a measurement.

Per sample of length L (RULER sizes the prompt so that prompt + answer = L: prompt = L - G, G = the task's
`tokens_to_generate` from harness/tasks/ruler/templates.toml, a cap: answers that stop early cost less):

- prefill FLOPs = 2 x (transformer-layer parameters) x prompt + 2 x vocab x hidden (the output layer, on the last
  token only) + attention 2 x n_layers x prompt^2 x hidden. Attention QK^T and AV are 2 x L^2 x hidden FLOPs each
  per layer, 4 x L^2 x hidden in all; causal masking halves it. Time = FLOPs / (peak bf16 dense x MFU).
- decode is memory-bandwidth bound: each step streams the weights once for the whole batch and each sequence's KV
  cache (2 x n_layers x kv_heads x head_dim x 2 bytes per token of context). The batch is as many sequences as fit
  in the memory left by the weights (at most `--max-batch`, vLLM's max_num_seqs). Seconds per sample = G x
  (weight bytes / batch + KV bytes at context L - G/2) / (HBM bandwidth x bandwidth efficiency).
- prefill and decode do not overlap (an upper bound for continuous batching, which overlaps them).
- data parallel (`--replicas R`, one GPU each, one shared queue: harness/runner/dispatch.py): wall = start-up
  (each worker loads the model, in parallel) + total / R + (1 - 1/R) x the longest sample (the straggler tail: the
  queue leaves at most one sample per worker running when the others are done). GPU-hours = R x wall.

`--measured gpu.json` (bench/gpu.py) replaces the assumed MFU and bandwidth efficiency by those the 1b preset
reached through the hf backend (batch 1), per length (the nearest measured one), and prints that estimate too.

    .venv/bin/python bench/cluster_cost.py [--mfu 0.4] [--samples 500] [--measured gpu.json]
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

BYTES = 2  # bf16 weights and KV cache
LENGTHS = (4096, 8192, 16384, 32768, 65536, 131072)


@dataclass(frozen=True)
class Shape:
    """A Llama-style decoder (GQA, SwiGLU): what its FLOPs and bytes depend on."""

    name: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    tied: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def layer_params(self) -> int:
        """Parameters of one decoder layer: q and o (hidden^2 each), k and v (hidden x kv_heads x head_dim each),
        gate/up/down (3 x hidden x intermediate), two RMSNorm weights."""
        attention = 2 * self.hidden * self.hidden + 2 * self.hidden * self.kv_heads * self.head_dim
        return attention + 3 * self.hidden * self.intermediate + 2 * self.hidden

    @property
    def params(self) -> int:
        embeddings = self.vocab * self.hidden * (1 if self.tied else 2)
        return self.layers * self.layer_params + embeddings + self.hidden

    @property
    def weight_bytes(self) -> int:
        """Bytes a decode step streams: the layers, the final norm and the output layer (the input embedding is
        only looked up)."""
        return (self.layers * self.layer_params + self.hidden + self.vocab * self.hidden) * BYTES

    @property
    def kv_bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * BYTES

    def prefill_flops(self, prompt: int) -> float:
        dense = 2 * self.layers * self.layer_params * prompt + 2 * self.vocab * self.hidden
        attention = 2 * self.layers * prompt**2 * self.hidden  # causal: half of QK^T + AV's 4 x L^2 x hidden
        return float(dense + attention)


LLAMA_31_8B = Shape("Llama-3.1-8B", hidden=4096, layers=32, heads=32, kv_heads=8, intermediate=14336, vocab=128256)
MISTRAL_7B = Shape("Mistral-7B-v0.2", hidden=4096, layers=32, heads=32, kv_heads=8, intermediate=14336, vocab=32000)
LLAMA_32_1B = Shape("Llama-3.2-1B (bench/gpu.py 1b)", hidden=2048, layers=16, heads=32, kv_heads=8, intermediate=8192,
                    vocab=128256, tied=True)


@dataclass(frozen=True)
class Gpu:
    name: str
    flops: float  # bf16 dense, per second
    bandwidth: float  # HBM bytes per second
    memory: float  # bytes


H200 = Gpu("H200", flops=989e12, bandwidth=4.8e12, memory=141e9)
A100 = Gpu("A100-80GB", flops=312e12, bandwidth=2.039e12, memory=80e9)


@dataclass(frozen=True)
class Assumptions:
    mfu: float = 0.40  # prefill: achieved / peak bf16 dense FLOPs
    bandwidth_efficiency: float = 0.70  # decode: achieved / peak HBM bandwidth
    memory_use: float = 0.90  # share of GPU memory for weights + KV cache (vLLM's gpu_memory_utilization)
    max_batch: int = 256  # sequences decoded together at most (vLLM's max_num_seqs)
    startup_s: float = 90.0  # each worker loading the model (weights, engine warm-up), in parallel
    samples: int = 500


def ruler_generation_tokens() -> dict[str, int]:
    """Each RULER task's `tokens_to_generate` (its family's, templates.toml), from the project's task table."""
    from harness.tasks.ruler.common import templates
    from harness.tasks.ruler.tasks import ROWS

    return {name: int(templates()[family]["tokens_to_generate"]) for name, (family, _) in ROWS.items()}


@dataclass(frozen=True)
class SampleCost:
    prefill_s: float
    decode_s: float
    batch: int

    @property
    def seconds(self) -> float:
        return self.prefill_s + self.decode_s


def decode_batch(shape: Shape, gpu: Gpu, context: int, assume: Assumptions) -> int:
    free = gpu.memory * assume.memory_use - shape.weight_bytes
    fits = int(free // (shape.kv_bytes_per_token * context)) if free > 0 else 0
    return max(1, min(assume.max_batch, fits))


def sample_cost(shape: Shape, gpu: Gpu, length: int, generated: int, assume: Assumptions) -> SampleCost:
    """Prefill and decode seconds of one sample of `length` tokens (prompt + `generated`)."""
    prompt = length - generated
    prefill = shape.prefill_flops(prompt) / (gpu.flops * assume.mfu)
    batch = decode_batch(shape, gpu, length, assume)
    step_bytes = shape.weight_bytes / batch + shape.kv_bytes_per_token * (prompt + generated / 2)
    decode = generated * step_bytes / (gpu.bandwidth * assume.bandwidth_efficiency)
    return SampleCost(prefill, decode, batch)


@dataclass(frozen=True)
class LengthCost:
    length: int
    seconds: float  # all tasks x samples on one GPU
    prefill_share: float
    longest_sample_s: float


def length_costs(shape: Shape, gpu: Gpu, lengths: Sequence[int], tasks: dict[str, int], assume: Assumptions,
                 measured: dict[int, Assumptions] | None = None) -> list[LengthCost]:
    costs = []
    for length in lengths:
        own = nearest(measured, length) if measured else assume
        per_task = [sample_cost(shape, gpu, length, generated, own) for generated in tasks.values()]
        total = assume.samples * sum(c.seconds for c in per_task)
        prefill = assume.samples * sum(c.prefill_s for c in per_task)
        costs.append(LengthCost(length, total, prefill / total, max(c.seconds for c in per_task)))
    return costs


@dataclass(frozen=True)
class Setup:
    name: str
    replicas: int


SETUPS = (Setup("1 GPU", 1), Setup("8 GPUs, --replicas 8", 8), Setup("4 nodes x 8 GPUs, --executor ray --replicas 32", 32))


def wall_seconds(costs: Sequence[LengthCost], replicas: int, assume: Assumptions) -> float:
    total = sum(c.seconds for c in costs)
    tail = (1 - 1 / replicas) * max(c.longest_sample_s for c in costs)
    return assume.startup_s + total / replicas + tail


# -- measured efficiencies from bench/gpu.py --------------------------------------------------------------

def measured_assumptions(report: dict[str, Any], gpu: Gpu, base: Assumptions) -> dict[int, Assumptions]:
    """Per measured length: the MFU of the sdpa prefill and the bandwidth efficiency of the sdpa decode (batch 1)
    that bench/gpu.py's cells reached, with the model it ran (its `config`)."""
    config = report["config"]
    shape = Shape("measured", hidden=config["hidden_size"], layers=config["num_hidden_layers"],
                  heads=config["num_attention_heads"], kv_heads=config["num_key_value_heads"],
                  intermediate=config["intermediate_size"], vocab=config["vocab_size"],
                  tied=bool(config.get("tie_word_embeddings")))
    new_tokens = int(report.get("new_tokens", 64))
    found: dict[int, Assumptions] = {}
    cells = {(c["setting"], c["length"]): c for c in report["cells"] if c["part"] == "inference" and c["status"] == "ok"}
    for (setting, length), cell in cells.items():
        if setting != "sdpa prefill":
            continue
        mfu = shape.prefill_flops(length) * cell["value"] / length / gpu.flops
        efficiency = base.bandwidth_efficiency
        decode = cells.get(("sdpa decode", length))
        if decode:
            step_bytes = shape.weight_bytes + shape.kv_bytes_per_token * (length + new_tokens / 2)
            efficiency = step_bytes * decode["value"] / gpu.bandwidth
        found[length] = replace(base, mfu=mfu, bandwidth_efficiency=efficiency)
    if not found:
        raise ValueError("the bench/gpu.py report has no measured sdpa prefill cell")
    return found


def nearest(measured: dict[int, Assumptions], length: int) -> Assumptions:
    return measured[min(measured, key=lambda known: (abs(math.log(known / length)), known))]


# -- RULER issue 7 -----------------------------------------------------------------------------------------

# https://github.com/NVIDIA/RULER/issues/7: "Time taken on 8 A100?". The maintainer (hsiehjackson, 2024-05-02),
# Mistral-7B-Instruct-v0.2 with vLLM, minutes per task: 4k 4, 8k 5, 16k 10, 32k 17, 64k 40, 128k 2 hrs. A user
# (Dongchenghang, 2024-09-05): Llama-3-8B-Instruct, vLLM, GPUS=8 (tensor parallel) on 8 A100: "almost 24 hrs for all
# tasks" (the lengths run are not stated).
ISSUE_7_MISTRAL_MINUTES = {4096: 4, 8192: 5, 16384: 10, 32768: 17, 65536: 40, 131072: 120}
ISSUE_7_LLAMA_HOURS = 24.0


def tensor_parallel(gpu: Gpu, size: int, efficiency: float) -> Gpu:
    """`size` GPUs in one tensor-parallel engine as one device of `efficiency` x their summed speed."""
    return Gpu(f"{size}x {gpu.name} TP{size}", gpu.flops * size * efficiency, gpu.bandwidth * size * efficiency,
               gpu.memory * size)


def issue_7_rows(tasks: dict[str, int], assume: Assumptions, tp_efficiency: float) -> list[str]:
    engine = tensor_parallel(A100, 8, tp_efficiency)
    niah = {"niah_single_1": tasks["niah_single_1"]}
    rows = []
    for length, minutes in ISSUE_7_MISTRAL_MINUTES.items():
        cost = length_costs(MISTRAL_7B, engine, [length], niah, assume)[0]
        rows.append(f"| Mistral-7B, one task (niah, G=128), {length // 1024}k, 500 samples, 8 A100 TP8 | "
                    f"{minutes} min | {cost.seconds / 60:.1f} min | {minutes * 60 / cost.seconds:.1f}x |")
    full = sum(c.seconds for c in length_costs(LLAMA_31_8B, engine, LENGTHS, tasks, assume))
    rows.append(f"| Llama-3-8B, 13 tasks x 4k-128k, 500 samples, 8 A100 TP8 | ~{ISSUE_7_LLAMA_HOURS:.0f} h | "
                f"{full / 3600:.1f} h | {ISSUE_7_LLAMA_HOURS * 3600 / full:.1f}x |")
    return rows


# -- report ---------------------------------------------------------------------------------------------------

def setup_rows(costs: Sequence[LengthCost], assume: Assumptions, label: str) -> list[str]:
    one = wall_seconds(costs, 1, assume)
    rows = []
    for setup in SETUPS:
        wall = wall_seconds(costs, setup.replicas, assume)
        rows.append(f"| {label} | {setup.name} | {setup.replicas} | {wall / 3600:.2f} | "
                    f"{setup.replicas * wall / 3600:.1f} | {one / wall:.2f}x |")
    return rows


def report(shape: Shape, gpu: Gpu, assume: Assumptions, tasks: dict[str, int], tp_efficiency: float,
           measured: dict[int, Assumptions] | None = None) -> str:
    costs = length_costs(shape, gpu, LENGTHS, tasks, assume)
    lines = [f"**{shape.name} ({shape.params / 1e9:.2f}B parameters), RULER {len(tasks)} tasks x {assume.samples} "
             f"samples, one {gpu.name} ({gpu.flops / 1e12:.0f} TFLOP/s bf16 dense, {gpu.bandwidth / 1e12:.1f} TB/s, "
             f"MFU {assume.mfu:.0%} prefill, {assume.bandwidth_efficiency:.0%} of HBM bandwidth decode)**", "",
             "| length | prefill s/sample (niah) | decode s/sample (niah, batch) | GPU-hours, all tasks | prefill share |",
             "|---|---|---|---|---|"]
    for cost in costs:
        niah = sample_cost(shape, gpu, cost.length, tasks["niah_single_1"], assume)
        lines.append(f"| {cost.length // 1024}k | {niah.prefill_s:.2f} | {niah.decode_s:.2f} ({niah.batch}) | "
                     f"{cost.seconds / 3600:.1f} | {cost.prefill_share:.0%} |")
    lines += ["", "| estimate | setup | GPUs | wall hours | GPU-hours | speed-up |", "|---|---|---|---|---|---|"]
    lines += setup_rows(costs, assume, "assumed")
    if measured:
        lines += setup_rows(length_costs(shape, gpu, LENGTHS, tasks, assume, measured), assume,
                            "measured efficiencies (hf backend, batch 1)")
        lines += ["", "measured: " + ", ".join(f"{n // 1024 if n >= 1024 else n}{'k' if n >= 1024 else ''} MFU "
                                                  f"{a.mfu:.0%} / HBM {a.bandwidth_efficiency:.0%}"
                                                  for n, a in sorted(measured.items()))]
    lines += ["", f"**Against NVIDIA/RULER issue 7 (A100: 312 TFLOP/s, 2.0 TB/s; TP8 at {tp_efficiency:.0%} of 8 GPUs; "
              "same MFU and bandwidth efficiency)**", "",
              "| run | reported | estimated | reported / estimated |", "|---|---|---|---|"]
    lines += issue_7_rows(tasks, assume, tp_efficiency)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mfu", type=float, default=Assumptions.mfu, help="prefill model FLOPs utilisation")
    parser.add_argument("--bandwidth-efficiency", type=float, default=Assumptions.bandwidth_efficiency)
    parser.add_argument("--max-batch", type=int, default=Assumptions.max_batch)
    parser.add_argument("--startup-s", type=float, default=Assumptions.startup_s)
    parser.add_argument("--samples", type=int, default=Assumptions.samples)
    parser.add_argument("--tp-efficiency", type=float, default=0.7, help="tensor-parallel engines (issue 7's runs)")
    parser.add_argument("--measured", type=Path, default=None, help="bench/gpu.py --json output")
    args = parser.parse_args(argv)
    assume = Assumptions(mfu=args.mfu, bandwidth_efficiency=args.bandwidth_efficiency, max_batch=args.max_batch,
                         startup_s=args.startup_s, samples=args.samples)
    measured = measured_assumptions(json.loads(args.measured.read_text()), H200, assume) if args.measured else None
    text = report(LLAMA_31_8B, H200, assume, ruler_generation_tokens(), args.tp_efficiency, measured)
    print(text)
    return text


if __name__ == "__main__":
    main()
