"""`--schedule prefix` against `--schedule length` on a vLLM CPU server: prefix-cache hit rate and wall time.

One server on cores 0-1 (SmolLM2-135M, float32, automatic prefix caching on); `harness eval` through the openai
backend on (a) the classic NIAH depth x length grid and (b) MMLU 5-shot, each with both schedules, interleaved
(prefix, length, prefix, length, ...), each run into a fresh output folder with its own result cache, and the
server's prefix cache emptied before each run (POST /reset_prefix_cache). The hit rate is the server's
`vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total` (prompt tokens) over the run. With `--pair`, the
same on two servers of one core each (`--base-url U1,U2`, counters summed). Prints a Markdown table.

What to expect (vLLM 0.32): MMLU is scored by loglikelihood, sent as completions with `echo` and `logprobs`, i.e.
prompt logprobs, and vLLM skips the prefix-cache lookup for any request with prompt logprobs
(`SamplingParams.skip_reading_prefix_cache`): its counters stay at 0 whatever the order. On one server with a KV
cache that holds the whole run, NIAH's hits do not depend on the order either (every distinct prefix block is
computed once); the order matters across servers (a prefix group split between them is computed on both) and when
blocks are evicted.

    .venv/bin/python bench/prefix_cache.py [--repeats 2] [--setups one,pair] [--workloads niah,mmlu] [--concurrency 8,1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from the checkout

from bench.vllm_server import CacheCounts, Server, run_eval  # noqa: E402
from harness.core.models import BUILTINS  # noqa: E402

DATA = ["--data-dir", str(Path(__file__).resolve().parents[2] / "shared" / "data")]


def workloads(args: argparse.Namespace) -> dict[str, list[str]]:
    """Name -> `harness eval` arguments, those of `--workloads`."""
    chosen = args.workloads.split(",")
    every = {
        f"niah {args.niah_lengths} x depths {args.depths}": ["--tasks", "niah", "--lengths", args.niah_lengths,
                                                             "--depths", args.depths, *DATA],
        f"{args.mmlu} 5-shot, {args.mmlu_limit} q": ["--tasks", args.mmlu, "--num_fewshot", "5", "--limit",
                                                     str(args.mmlu_limit)],
    }
    return {name: task_args for name, task_args in every.items() if name.split()[0].split("_")[0] in chosen}


def measure(servers: list[Server], model_dir: Path, out: Path, schedule: str, extra: list[str]) -> tuple[float, CacheCounts]:
    """One run with empty prefix caches: wall seconds and the cache counters it added (summed over servers)."""
    for server in servers:
        server.reset_prefix_cache()
    before = [server.counts() for server in servers]
    wall = run_eval([server.url for server in servers], model_dir, out, schedule, extra)
    added = CacheCounts(0, 0)
    for server, start in zip(servers, before, strict=True):
        added = added + (server.counts() - start)
    return wall, added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--niah-lengths", default="1k,2k,4k")
    parser.add_argument("--depths", default="0,25,50,75,100")
    parser.add_argument("--mmlu", default="mmlu_anatomy")
    parser.add_argument("--mmlu-limit", type=int, default=20)
    parser.add_argument("--concurrency", default="8,1", help="openai backend concurrency values to run (requests at once)")
    parser.add_argument("--workloads", default="niah,mmlu", help="which of niah, mmlu")
    parser.add_argument("--setups", default="one", help="one (a 2-core server) and/or pair (two 1-core servers)")
    parser.add_argument("--pair", action="store_true", help="same as --setups one,pair")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--work", type=Path, default=None, help="keep outputs here (default: a temporary folder)")
    args = parser.parse_args()

    model_dir = BUILTINS["smollm2-135m"].ensure()
    work = args.work or Path(tempfile.mkdtemp(prefix="prefix-cache-"))
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    chosen = {"one", "pair"} if args.pair else set(args.setups.split(","))
    setups: list[tuple[str, list[tuple[int, str]]]] = []
    if "one" in chosen:
        setups.append(("1 server, 2 cores", [(args.port, "0-1")]))
    if "pair" in chosen:
        setups.append(("2 servers, 1 core each", [(args.port + 1, "0"), (args.port + 2, "1")]))
    rows: list[str] = []
    for setup, places in setups:
        servers = [Server(model_dir, port, cores, work / f"server-{port}.log") for port, cores in places]
        try:
            for server in servers:
                server.wait_ready()
            for name, task_args in workloads(args).items():
                for concurrency in concurrencies:
                    extra = ["--model-args", f"concurrency={concurrency}"]
                    for rep in range(1, args.repeats + 1):
                        for schedule in ("prefix", "length"):
                            out = work / f"{setup[0]}-{name.split()[0]}-c{concurrency}-{schedule}-{rep}"
                            wall, counts = measure(servers, model_dir, out, schedule, task_args + extra)
                            row = (f"| {setup} | {name} | {concurrency} | {schedule} | {rep} | {wall:.1f} | "
                                   f"{counts.queries:.0f} | {counts.hits:.0f} | {counts.rate:.1f}% |")
                            print(row, flush=True)
                            rows.append(row)
        finally:
            for server in servers:
                server.stop()
    print(f"\nvLLM CPU (.venv-vllm), SmolLM2-135M float32, openai backend; outputs in {work}\n")
    print("| setup | workload | concurrency | schedule | rep | wall s | prompt tokens queried | cache hits | hit rate |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
