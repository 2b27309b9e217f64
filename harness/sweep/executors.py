"""Where stages run. `local`: in this process, chain after chain (one chain: a replicate of a variant),
or `jobs` chains at a time in a process pool. `ray`: every stage a Ray task with its own CPU/GPU needs,
chained by object references, on a local Ray instance or the cluster at `address`. A stage several
chains share (replicates' one synthesis, say) runs once: Ray by its id, local by the stage's lock.
Both return, per chain, the stage.json of each of its stages that ran, or the error that stopped it."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.sweep.stages import ChainKey, Stage, run_stage


@dataclass
class ChainResult:
    """What happened to one replicate of a variant: its finished stages, and the error that stopped it, if any."""

    variant: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    replicate: int = 0


def run_chain(key: ChainKey, stages: list[Stage], root: Path) -> ChainResult:
    """Run one chain's stages in order; the first failure stops the chain (others go on)."""
    result = ChainResult(key[0], replicate=key[1])
    for stage in stages:
        try:
            result.stages.append(run_stage(stage, root, lambda text: print(text, flush=True)))  # the label names the variant
        except HarnessError as error:
            result.error = str(error)
            break
    return result


def run_local(chains: dict[ChainKey, list[Stage]], root: Path, jobs: int = 1) -> list[ChainResult]:
    if jobs <= 1:
        return [run_chain(key, stages, root) for key, stages in chains.items()]
    # spawn, not fork: a forked child inherits torch's thread pools mid-state and can die in training
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {key: pool.submit(run_chain, key, stages, root) for key, stages in chains.items()}
        return [futures[key].result() for key in chains]


def _ray_stage(stage: Stage, root: str, *upstream: Any) -> dict[str, Any]:
    """A stage inside a Ray worker (upstream results arrive first: Ray resolves the references)."""
    return run_stage(stage, Path(root), lambda text: print(text, flush=True))


def run_ray(chains: dict[ChainKey, list[Stage]], root: Path, address: str | None = None) -> list[ChainResult]:
    """Each stage a Ray task (`num_cpus`, `num_gpus` from its `resources`); shared stages run once."""
    try:
        import ray
    except ImportError as error:
        raise HarnessError("--executor ray needs Ray: pip install 'lc-harness[ray]'") from error
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=True, ignore_reinit_error=True)
    remote = ray.remote(_ray_stage)
    refs: dict[str, Any] = {}
    last: dict[ChainKey, Any] = {}
    try:
        for key, stages in chains.items():
            for stage in stages:
                if stage.id not in refs:
                    upstream = [refs[need] for need in stage.needs]
                    options = {"num_cpus": stage.resources.get("num_cpus", 1), "num_gpus": stage.resources.get("num_gpus", 0),
                               "max_retries": 0}
                    refs[stage.id] = remote.options(**options).remote(stage, str(root), *upstream)
            last[key] = [refs[s.id] for s in stages]
        results = []
        for key, stage_refs in last.items():
            result = ChainResult(key[0], replicate=key[1])
            for ref in stage_refs:
                try:
                    result.stages.append(ray.get(ref))
                except Exception as error:  # a RayTaskError wrapping the stage's failure, or an upstream one
                    cause = getattr(error, "cause", None) or error
                    result.error = str(cause).strip().splitlines()[-1] if str(cause).strip() else type(cause).__name__
                    break
            results.append(result)
        return results
    finally:
        if started_here:
            ray.shutdown()
