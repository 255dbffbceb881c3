"""The slow loop: ask a reasoner about the latest frame at a fixed rate, off the caller's thread.

Shared by Pilot (reasoner in the same process as the policy) and the ROS `reasoner_node` (its own
process). A call that raises, returns something other than a Rewrite, or outlasts `timeout_s`
counts as no answer (None) and is logged; the loop goes on. While a timed-out call is still
running, no new one starts: a hung backend holds one worker thread, not one per period.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from cognitivedrone.reasoning.base import Reasoner, Rewrite

log = logging.getLogger("cognitivedrone.reasoning")


class ThrottledLog:
    """Each distinct warning at most once per `period_s` in a process: a server that is down fails
    every call, in every episode, and the same line at 2 Hz would bury everything else. How many
    were held back goes out with the next report of it; the counts themselves are in the stats
    (and a benchmark's report)."""

    def __init__(self, period_s: float = 30.0, emit: Callable[[str], None] = log.warning):
        self.period_s, self.emit = period_s, emit
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, msg: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(msg, -float("inf")) < self.period_s:
                self._held[msg] = self._held.get(msg, 0) + 1
                return
            held = self._held.pop(msg, 0)
            self._last[msg] = now
        self.emit(msg + (f" (and {held} more time(s) in the last {self.period_s:g} s)" if held else ""))


_warn_once_in_a_while = ThrottledLog()


@dataclass
class ReasonerStats:
    reasoner_calls: int = 0
    reasoner_answers: int = 0  # calls that returned something, however late (accept() judges it)
    rewrites_accepted: int = 0
    rewrites_rejected: int = 0  # answers that are not a Rewrite, or name no gate or object
    reasoner_abstained: int = 0  # empty answers: nothing to say about that frame
    reasoner_errors: int = 0  # exceptions
    reasoner_timeouts: int = 0
    reasoner_latency_s: deque = field(default_factory=lambda: deque(maxlen=1000))  # the latest calls
    last_warning: str = ""


def accept(rw: Rewrite, stats: ReasonerStats, warn: Callable[[str], None]):
    """The simple-form Target an answer names, or None: an empty answer is an abstention, one that
    names no gate or object is rejected (counted and warned about). Only the Target goes on: the
    policy gets the sentence rebuilt from it, never the backend's own words."""
    from cognitivedrone.tasks.simple_form import parse_simple_form

    if not rw.text.strip():
        stats.reasoner_abstained += 1
        return None
    target = parse_simple_form(rw.text)
    if target is None:
        stats.rewrites_rejected += 1
        warn(f"rewrite {rw.text[:120]!r} names no gate or object; ignored")
    return target


class ReasonerLoop:
    """`on_answer(task, rewrite_or_None)` is called from the loop's thread after each call about
    task `task` (set_task); the host decides what an answer about an older task is worth. The
    loop resets the reasoner (Reasoner.reset) before its first call about a new task, from its
    own thread, when no call is running: a reset from outside could land while a call about the
    old task is starting and let it write the old scene's answer into the new task's memory."""

    def __init__(self, reasoner: Reasoner, hz: float, timeout_s: float,
                 on_answer: Callable[[int, Rewrite | None], None], stats: ReasonerStats | None = None,
                 warn: Callable[[str], None] | None = None):
        if not hz > 0 or not timeout_s > 0:
            raise ValueError("the reasoner's rate and timeout must be > 0")
        self.reasoner, self.period, self.timeout_s = reasoner, 1.0 / hz, timeout_s
        self.on_answer = on_answer
        self.stats = stats if stats is not None else ReasonerStats()
        self.warn = warn or self._log_warning
        self._task: tuple[int, str] | None = None
        self._frame = None
        self._closed = threading.Event()
        self._wake = threading.Event()
        self._settled = threading.Event()  # the call in flight is done, or the loop is closing
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._call: Future | None = None
        self._asked_task: int | None = None

    def start(self) -> "ReasonerLoop":
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reasoner-call")
        self._thread = threading.Thread(target=self._run, name="reasoner-loop", daemon=True)
        self._thread.start()
        return self

    def set_task(self, task: int, instruction: str) -> None:
        """A new instruction: asked about from the next frame on, without waiting out the period."""
        self._task = (task, instruction)
        self._wake.set()

    def offer_frame(self, frame) -> None:
        """The newest frame (an array, or a callable returning one, called only when asked)."""
        self._frame = frame

    def reset_reasoner(self) -> None:
        """Reasoner.reset(); a reset that raises is counted and warned about, and the loop goes
        on (the backend may then carry an answer over: its problem is now visible in stats)."""
        try:
            self.reasoner.reset()
        except Exception as exc:
            self.stats.reasoner_errors += 1
            self.warn(f"reasoner reset failed ({exc!r}); asking it all the same")

    def ask_within_timeout(self, instruction: str, image) -> Rewrite | None:
        """`ask` on the loop's worker thread, waiting at most `timeout_s` (the benchmark's sim
        mode: a hung backend must not hang the run). While a timed-out call is still running,
        the next is not started: None at once."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reasoner-call")
        if self._call is not None and not self._call.done():
            self.stats.reasoner_timeouts += 1
            return None
        self._call = self._pool.submit(self.ask, instruction, image)
        return self._await(self._call)

    def ask(self, instruction: str, image) -> Rewrite | None:
        """One call, here and now: the answer, or None if it failed."""
        self.stats.reasoner_calls += 1
        t0 = time.perf_counter()
        try:
            rw = self.reasoner.rewrite(instruction, image() if callable(image) else image)
        except Exception as exc:
            self.stats.reasoner_errors += 1
            self.warn(f"reasoner failed ({exc!r}); keeping the current instruction")
            return None
        self.stats.reasoner_latency_s.append(time.perf_counter() - t0)
        self.stats.reasoner_answers += 1
        if not isinstance(rw, Rewrite) or not isinstance(rw.text, str):
            self.stats.rewrites_rejected += 1
            self.warn(f"reasoner returned {type(rw).__name__}, not a Rewrite; ignored")
            return None
        return rw

    def _run(self) -> None:
        while not self._closed.is_set():
            started = time.monotonic()
            self._wake.clear()  # before reading the task: a set_task from now on wakes the next wait
            try:
                if self._step():
                    return
            except Exception as exc:  # a bug here must not end the slow loop silently
                self.stats.reasoner_errors += 1
                self.warn(f"the reasoner loop failed ({exc!r}); going on")
            self._wake.wait(max(0.0, self.period - (time.monotonic() - started)))

    def _step(self) -> bool:
        """One period: ask about the newest frame if nothing is running. True once closed."""
        frame, task = self._frame, self._task
        if frame is not None and task is not None and task[1] and (self._call is None or self._call.done()):
            if task[0] != self._asked_task:
                self._asked_task = task[0]
                self.reset_reasoner()
            self._call = self._pool.submit(self.ask, task[1], frame)
            rw = self._await(self._call)
            if self._closed.is_set():
                return True  # closed meanwhile: touch nothing (the host may be going away)
            self.on_answer(task[0], rw)
        return False

    def _await(self, call: Future) -> Rewrite | None:
        """The call's answer, None on timeout; returns early once closed, so close() can join this
        thread instead of leaving it to wake up during interpreter shutdown. One wait, woken by the
        answer or by close(): polling would wake this thread (and take the GIL) every few ms
        beside the fast loop (measured: +21 % at the fast loop's p99 with a 50 ms poll)."""
        self._settled.clear()
        call.add_done_callback(lambda _: self._settled.set())
        self._settled.wait(self.timeout_s)
        if self._closed.is_set():
            return None
        if not call.done():
            self.stats.reasoner_timeouts += 1
            self.warn(f"reasoner gave no answer within {self.timeout_s:g} s; keeping the current instruction")
            return None
        return call.result()

    def _log_warning(self, msg: str) -> None:
        self.stats.last_warning = msg
        _warn_once_in_a_while(msg)

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        self._settled.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
