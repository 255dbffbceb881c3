"""The one worker pool of the long jobs (`bench`, `datagen`, `perception scenes`): jobs spread over
workers, each of which builds its simulator (and agent) once in `init`, when it has one, and
reuses it for every job it gets.

Results reach the parent as jobs finish (`on_result`, in the parent); a job may also report
progress while it runs with `notify(message)` (`on_message`, in the parent), e.g. one message per
episode of a datagen shard.

Where the workers run is the executor (`--executor`): `local`, spawned processes on this machine
(with `workers <= 1` everything runs in this process, which is what a debugger and the tests
want; workers end with their parent, even one killed by SIGKILL); or `ray[:ADDRESS]`, Ray actors
on a cluster (`ray.init(address=ADDRESS)`; no address: a Ray of its own on this machine), see
pool_ray.py. A job is the same on both (an episode shard keyed by its seeds), so the results do
not depend on the executor.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable

from cognitivedrone.pool_ray import JobsFailed  # noqa: F401 - raised by run_jobs on Ray, for its callers

PR_SET_PDEATHSIG = 1  # linux/prctl.h

_target: Any = None  # where notify() sends: a callback (in-process, a Ray sender) or a local worker's queue


def _prepare_worker(target: Any, init: Callable | None, initargs: tuple) -> None:
    """What every worker does first, wherever it runs (a spawned process, a Ray actor, this
    process): where notify() sends, one BLAS/OpenMP thread (the workers are the parallelism), its
    own `init`."""
    global _target
    _target = target
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if init is not None:
        init(*initargs)


def notify(message: Any) -> None:
    """From inside a job: hand `message` to the parent's `on_message` (dropped when it has none)."""
    if _target is None:
        return
    if callable(_target):
        _target(message)
    else:
        _target.put(message)


def _die_with_parent(parent: int) -> None:
    """A parent killed by SIGKILL cannot shut its pool down, and a worker waiting on the task
    queue never sees it go (the workers hold the queue's write end too): have the kernel send
    SIGTERM when the parent dies (Linux; strictly, when the thread that started this worker
    ends: run_jobs submits and shuts the pool down on one thread), else poll for it. Checked
    once after, in case the parent died before this ran."""
    try:
        import ctypes

        armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) == 0
    except (OSError, AttributeError):  # not Linux
        armed = False
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _start_worker(parent: int, messages, init: Callable | None, initargs: tuple) -> None:
    _die_with_parent(parent)
    _prepare_worker(messages, init, initargs)


EXECUTORS = "local, ray, or ray:ADDRESS (a Ray cluster: auto, HOST:PORT or ray://HOST:10001)"


def parse_executor(text: str) -> tuple[str, str | None]:
    """'local' -> ('local', None); 'ray' -> ('ray', None); 'ray:ADDRESS' -> ('ray', ADDRESS)."""
    kind, _, address = str(text).strip().partition(":")
    if kind == "local" and not address:
        return "local", None
    if kind == "ray":
        return "ray", address or None
    raise ValueError(f"--executor {text!r}: expected {EXECUTORS}")


def run_jobs(jobs: Iterable[tuple], work: Callable, init: Callable | None = None, initargs: tuple = (), workers: int = 2,
             on_result: Callable[[Any], None] = lambda r: None, on_message: Callable[[Any], None] | None = None,
             close: Callable[[], None] | None = None, executor: str = "local",
             describe: Callable[[tuple], str] = lambda job: f"job {job[0]!r}", log: Callable[[str], None] = print) -> None:
    """Run `work(*job)` for every job; `init(*initargs)` first in each worker. `work` and `init`
    must be module-level functions (they are pickled by name). `close` ends the in-process run.
    Results come in the order jobs finish, not the order given. On Ray a job whose worker dies
    or that raises is tried again, three times in all; `describe(job)` names one that never
    succeeds in the JobsFailed raised once every other job is done, and `log` gets each
    worker's throughput."""
    global _target
    jobs = list(jobs)
    if not jobs:
        return
    kind, address = parse_executor(executor)
    if kind == "ray":
        from cognitivedrone.pool_ray import run_on_ray

        run_on_ray(address, jobs, work, init, initargs, workers, on_result, on_message, describe, log, _prepare_worker)
        return
    if workers <= 1:
        try:
            _prepare_worker(on_message, init, initargs)
            for job in jobs:
                on_result(work(*job))
        finally:
            _target = None
            if close is not None:
                close()
        return
    ctx = mp.get_context("spawn")
    messages = ctx.Queue() if on_message is not None else None

    def drain() -> None:
        while messages is not None:
            try:
                on_message(messages.get_nowait())
            except queue.Empty:
                return

    pool = ProcessPoolExecutor(min(workers, len(jobs)), mp_context=ctx, initializer=_start_worker,
                               initargs=(os.getpid(), messages, init, initargs))
    try:
        pending = {pool.submit(work, *job) for job in jobs}
        while pending:
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            drain()
            for fut in finished:
                on_result(fut.result())
        drain()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    drain()
