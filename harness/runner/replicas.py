"""`--replicas N`: the evaluated model as N workers, and where each one runs.

- hf and vllm models: N processes (`harness.runner.workers`), or N Ray actors with `--executor ray`
  (`harness.runner.ray_workers`), each loading the model itself. On GPUs each worker gets its own devices through
  `CUDA_VISIBLE_DEVICES`: one GPU for hf, `tensor_parallel_size` GPUs for a vLLM engine (its own tensor-parallel
  group). On CPU the cores are shared out: `OMP_NUM_THREADS` (torch's threads) and, for vLLM's CPU build,
  `VLLM_CPU_OMP_THREADS_BIND` (the cores its engine binds to).
- openai models: one worker per endpoint of `--base-url URL1,URL2,...` (threads of this process; the servers are
  the replicas).

The coordinator loads only the tokenizer (to build and count the samples); the workers' common backend is a
`ReplicaBackend`, which the runner shares out with `harness.runner.dispatch`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

from harness.core.backends.base import Backend, Generation, GenerationRequest, Loglikelihood, LoglikelihoodRequest
from harness.core.errors import HarnessError
from harness.core.specs import BackendSpec

if TYPE_CHECKING:
    from harness.runner.workers import RemoteWorker

EXECUTORS = ("local", "ray")


class ReplicaBackend(Backend):
    """N workers of one model. The runner gives each its share of the samples (`lanes`); a direct call (a judge that
    is the evaluated model) goes to the first worker."""

    def __init__(self, lanes: Sequence[Backend]) -> None:
        if not lanes:
            raise HarnessError("--replicas needs at least one worker")
        self.lanes = list(lanes)
        self.name = self.lanes[0].name

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self.lanes[0].generate(requests)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        return self.lanes[0].loglikelihood(requests)

    @property
    def tokenizer(self) -> Any:
        return self.lanes[0].tokenizer

    @property
    def max_length(self) -> int:
        return min(lane.max_length for lane in self.lanes)

    @property
    def batch_hint(self) -> int:
        return self.lanes[0].batch_hint

    def describe(self) -> dict[str, Any]:
        """The first worker's description (every worker runs the same model with the same options); for several
        endpoints, all their URLs."""
        described = dict(self.lanes[0].describe())
        urls = [lane.describe().get("base_url") for lane in self.lanes]
        if len(set(urls)) > 1:
            described["base_url"] = ",".join(str(url) for url in urls)
        return described

    def close(self) -> None:
        for lane in self.lanes:
            try:
                lane.close()
            except Exception:  # noqa: BLE001  one worker failing to close must not keep the others open
                pass


def endpoints(base_url: str | None) -> list[str]:
    """The URLs of `--base-url URL1,URL2,...` (empty: none given)."""
    return [url.strip() for url in (base_url or "").split(",") if url.strip()]


def check_scale(replicas: object, executor: object, spec: BackendSpec) -> None:
    """`--replicas`, `--executor` and `--base-url` agree with each other and with the model's backend."""
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise HarnessError(f"bad --replicas {replicas!r}: expected a whole number >= 1")
    if executor not in EXECUTORS:
        raise HarnessError(f"bad --executor {executor!r}: expected {' or '.join(EXECUTORS)}")
    urls = endpoints(spec.base_url)
    if spec.backend == "openai":
        if executor == "ray":
            raise HarnessError("--executor ray places model workers; an openai: model's workers are its servers: "
                               "give them as --base-url URL1,URL2,... without --executor ray")
        if len(urls) > 1 and replicas not in (1, len(urls)):
            raise HarnessError(f"--replicas {replicas} and {len(urls)} --base-url endpoints disagree: one worker per "
                               "endpoint (leave --replicas out)")
        if len(urls) <= 1 and replicas > 1:
            raise HarnessError(f"--replicas {replicas} with an openai: model needs {replicas} endpoints: "
                               "--base-url URL1,URL2,... (for more requests at once to one server: "
                               "--model-args concurrency=K)")
    elif len(urls) > 1:
        raise HarnessError("--base-url with several URLs is for openai: models")


def wants_workers(replicas: int, executor: str, spec: BackendSpec) -> bool:
    """Whether a run needs `load_replicas` rather than one backend in this process."""
    return replicas > 1 or executor == "ray" or len(endpoints(spec.base_url)) > 1


def load_replicas(spec: BackendSpec, replicas: int, executor: str = "local", ray_address: str | None = None) -> ReplicaBackend:
    """Start the workers of `spec` and wait until every one has loaded the model; any failure closes them all."""
    check_scale(replicas, executor, spec)
    if spec.backend == "openai":
        return ReplicaBackend([replace(spec, base_url=url).load() for url in endpoints(spec.base_url)])
    from harness.runner.workers import ProcessWorker

    tokenizer = coordinator_tokenizer(spec)
    lanes: list[RemoteWorker] = []
    try:
        if executor == "ray":
            lanes += _ray_workers(spec, replicas, ray_address, tokenizer)
        else:
            for i, (env, threads) in enumerate(placements(spec, replicas)):
                lanes.append(ProcessWorker(spec, i, env, threads, tokenizer))
        for i, lane in enumerate(lanes):
            lane.wait_ready()
            print(f"model worker {i + 1}/{len(lanes)} ready ({lane.where()})", file=sys.stderr)
    except BaseException:
        for lane in lanes:
            lane.close()
        raise
    return ReplicaBackend(lanes)


