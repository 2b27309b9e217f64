"""A vLLM CPU server for the benchmarks (the CPU build in .venv-vllm): start one pinned to given cores, read its
prefix-cache counters from /metrics, reset its prefix cache, stop it; and run `harness eval` against servers.

The server is started as tests/integration/run.sh starts it, plus: `taskset -c CORES` and
`VLLM_CPU_OMP_THREADS_BIND=CORES` (vLLM's CPU worker binds its OpenMP threads to that list; the default `auto` keeps
one core for the scheduler), and `VLLM_SERVER_DEV_MODE=1` for `POST /reset_prefix_cache`. Automatic prefix caching
is on by default in vLLM V1 (`--enable-prefix-caching`); the counters are `vllm:prefix_cache_queries_total` and
`vllm:prefix_cache_hits_total` (tokens looked up in the cache, tokens found).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
HARNESS = ROOT / ".venv" / "bin" / "harness"
QUERIES = "vllm:prefix_cache_queries_total"
HITS = "vllm:prefix_cache_hits_total"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)")  # name, labels, value[, timestamp]


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format: each sample's name (labels dropped) and its value summed over label sets."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if not match:
            raise ValueError(f"not a Prometheus sample line: {line!r}")
        name, value = match.group(1), float(match.group(2))
        out[name] = out.get(name, 0.0) + value
    return out


@dataclass(frozen=True)
class CacheCounts:
    """Prompt tokens looked up in the prefix cache and found there."""

    queries: float
    hits: float

    def __sub__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(self.queries - other.queries, self.hits - other.hits)

    def __add__(self, other: CacheCounts) -> CacheCounts:
        return CacheCounts(self.queries + other.queries, self.hits + other.hits)

    @property
    def rate(self) -> float:
        """Hit rate in percent (0 when nothing was looked up)."""
        return 100.0 * self.hits / self.queries if self.queries else 0.0


def cache_counts(metrics: dict[str, float]) -> CacheCounts:
    """The prefix-cache counters of parsed /metrics; an error naming what the server exposes when absent."""
    if QUERIES not in metrics or HITS not in metrics:
        names = sorted(name for name in metrics if "prefix_cache" in name)
        raise KeyError(f"no {QUERIES} / {HITS} in /metrics (prefix-cache metrics there: {names})")
    return CacheCounts(metrics[QUERIES], metrics[HITS])


class Server:
    """One vLLM OpenAI-compatible server on 127.0.0.1:`port`, its engine bound to `cores` (e.g. "0" or "0-1")."""

    def __init__(self, model_dir: Path, port: int, cores: str, log: Path, kv_cache_gib: int = 2) -> None:
        self.port, self.cores, self.log = port, cores, log
        env = {**os.environ, "VLLM_CPU_OMP_THREADS_BIND": cores, "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gib),
               "VLLM_SERVER_DEV_MODE": "1"}
        command = ["taskset", "-c", cores, str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server",
                   "--model", str(model_dir), "--served-model-name", "smollm2-135m", "--dtype", "float32",
                   "--max-model-len", "8192", "--enable-prefix-caching", "--host", "127.0.0.1", "--port", str(port)]
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log.open("w")
        self.process = subprocess.Popen(command, stdout=self._log_file, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _get(self, path: str, method: str = "GET") -> str:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as reply:
            return str(reply.read().decode())

    def wait_ready(self, timeout_s: float = 600) -> None:
        """Block until GET /v1/models answers; the log's tail in the error when the server dies or times out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM server on port {self.port} died:\n{self.tail()}")
            try:
                json.loads(self._get("/v1/models"))
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        raise RuntimeError(f"vLLM server on port {self.port} not ready in {timeout_s:.0f} s:\n{self.tail()}")

    def counts(self) -> CacheCounts:
        return cache_counts(parse_metrics(self._get("/metrics")))

    def reset_prefix_cache(self) -> None:
        """Empty the prefix cache (POST /reset_prefix_cache, dev mode); no requests may be running."""
        self._get("/reset_prefix_cache", method="POST")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate the server's process group (API server, engine core, worker) and wait for it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log_file.close()


def run_eval(urls: list[str], model_dir: Path, out: Path, schedule: str, args: list[str]) -> float:
    """`harness eval` of openai:smollm2-135m on `urls` into a fresh `out` (own result cache and database): wall s."""
    out.mkdir(parents=True, exist_ok=False)
    env = {**os.environ, "HARNESS_CACHE": str(out / "cache"), "HARNESS_DB": str(out / "db.sqlite")}
    command = [str(HARNESS), "eval", "--model", "openai:smollm2-135m", "--base-url", ",".join(urls),
               "--tokenizer", str(model_dir), "--schedule", schedule, "--output", str(out / "run"), *args]
    if len(urls) > 1:
        command += ["--replicas", str(len(urls))]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    (out / "eval.log").write_text(done.stdout + done.stderr)
    if done.returncode:
        raise RuntimeError(f"harness eval failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return wall


def timings(out: Path) -> dict[str, float]:
    """results.json's `config.timings` of a `run_eval` output folder (generate_s: the model's work; total_s)."""
    data = json.loads((out / "run" / "results.json").read_text())
    return {k: float(v) for k, v in data["config"]["timings"].items() if isinstance(v, (int, float))}


@dataclass(frozen=True)
class Outcome:
    """What a sample's run produced: its output and score, and for multiple choice the per-choice logprobs."""

    output: object
    score: object
    logprobs: tuple[float, ...] = ()


def sample_outcomes(out: Path) -> dict[str, Outcome]:
    """Every logged sample of a `run_eval` output folder: task/length/id -> its outcome."""
    found: dict[str, Outcome] = {}
    for path in sorted((out / "run" / "samples").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                logprobs = (row.get("meta") or {}).get("logprobs") or ()
                found[f"{row['task']}/{row['length']}/{row['id']}"] = Outcome(row.get("output"), row.get("score"),
                                                                              tuple(logprobs))
    return found


def compare(a: dict[str, Outcome], b: dict[str, Outcome]) -> tuple[int, int, float]:
    """Samples in both, how many have the same output and score, and the largest logprob difference."""
    same, worst = 0, 0.0
    for key in a.keys() & b.keys():
        same += (a[key].output, a[key].score) == (b[key].output, b[key].score)
        for x, y in zip(a[key].logprobs, b[key].logprobs, strict=True):
            worst = max(worst, abs(x - y))
    if a.keys() != b.keys():
        raise ValueError(f"the runs logged different samples: {len(a.keys() ^ b.keys())} in one only")
    return len(a), same, worst
