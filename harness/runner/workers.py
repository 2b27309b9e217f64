"""Model workers in their own processes: one backend each, driven by the coordinator through a pipe.

`ProcessWorker` is a `Backend` in the coordinator's process; every call is sent to a spawned process that loaded the
model itself (its own device: `CUDA_VISIBLE_DEVICES`, a CPU thread count, vLLM's CPU core binding) and its answer
comes back. Requests and answers are the backends' own dataclasses (pickled); an exception raised by the backend is
raised again in the coordinator, so failed requests (`RequestsFailed`) are recorded as in a one-process run. A worker
that dies (killed, out of memory) makes the call raise `WorkerLost`; a worker whose coordinator dies reads the end of
its pipe and exits.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Mapping, Sequence

from harness.core.backends.base import Backend, Generation, GenerationRequest, Loglikelihood, LoglikelihoodRequest
from harness.core.backends.failures import WorkerLost
from harness.core.errors import HarnessError
from harness.core.specs import BackendSpec

READY_TIMEOUT_S = 3600.0  # loading a large model onto its GPUs can take long; a dead worker is noticed at once
CLOSE_TIMEOUT_S = 10.0


class RemoteWorker(Backend):
    """A backend whose model lives elsewhere (a process, a Ray actor): every call goes through `_call`; the tokenizer
    is the coordinator's own copy and the model's facts (`_info`) come back once the worker is ready."""

    index: int
    _tokenizer: Any
    _info: dict[str, Any]

    def wait_ready(self) -> None:
        """Block until the worker has loaded its model; its load error is raised here."""
        raise NotImplementedError

    def where(self) -> str:
        """Where the worker runs (for progress lines)."""
        raise NotImplementedError

    def _call(self, method: str, payload: Any) -> Any:
        """Run the worker's backend method `method` on `payload`; its exception raised here, `WorkerLost` when gone."""
        raise NotImplementedError

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        result: list[Generation] = self._call("generate", list(requests))
        return result

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        result: list[Loglikelihood] = self._call("loglikelihood", list(requests))
        return result

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def max_length(self) -> int:
        return int(self._info["max_length"])

    @property
    def batch_hint(self) -> int:
        return int(self._info["batch_hint"])

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = self._info["describe"]
        return described


class ProcessWorker(RemoteWorker):
    """The backend `spec` loaded in a spawned process with `env` set before anything is imported."""

    def __init__(self, spec: BackendSpec, index: int, env: Mapping[str, str] | None = None, threads: int | None = None,
                 tokenizer: Any = None) -> None:
        self.index = index
        self.env = dict(env or {})
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        # not a daemon: a vLLM engine starts processes of its own, which a daemonic process may not; the worker
        # exits when its pipe closes (the coordinator gone) and `close` runs at exit
        self._process = context.Process(target=serve, args=(spec, child, self.env, threads), daemon=False,
                                        name=f"harness-worker-{index}")
        self._lock = threading.Lock()
        self._tokenizer = tokenizer
        self._process.start()
        child.close()
        self._info: dict[str, Any] = {}
        atexit.register(self.close)  # before multiprocessing's own exit handler, which would wait for the worker

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Block until the worker has loaded its model; its load error (or death) is raised here."""
        deadline = time.monotonic() + timeout
        while not self._conn.poll(0.2):
            if not self._process.is_alive():
                raise HarnessError(f"model worker {self.index} exited while loading the model (exit code "
                                   f"{self._process.exitcode})")
            if time.monotonic() > deadline:
                self.close()
                raise HarnessError(f"model worker {self.index} did not load the model in {timeout:.0f} s")
        kind, payload = self._receive()
        if kind == "raise":
            self.close()
            raise payload
        self._info = payload
        self.name = str(payload["name"])

    def _receive(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self._conn.recv()
            return message
        except (EOFError, OSError) as error:
            self._process.join(1.0)
            raise WorkerLost(f"model worker {self.index} (pid {self.pid}) is gone (exit code {self._process.exitcode})") from error

    def _call(self, method: str, payload: Any) -> Any:
        with self._lock:
            try:
                self._conn.send((method, payload))
            except (OSError, ValueError) as error:
                raise WorkerLost(f"model worker {self.index} (pid {self.pid}) is gone") from error
            kind, answer = self._receive()
        if kind == "raise":
            raise answer
        return answer

    def where(self) -> str:
        """Where the worker runs: its process and device settings (for progress lines)."""
        placed = ", ".join(f"{k}={v}" for k, v in sorted(self.env.items()) if k in PLACEMENT_VARS)
        return f"pid {self.pid}" + (f", {placed}" if placed else "")

    def close(self) -> None:
        """Ask the worker to exit; kill it when it does not."""
        if self._process.is_alive():
            if self._lock.acquire(timeout=CLOSE_TIMEOUT_S):  # a call still in flight: the worker is killed below
                try:
                    self._conn.send(("close", None))
                except (OSError, ValueError):
                    pass
                finally:
                    self._lock.release()
            self._process.join(CLOSE_TIMEOUT_S)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(CLOSE_TIMEOUT_S)
        self._conn.close()


PLACEMENT_VARS = ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "VLLM_CPU_OMP_THREADS_BIND")


def serve(spec: BackendSpec, conn: Connection, env: Mapping[str, str], threads: int | None) -> None:
    """A worker process: set its environment, load the model, answer calls until told to close or the pipe ends."""
    os.environ.update(env)
    if threads:
        import torch

        torch.set_num_threads(threads)
    try:
        backend = spec.load()
    except BaseException as error:  # the load error goes to the coordinator, which raises it with its message
        conn.send(("raise", _sendable(error)))
        return
    conn.send(("ok", {"name": backend.name, "max_length": backend.max_length, "batch_hint": backend.batch_hint,
                      "describe": backend.describe()}))
    try:
        while True:
            try:
                method, payload = conn.recv()
            except (EOFError, OSError):  # the coordinator is gone
                return
            if method == "close":
                return
            try:
                conn.send(("ok", getattr(backend, method)(payload)))
            except Exception as error:  # a backend's failure is the coordinator's to record, as in one process
                conn.send(("raise", _sendable(error)))
    finally:
        backend.close()


def _sendable(error: BaseException) -> BaseException:
    """`error` if it survives pickling, else a HarnessError with its message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return HarnessError(f"{type(error).__name__}: {error}")