def coordinator_tokenizer(spec: BackendSpec) -> Any:
    """The model's tokenizer, loaded in the coordinator as its backend loads it (the samples are built and counted
    here; the workers hold the model)."""
    from harness.core.backends import parse_model_spec
    from harness.core.backends.hf import load_tokenizer

    options = spec.options()
    path = parse_model_spec(spec.model).model
    return load_tokenizer(path, trust_remote_code=bool(options.get("trust_remote_code", False)),
                          revision=options.get("revision"))


def gpus_per_replica(spec: BackendSpec) -> int:
    """A vLLM engine's tensor-parallel size; one GPU for an hf model."""
    if spec.backend != "vllm":
        return 1
    size = spec.options().get("tensor_parallel_size", 1)
    try:
        return max(1, int(size))
    except (TypeError, ValueError):
        raise HarnessError(f"bad --model-args tensor_parallel_size={size!r}: expected a whole number") from None


def placements(spec: BackendSpec, replicas: int) -> list[tuple[dict[str, str], int | None]]:
    """Each local worker's environment and torch thread count: its GPUs, or its share of the CPU cores."""
    device = str(spec.options().get("device") or "")
    per = gpus_per_replica(spec)
    if device.startswith("cuda:"):
        raise HarnessError(f"--replicas {replicas} gives each worker its own GPUs: give --device cuda (not {device}), "
                           "and CUDA_VISIBLE_DEVICES to choose which GPUs the run may use")
    visible = [] if device.startswith(("cpu", "mps", "xpu")) else visible_gpus()
    if (device.startswith("cuda") or visible) and len(visible) < replicas * per:
        raise HarnessError(f"--replicas {replicas} x {per} GPU(s) each needs {replicas * per} GPUs; {len(visible)} visible "
                           "(CUDA_VISIBLE_DEVICES); --device cpu runs the workers on the CPU cores")
    if visible:
        return [({"CUDA_VISIBLE_DEVICES": ",".join(visible[i * per : (i + 1) * per])}, None) for i in range(replicas)]
    cores = cpu_cores()
    share = max(1, len(cores) // replicas)
    out: list[tuple[dict[str, str], int | None]] = []
    for i in range(replicas):
        mine = cores[i * share : (i + 1) * share] if share * replicas <= len(cores) else cores
        env = {"OMP_NUM_THREADS": str(share), "CUDA_VISIBLE_DEVICES": ""}
        if spec.backend == "vllm":  # one core list per tensor-parallel rank, "|" between them (vLLM's CPU format)
            if len(mine) < per:
                raise HarnessError(f"--replicas {replicas} x tensor_parallel_size={per} on the CPU needs {replicas * per} "
                                   f"cores; this process may use {len(cores)}")
            ranks = [mine[r::per] for r in range(per)]
            env["VLLM_CPU_OMP_THREADS_BIND"] = "|".join(",".join(str(c) for c in rank) for rank in ranks)
        out.append((env, share))
    return out


def visible_gpus() -> list[str]:
    """The GPUs this process may use (`CUDA_VISIBLE_DEVICES`, else every one torch sees; none without CUDA)."""
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [d.strip() for d in given.split(",") if d.strip()]
    try:
        import torch
    except ImportError:
        return []
    return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def cpu_cores() -> list[int]:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _ray_workers(spec: BackendSpec, replicas: int, address: str | None, tokenizer: Any) -> list[RemoteWorker]:
    """One Ray actor per worker: `tensor_parallel_size` (or one) GPUs each where the cluster has GPUs and the model is
    not put on the CPU, else CPU cores (the cluster's CPUs shared out)."""
    import ray

    from harness.runner.ray_workers import RayWorker, connect

    connect(address)
    device = str(spec.options().get("device") or "")
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    on_gpu = not device.startswith(("cpu", "mps", "xpu")) and resources.get("GPU", 0) > 0
    if device.startswith("cuda") and not on_gpu:
        raise HarnessError(f"--device {device}: the Ray cluster has no GPUs")
    per = gpus_per_replica(spec)
    cpus = max(1, int(resources.get("CPU", 1)) // replicas)
    env = {} if on_gpu else {"OMP_NUM_THREADS": str(cpus)}
    return [RayWorker(spec, i, per if on_gpu else 0, 0 if on_gpu else cpus, env, None if on_gpu else cpus, tokenizer)
            for i in range(replicas)]
