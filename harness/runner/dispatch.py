"""Several model workers on one run (`--replicas N`, or several `--base-url` endpoints): a thread per worker takes the
next unit of the schedule (`harness.runner.schedule`) when it is free and runs the unit's batches in order.

The coordinator (this process) owns the samples log: every finished batch is written by the one `Sink`, so a kill
anywhere loses at most the batches in flight, and a rerun computes only what is missing. A worker that is lost (its
process or Ray actor died: `WorkerLost`; its server gone: the backend's abort) hands its unfinished batches back to
the front of the queue and the others take them; when the last worker is lost the run stops with the finished samples
kept. Results do not depend on which worker ran a sample (greedy decoding): only the order of the log's lines does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from harness.core.backends.base import Backend
from harness.core.backends.failures import WorkerLost
from harness.core.thinking import Thinking
from harness.judge import Judge
from harness.runner.execute import Sink
from harness.runner.plan import WorkItem
from harness.runner.schedule import Schedule, Unit, units


@dataclass
class WorkerStats:
    """What one worker did in a run (results.json `config.timings.workers`)."""

    worker: int
    where: str
    samples: int = 0
    busy_s: float = 0.0
    lost: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"worker": self.worker, "where": self.where, "samples": self.samples,
                                  "busy_s": round(self.busy_s, 3)}
        return {**out, "lost": self.lost} if self.lost else out


class _Queue:
    """The units not yet taken, and how many workers are busy; a worker waits while others may still hand work back."""

    def __init__(self, pending: list[Unit]) -> None:
        self.units: deque[Unit] = deque(pending)
        self.busy = 0
        self.alive = 0
        self.stopping = False
        self.cond = threading.Condition()

    def take(self) -> Unit | None:
        """The next unit (this worker is busy until `done`), or None when there is nothing left to do."""
        with self.cond:
            while not self.units and self.busy and not self.stopping:
                self.cond.wait()
            if self.stopping or not self.units:
                return None
            self.busy += 1
            return self.units.popleft()

    def done(self) -> None:
        with self.cond:
            self.busy -= 1
            self.cond.notify_all()

    def hand_back(self, unit: Unit) -> None:
        """Work a lost worker did not finish, first in line for the others."""
        if unit:
            with self.cond:
                self.units.appendleft(unit)
                self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


def execute_replicas(lanes: list[Backend], work: list[WorkItem], batch_size: int, output: Path,
                     judge: Judge | None = None, thinking: Thinking = Thinking(),
                     schedule: Schedule = "prefix") -> tuple[float, list[WorkerStats]]:
    """Run all work on `lanes` (one thread each); returns wall time in seconds and what each worker did."""
    started = time.perf_counter()
    queue = _Queue(units(work, batch_size, schedule))
    queue.alive = len(lanes)
    stats = [WorkerStats(i, _where(lane, i)) for i, lane in enumerate(lanes)]
    errors: list[BaseException] = []

    def split(items: list[WorkItem]) -> Unit:
        return [items[i : i + batch_size] for i in range(0, len(items), batch_size)]

    def worker(i: int) -> None:
        backend = lanes[i]
        while (unit := queue.take()) is not None:
            j = 0
            try:
                for j, batch in enumerate(unit):
                    with queue.cond:
                        last = queue.alive == 1
                    t0 = time.perf_counter()
                    abort, backend_gone = sink.run(backend, batch, None if last else lambda items: queue.hand_back(split(items)))
                    stats[i].busy_s += time.perf_counter() - t0
                    stats[i].samples += len(batch)
                    if abort and (last or not backend_gone):
                        errors.append(sink.stop(abort))
                        queue.stop()
                        return
                    if abort:  # this worker's server is gone: the rest of its unit goes to the others
                        _lose(queue, stats[i], abort, unit[j + 1 :])
                        return
            except WorkerLost as lost:
                _lose(queue, stats[i], str(lost), unit[j:])
                return
            except BaseException as error:  # noqa: BLE001  raised again in the coordinator's thread
                errors.append(error)
                queue.stop()
                return
            finally:
                queue.done()

    with tqdm(total=len(work), desc="samples", unit="sample", dynamic_ncols=True) as bar:
        sink = Sink(output, judge, thinking, bar)
        threads = [threading.Thread(target=worker, args=(i,), name=f"harness-lane-{i}", daemon=True) for i in range(len(lanes))]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
        except BaseException:
            queue.stop()
            raise
    if errors:
        raise errors[0]
    if queue.units:
        reasons = "; ".join(f"worker {s.worker}: {s.lost}" for s in stats if s.lost)
        raise sink.stop(f"all {len(lanes)} model workers were lost ({reasons})")
    return time.perf_counter() - started, stats


def _lose(queue: _Queue, stats: WorkerStats, reason: str, rest: Unit) -> None:
    """Mark a worker lost and hand its unfinished batches to the others."""
    stats.lost = reason
    with queue.cond:
        queue.alive -= 1
    queue.hand_back(rest)


def _where(lane: Backend, index: int) -> str:
    where = getattr(lane, "where", None)
    if callable(where):
        return str(where())
    return str(lane.describe().get("base_url") or f"worker {index}")
