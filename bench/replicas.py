"""Two vLLM CPU servers of one core each (`--base-url U1,U2 --replicas 2`) against one server of two cores.

Three servers run side by side (SmolLM2-135M, float32): "one" on cores 0-1 (`taskset -c 0-1`,
VLLM_CPU_OMP_THREADS_BIND=0-1), "pair" on core 0 and on core 1. `harness eval` through the openai backend runs the
same tasks against each setup in turn, interleaved (one, pair, one, pair, ...), every run into a fresh output folder
with its own result cache and the servers' prefix caches emptied first. Reports each run's wall time (the whole
command) and generate time (results.json), the pair/one ratio, and whether both setups logged the same outputs and
scores for every sample (greedy decoding), with the largest per-choice logprob difference for multiple choice.
The idle servers' CPU use is printed first: a busy idle server would distort the comparison.

    .venv/bin/python bench/replicas.py [--repeats 2] [--schedule prefix]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the checkout

from bench.vllm_server import Server, compare, run_eval, sample_outcomes, timings  # noqa: E402
from harness.core.models import BUILTINS  # noqa: E402

DATA = ["--data-dir", str(Path(__file__).resolve().parents[2] / "shared" / "data")]


def workloads(args: argparse.Namespace) -> dict[str, list[str]]:
    """Name -> `harness eval` arguments."""
    return {
        f"niah_single_1 {args.lengths} x {args.limit}": ["--tasks", "niah_single_1", "--lengths", args.lengths,
                                                          "--limit", str(args.limit), *DATA],
        f"{args.mmlu} 5-shot x {args.mmlu_limit}": ["--tasks", args.mmlu, "--num_fewshot", "5", "--limit",
                                                    str(args.mmlu_limit)],
    }


def idle_cpu(servers: list[Server], seconds: float = 5.0) -> float:
    """CPU seconds per second used by the servers' process groups while nothing is sent (from /proc)."""
    def used() -> float:
        total = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in {server.process.pid for server in servers}:  # fields[2]: the process group
                total += int(fields[11]) + int(fields[12])  # utime + stime, clock ticks
        return total / 100.0

    start = used()
    time.sleep(seconds)
    return (used() - start) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--lengths", default="1k,2k")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--mmlu", default="mmlu_anatomy")
    parser.add_argument("--mmlu-limit", type=int, default=20)
    parser.add_argument("--schedule", default="prefix")
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--work", type=Path, default=None, help="keep outputs here (default: a temporary folder)")
    args = parser.parse_args()

    model_dir = BUILTINS["smollm2-135m"].ensure()
    work = args.work or Path(tempfile.mkdtemp(prefix="replicas-"))
    one = [Server(model_dir, args.port, "0-1", work / "server-one.log")]
    pair = [Server(model_dir, args.port + 1, "0", work / "server-pair0.log"),
            Server(model_dir, args.port + 2, "1", work / "server-pair1.log")]
    rows: list[str] = []
    summary: list[str] = []
    try:
        for server in one + pair:
            server.wait_ready()
        print(f"idle servers' CPU use: {idle_cpu(one + pair):.2f} cores", flush=True)
        for name, task_args in workloads(args).items():
            walls: dict[str, list[float]] = {"one": [], "pair": []}
            gens: dict[str, list[float]] = {"one": [], "pair": []}
            outs: dict[str, list[Path]] = {"one": [], "pair": []}
            for rep in range(1, args.repeats + 1):
                for setup, servers in (("one", one), ("pair", pair)):
                    for server in servers:
                        server.reset_prefix_cache()
                    out = work / f"{name.split()[0]}-{setup}-{rep}"
                    wall = run_eval([s.url for s in servers], model_dir, out, args.schedule, task_args)
                    generate = timings(out)["generate_s"]
                    walls[setup].append(wall)
                    gens[setup].append(generate)
                    outs[setup].append(out)
                    label = "1 server x 2 cores" if setup == "one" else "2 servers x 1 core"
                    row = f"| {name} | {label} | {rep} | {wall:.1f} | {generate:.1f} |"
                    print(row, flush=True)
                    rows.append(row)
            base = sample_outcomes(outs["one"][0])
            checks = [compare(base, sample_outcomes(out)) for out in outs["one"][1:] + outs["pair"]]
            n = checks[0][0] if checks else len(base)
            same = min(check[1] for check in checks) if checks else n
            worst = max(check[2] for check in checks) if checks else 0.0
            ratio_gen = [p / o for p, o in zip(gens["pair"], gens["one"], strict=True)]
            ratio_wall = [p / o for p, o in zip(walls["pair"], walls["one"], strict=True)]
            summary.append(f"| {name} | {', '.join(f'{r:.2f}' for r in ratio_wall)} | "
                           f"{', '.join(f'{r:.2f}' for r in ratio_gen)} (median {statistics.median(ratio_gen):.2f}) | "
                           f"{same}/{n} | {worst:.2e} |")
    finally:
        for server in one + pair:
            server.stop()
    print(f"\nvLLM CPU (.venv-vllm), SmolLM2-135M float32, openai backend, --schedule {args.schedule}; outputs in {work}\n")
    print("| workload | setup | rep | wall s | generate s |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n| workload | pair/one wall, per rep | pair/one generate, per rep | same output+score (worst run) | "
          "max logprob diff |")
    print("|---|---|---|---|---|")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
