"""Ray as the worker pool's executor (`pool.run_jobs(..., executor="ray[:ADDRESS]")`, the
`--executor` of `datagen`, `bench` and `perception scenes`; docs/design.md, The worker pool).

Each worker is a Ray actor holding one CPU: it runs `init` once (its simulator, its agent) and
then job after job, as a local worker process does. A job whose actor dies (the machine went,
the process was killed, out of memory) or that raises is given to another actor, ATTEMPTS times
in all; one that never succeeds is named in JobsFailed once every other job is done, so a bad
shard costs that shard and not the run. Results and `notify` messages come back to this
process, which alone writes the run's index files; what a job writes itself must go to a path
every worker sees (shared storage) and be renamed into place last, so a retried job lands once.
"""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Any

ATTEMPTS = 3  # tries of one job before it is reported failed


class JobsFailed(RuntimeError):
    """Jobs that failed ATTEMPTS times; the others completed."""

    def __init__(self, failures: list[tuple[str, str]]):
        self.failures = failures
        shown = "; ".join(f"{what}: {why}" for what, why in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(f"{len(failures)} job(s) failed {ATTEMPTS} times, the rest completed: {shown}{more}")


class _Inbox:
    """A Ray actor holding `notify` messages until the driver takes them."""

    def __init__(self):
        self.items: list = []

    def put(self, message: Any) -> None:
        self.items.append(message)

    def take(self) -> list:
        items, self.items = self.items, []
        return items

    def sync(self) -> None:
        """Returns once every put its caller sent before is in (Ray runs one caller's calls to
        an actor in order)."""


class _Send:
    """notify()'s target in a worker: a put the job does not wait for (Ray's Queue.put waits a
    round trip per message); the job waits once, at its end (_Worker.run)."""

    def __init__(self, inbox):
        self.inbox = inbox

    def __call__(self, message: Any) -> None:
        self.inbox.put.remote(message)


class _Worker:
    """One Ray actor: `init` once, then jobs; `notify` in a job sends to the driver's inbox."""

    def __init__(self, prepare: Callable, inbox, init: Callable | None, initargs: tuple):
        prepare(_Send(inbox) if inbox is not None else None, init, initargs)  # pool._prepare_worker
        self.inbox = inbox
        self.where = f"{socket.gethostname()}:{os.getpid()}"

    def run(self, work: Callable, job: tuple) -> tuple[str, Any]:
        result = work(*job)
        if self.inbox is not None:  # the job's messages reach the driver before its result
            _ray().get(self.inbox.sync.remote())
        return self.where, result


def _ray():
    try:
        import ray
    except ImportError:
        raise ValueError("--executor ray needs Ray: pip install 'cognitivedrone[cluster]' (ray>=2.40)") from None
    return ray


def run_on_ray(address: str | None, jobs: list[tuple], work: Callable, init: Callable | None, initargs: tuple,
               workers: int, on_result: Callable[[Any], None], on_message: Callable[[Any], None] | None,
               describe: Callable[[tuple], str], log: Callable[[str], None], prepare: Callable) -> None:
    ray = _ray()
    from ray.exceptions import RayActorError, RayTaskError

    started = not ray.is_initialized()
    if started:
        try:
            # No address: a Ray of its own on this machine, ended with the run. An address joins
            # that cluster (and leaves it running).
            ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=True)
        except ConnectionError as exc:
            raise ValueError(f"--executor ray:{address}: cannot reach the Ray cluster ({exc})") from None
    actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Worker)
    messages = ray.remote(num_cpus=0)(_Inbox).remote() if on_message is not None else None
    size = max(1, min(workers, len(jobs)))
    idle = deque(actor_class.remote(prepare, messages, init, initargs) for _ in range(size))
    todo = deque(range(len(jobs)))
    tries = [0] * len(jobs)
    running: dict[Any, tuple[Any, int, float]] = {}  # ref -> (actor, job, when it was handed out)
    failures: list[tuple[str, str]] = []
    per_worker: dict[str, list[float]] = {}  # where -> [jobs, seconds]
    lost = 0  # actors that died

    def drain() -> None:
        if messages is not None:
            for m in ray.get(messages.take.remote()):
                on_message(m)

    try:
        while todo or running:
            while todo and idle:
                actor, job = idle.popleft(), todo.popleft()
                running[actor.run.remote(work, jobs[job])] = (actor, job, time.perf_counter())
            # Once a second at most when no job ends: on a small machine the driver shares the
            # workers' cores, and each look is a round trip to Ray.
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            drain()
            for ref in ready:
                actor, job, t0 = running.pop(ref)
                try:
                    where, result = ray.get(ref)
                except RayActorError as exc:  # the worker is gone: a new one takes its place
                    lost += 1
                    idle.append(actor_class.remote(prepare, messages, init, initargs))
                    why = f"its worker died ({type(exc).__name__})"
                except RayTaskError as exc:
                    idle.append(actor)
                    cause = exc.cause if exc.cause is not None else exc
                    why = f"{type(cause).__name__}: {str(cause).splitlines()[0][:200] if str(cause) else ''}"
                else:
                    idle.append(actor)
                    stats = per_worker.setdefault(where, [0, 0.0])
                    stats[0] += 1
                    stats[1] += time.perf_counter() - t0
                    on_result(result)
                    continue
                tries[job] += 1
                if tries[job] < ATTEMPTS:
                    log(f"ray: {describe(jobs[job])} failed ({why}); trying again ({tries[job] + 1} of {ATTEMPTS})")
                    todo.append(job)
                else:
                    failures.append((describe(jobs[job]), why))
        drain()
    finally:
        for actor in list(idle) + [a for a, _, _ in running.values()]:
            ray.kill(actor)
        if messages is not None:
            ray.kill(messages)
        if started:
            ray.shutdown()
    for where, (n, seconds) in sorted(per_worker.items()):
        log(f"ray: worker {where}: {n} job(s), {seconds / n:.2f} s each")
    if lost:
        log(f"ray: {lost} worker(s) died and were replaced")
    if failures:
        raise JobsFailed(failures)
