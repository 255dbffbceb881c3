"""Pilot: the fast loop (policy every frame), the slow loop (reasoner), and the safety filter.

The fast loop never waits for the reasoner. It acts on the newest instruction it has: the user's
own until a rewrite is accepted, then the last accepted rewrite. The reasoner runs on the latest
frame at `reasoner_hz`, either in a background thread on the wall clock (`threaded`, for real
flights and ROS) or in step with the simulation clock (`sim`, for the benchmark: deterministic,
the answer taking effect from the next frame on). A rewrite is accepted only if it parses as the
simple form (`reasoning.simple_form`); the policy then gets the canonical sentence rebuilt from
it. A timeout, an exception or an unusable answer keeps the current instruction and logs a
warning. Every command leaves through the SafetyFilter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cognitivedrone.policy.inputs import check_image
from cognitivedrone.reasoning.base import Reasoner, Rewrite
from cognitivedrone.reasoning.loop import ReasonerLoop, ReasonerStats, accept
from cognitivedrone.safety import SafetyFilter
from cognitivedrone.types import VelocityCommand

log = logging.getLogger("cognitivedrone.pilot")

MODES = ("threaded", "sim")


@dataclass(frozen=True)
class PilotConfig:
    reasoner_hz: float = 2.0
    reasoner_timeout_s: float = 5.0  # an answer later than this is dropped (threaded mode)
    mode: str = "threaded"
    # With a reasoner, hover after a new instruction until its first answer (or failure) is in,
    # for at most this long: starting off on the words the reasoner is about to rewrite sends the
    # drone towards a gate it may then have to turn away from (measured: 16 of 300 episodes lost).
    first_answer_wait_s: float = 2.0
    # Rewrites come from elsewhere (offer_rewrite: the ROS reasoner_node), not from an in-process
    # reasoner: wait for the first one all the same.
    external_rewrites: bool = False

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"Pilot mode must be one of {MODES}, got {self.mode!r}")
        if not self.reasoner_hz > 0 or not self.reasoner_timeout_s > 0 or self.first_answer_wait_s < 0:
            raise ValueError("reasoner_hz and reasoner_timeout_s must be > 0, first_answer_wait_s >= 0")


@dataclass
class PilotStats(ReasonerStats):
    frames: int = 0
    dropped_frames: int = 0  # malformed images: not acted on
    policy_errors: int = 0


class Pilot:
    def __init__(self, engine, reasoner: Reasoner | None = None, safety: SafetyFilter | None = None,
                 config: PilotConfig = PilotConfig(), warn: Callable[[str], None] | None = None):
        """`warn`: where warnings go (a ROS node passes its throttled logger); default: logging."""
        self.engine = engine
        self.reasoner = reasoner
        self._warn_to = warn
        self.safety = safety or SafetyFilter()
        self.config = config
        self.stats = PilotStats()
        self._lock = threading.Lock()
        self._user = ""
        self._active: tuple[str, np.ndarray] | None = None  # (instruction, embedding): swapped whole
        self._generation = 0  # bumped by set_instruction: answers about an older one are dropped
        self.rewrite_target = None  # what the last accepted rewrite names (reasoning.simple_form.Target)
        self._last_cmd = VelocityCommand.hover()
        self.last_slow_s = 0.0
        self._answered = True
        self._wait_since = None
        self._last_frame_t: float | None = None
        self._next_reason_t: float | None = None
        self._pending: tuple[int, Rewrite] | None = None  # sim mode: applied at the next frame
        self._loop: ReasonerLoop | None = None
        if reasoner is not None:
            self._loop = ReasonerLoop(reasoner, config.reasoner_hz, config.reasoner_timeout_s, self._on_answer,
                                      self.stats, self._warn)
            if config.mode == "threaded":
                self._loop.start()

    # -- instructions -------------------------------------------------------------------------------
    def set_instruction(self, text: str) -> None:
        """The user's instruction. Embeds it here (slow, once per instruction), not in on_frame."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("an instruction is a non-empty string")
        emb = self.engine.embed(text)
        if self.reasoner is not None and self.config.mode == "sim":
            self.reasoner.reset()  # threaded: the slow loop resets it, between calls
        with self._lock:
            self._user = text
            self._active = (text, emb)
            self._generation += 1
            self._pending = None
            self._next_reason_t = None
            self.rewrite_target = None
            # Nothing to wait for without a reasoner here or elsewhere.
            self._answered = self.reasoner is None and not self.config.external_rewrites
            self._wait_since: float | None = None
            generation = self._generation
        if self._loop is not None:
            self._loop.set_task(generation, text)

    def offer_rewrite(self, text: str, for_instruction: str) -> bool:
        """A rewrite from outside (the ROS reasoner_node) of `for_instruction`, checked as the
        in-process reasoner's answers are. Ignored unless that is the current instruction (an
        answer about the last one can arrive after a new one). True if the policy now acts on it."""
        with self._lock:
            generation, user = self._generation, self._user
        if not user or for_instruction != user:
            return False
        accepted = self._apply(generation, Rewrite(text if isinstance(text, str) else ""))
        if accepted:
            self._mark_answered(generation)
        return accepted

    @property
    def instruction(self) -> str:
        """What the policy is acting on now (the user's, or the last accepted rewrite)."""
        active = self._active
        return active[0] if active else ""

    @property
    def user_instruction(self) -> str:
        """The instruction as the user gave it (what rewrites are about)."""
        return self._user

    def estop(self, engage: bool = True) -> None:
        (self.safety.engage_estop if engage else self.safety.release_estop)()

    # -- the fast loop --------------------------------------------------------------------------------
    def on_frame(self, image, t: float, altitude_m: float | None = None, reasoner_image=None,
                 taken_t: float | None = None) -> VelocityCommand:
        """One camera frame at time `t` (s) -> the command to send now. `reasoner_image`: a sharper
        frame for the reasoner (an array, or a callable returning one, called only when the
        reasoner runs); default: the policy's frame. `taken_t`: when the camera took it, on the
        same clock (default `t`): how fresh the view is counts from then, not from its arrival."""
        try:
            image = check_image(image, self.engine.image_size)
        except ValueError as exc:
            self.stats.dropped_frames += 1
            self._warn(f"dropped a frame: {exc}")
            return self.safety.filter(VelocityCommand(float("nan")), t, self._last_frame_t, altitude_m)
        self.stats.frames += 1
        self._last_frame_t = t if taken_t is None else min(taken_t, t)
        if self._loop is not None:
            frame = reasoner_image if reasoner_image is not None else image
            if self.config.mode == "sim":
                t0 = time.perf_counter()
                self._sim_slow_loop(frame, t)
                self.last_slow_s = time.perf_counter() - t0  # so hosts can time the fast path alone
            else:
                self._loop.offer_frame(frame)
        active = self._active
        if active is None:
            self._last_cmd = VelocityCommand.hover()  # what tick() repeats between frames
            return self.safety.filter(VelocityCommand.hover(), t, t, altitude_m)  # no instruction yet
        if not self._answered:
            self._wait_since = t if self._wait_since is None else self._wait_since
            if t - self._wait_since < self.config.first_answer_wait_s:
                self._last_cmd = VelocityCommand.hover()
                return self.safety.filter(VelocityCommand.hover(), t, self._last_frame_t, altitude_m)
        try:
            cmd = self.engine.act(image, active[1])
        except Exception as exc:  # the engine failing must not take the drone down with it
            self.stats.policy_errors += 1
            self._warn(f"policy failed: {exc!r}")
            cmd = VelocityCommand(float("nan"))
        self._last_cmd = cmd
        return self.safety.filter(cmd, t, self._last_frame_t, altitude_m)

    def tick(self, t: float, altitude_m: float | None = None) -> VelocityCommand:
        """For hosts on a timer between frames: the last policy command again, filtered (so it
        turns to hover once the newest frame is more than `stale_after_s` old)."""
        return self.safety.filter(self._last_cmd, t, self._last_frame_t, altitude_m)

    # -- the slow loop -------------------------------------------------------------------------------
    def _sim_slow_loop(self, image, t: float) -> None:
        if not self._user:
            return
        if self._pending is not None:
            self._on_answer(*self._pending)
            self._pending = None
        if self._next_reason_t is None or t >= self._next_reason_t - 1e-9:
            self._next_reason_t = t + 1.0 / self.config.reasoner_hz
            gen, user = self._generation, self._user
            rw = self._loop.ask(user, image)
            if rw is not None:
                self._pending = (gen, rw)  # used from the next frame on: the answer takes time
            else:
                self._on_answer(gen, None)

    def _on_answer(self, generation: int, rw: Rewrite | None) -> None:
        """An answer (None: the call failed, so fly on the user's words) about instruction
        `generation`: from the slow loop's thread, or in step with the frames in sim mode."""
        if rw is not None:
            self._apply(generation, rw)
        if rw is None or rw.text.strip():  # failed, or answered; an abstention keeps waiting
            self._mark_answered(generation)

    def _apply(self, generation: int, rw: Rewrite) -> bool:
        target = accept(rw, self.stats, self._warn)
        if target is None:
            return False
        sentence = target.sentence()
        active = self._active
        try:  # the same answer again (the usual case at 2 Hz) needs no new embedding
            emb = active[1] if active is not None and active[0] == sentence else self.engine.embed(sentence)
        except Exception as exc:
            self.stats.reasoner_errors += 1
            self._warn(f"could not embed the rewrite {sentence!r}: {exc!r}")
            return False
        with self._lock:
            if generation != self._generation:
                return False  # the user gave a new instruction meanwhile
            self._active = (sentence, emb)
            self.rewrite_target = target
        self.stats.rewrites_accepted += 1
        return True

    def _mark_answered(self, generation: int) -> None:
        with self._lock:  # not after a set_instruction that began a new wait
            if generation == self._generation:
                self._answered = True

    def _warn(self, msg: str) -> None:
        self.stats.last_warning = msg
        (self._warn_to or log.warning)(msg)

    # -- lifecycle -------------------------------------------------------------------------------------
    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
        if self.reasoner is not None:
            self.reasoner.close()

    def __enter__(self) -> "Pilot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
