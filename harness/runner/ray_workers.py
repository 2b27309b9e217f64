"""Model workers as Ray actors (`harness eval --replicas N --executor ray [--ray-address ADDR]`).

Each actor loads the model on the node Ray places it on, with the GPUs Ray gives it (`num_gpus`: a vLLM worker's
tensor-parallel size, else one; Ray sets the actor's `CUDA_VISIBLE_DEVICES`) or `num_cpus` CPU cores. The coordinator
stays where the command runs and owns the samples log; a dead actor (its node lost, killed) makes its calls raise
`WorkerLost` and its samples go to the other workers.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from harness.core.backends.failures import WorkerLost
from harness.core.errors import HarnessError
from harness.core.specs import BackendSpec
from harness.runner.workers import RemoteWorker, _sendable


class ModelActor:
    """The body of a Ray actor: one loaded backend, answering calls."""

    def __init__(self, spec: BackendSpec, env: Mapping[str, str], threads: int | None) -> None:
        os.environ.update(env)
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.backend = spec.load()

    def info(self) -> dict[str, Any]:
        backend = self.backend
        return {"name": backend.name, "max_length": backend.max_length, "batch_hint": backend.batch_hint,
                "describe": backend.describe(), "pid": os.getpid(), "node": os.uname().nodename}

    def call(self, method: str, payload: Any) -> tuple[str, Any]:
        try:
            return "ok", getattr(self.backend, method)(payload)
        except Exception as error:
            return "raise", _sendable(error)

    def close(self) -> None:
        self.backend.close()


def connect(address: str | None) -> bool:
    """Join the Ray cluster at `address` (None: start a local one); True when this call started Ray."""
    try:
        import ray
    except ImportError as error:
        raise HarnessError("--executor ray needs Ray: pip install 'lc-harness[ray]'") from error
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=True, ignore_reinit_error=True)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise HarnessError(f"--ray-address {address}: could not join the Ray cluster: {str(error).splitlines()[0]}") from error
    return True


class RayWorker(RemoteWorker):
    """The backend `spec` in a Ray actor holding `gpus` GPUs (0: `cpus` CPU cores)."""

    def __init__(self, spec: BackendSpec, index: int, gpus: int, cpus: int, env: Mapping[str, str] | None = None,
                 threads: int | None = None, tokenizer: Any = None) -> None:
        import ray

        self.index = index
        self._tokenizer = tokenizer
        actor: Any = ray.remote(num_gpus=gpus, num_cpus=cpus, max_restarts=0)(ModelActor)
        self._actor: Any = actor.remote(spec, dict(env or {}), threads)  # an ActorHandle; its methods are typed loosely
        self._info: dict[str, Any] = {}

    def wait_ready(self) -> None:
        """Block until the actor has loaded its model; its load error is raised here."""
        import ray

        try:
            self._info = ray.get(self._actor.info.remote())
        except ray.exceptions.RayActorError as error:
            cause = getattr(error, "cause", None) or error
            raise HarnessError(f"model worker {self.index} (Ray actor) could not load the model: "
                               f"{str(cause).strip().splitlines()[-1]}") from error
        self.name = str(self._info["name"])

    def _call(self, method: str, payload: Any) -> Any:
        import ray

        try:
            kind, answer = ray.get(self._actor.call.remote(method, payload))
        except ray.exceptions.RayActorError as error:
            raise WorkerLost(f"model worker {self.index} (Ray actor on {self._info.get('node')}) is gone") from error
        if kind == "raise":
            raise answer
        return answer

    @property
    def pid(self) -> int | None:
        pid = self._info.get("pid")
        return int(pid) if pid is not None else None

    def where(self) -> str:
        return f"Ray actor, pid {self._info.get('pid')} on {self._info.get('node')}"

    def close(self) -> None:
        import ray

        try:
            ray.get(self._actor.close.remote(), timeout=30)
        except Exception:  # noqa: BLE001  the actor may be gone already; it is killed below either way
            pass
        ray.kill(self._actor)
