"""Pilot: the fast loop (policy every frame), the slow loop (reasoner), and the safety filter.

The fast loop never waits for the reasoner. It acts on the newest instruction it has: the user's
own until a rewrite is accepted, then the last accepted rewrite. The reasoner runs on the latest
frame at `reasoner_hz`, either in a background thread on the wall clock (`threaded`, for real
flights and ROS) or in step with the simulation clock (`sim`, for the benchmark: deterministic,
the answer taking effect from the next frame on). A rewrite is accepted only if it parses as the
simple form (`reasoning.simple_form`); the policy then gets the canonical sentence rebuilt from
it. A timeout, an exception or an unusable answer keeps the current instruction and logs a
warning. Every command leaves through the SafetyFilter.

Doubt means hover (docs/design.md, "Doubt"). Before the policy sees a frame, the FrameGuard
judges whether it can be flown on (too dark, overexposed, flat, noise, frozen): if not, the
Pilot hovers at once. When the policy says the gate has not been in view for `search_after_s`
(PolicyEngine.act_with_view), the Pilot stops translating and turns in place to look for it,
for at most `search_max_s`, then hovers. `status` says which of these holds now ("" when the policy
flies), and PilotStats counts the frames of each.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cognitivedrone.frame_guard import FrameGuard, FrameGuardConfig
from cognitivedrone.policy.inputs import check_image
from cognitivedrone.reasoning.base import Reasoner, Rewrite
from cognitivedrone.reasoning.loop import ReasonerLoop, ReasonerStats, accept
from cognitivedrone.safety import SafetyFilter, finite_or_none
from cognitivedrone.types import VelocityCommand

log = logging.getLogger("cognitivedrone.pilot")

MODES = ("threaded", "sim")
# Longer instructions are refused, not embedded: the text model reads 256 tokens at most, and
# embedding 10 MB of text held a ROS node's only thread for 3.9 s (no watchdog hover meanwhile).
MAX_INSTRUCTION_CHARS = 2000


def check_instruction(text) -> str:
    """The instruction, stripped; ValueError if it is not one (empty, not text, too long)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("an instruction is a non-empty string")
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise ValueError(f"an instruction of {len(text):,} characters; at most {MAX_INSTRUCTION_CHARS:,} are taken")
    return text.strip()


@dataclass(frozen=True)
class PilotConfig:
    reasoner_hz: float = 2.0
    reasoner_timeout_s: float = 5.0  # an answer later than this is dropped (threaded mode)
    mode: str = "threaded"
    # With a reasoner, wait after a new instruction (hover, then look around) until its first
    # answer (or failure) is in, for at most this long: starting off on the words the reasoner is
    # about to rewrite sends the drone towards a gate it may then have to turn away from
    # (measured: 16 of 300 episodes lost).
    first_answer_wait_s: float = 5.0
    # Looking around while waiting: after `look_around_after_s` with no answer, turn in place
    # `look_around_rad` one way, twice that back and return, at `look_around_rate` rad/s, holding
    # `look_around_dwell_s` at either end (4 s at the defaults, so the default wait holds it all).
    # A narrow camera (a RealSense's 69°) shows two of three billboards from the start; the offline
    # reasoner adds up what its views show (reasoning/offline/memory.py). 0 turns nothing. An
    # answer, or the wait's end, ends the turn.
    look_around_after_s: float = 1.0
    look_around_rad: float = 0.45
    look_around_rate: float = 0.6
    # Held at each end of the turn: what only the turn's ends show, the billboard a narrow camera
    # misses from the start, is then seen in more than one of the reasoner's views. Measured with
    # the offline reasoner on randomized (300 episodes, original prompts): 92.3 % without, 94.0 %
    # with 0.5 s (and the wait 4 -> 5 s); on its episodes with a camera under 75°, 81.4 -> 82.5 %.
    look_around_dwell_s: float = 0.5
    # Then turn to face the billboard of the gate the answer names, where the reasoner says where it
    # stood (Rewrite.target_u: the offline reasoner does) and the camera's horizontal field of view
    # is known, for at most face_answer_max_s more: with a narrow camera the gate may be out of view
    # from where the drone started. Heading is what the Pilot itself commanded since the
    # instruction (no odometry needed). Sim mode only: a threaded loop's answer does not say which
    # frame it came from.
    face_answer: bool = True
    camera_hfov_deg: float | None = None
    face_answer_max_s: float = 2.0
    # ...but only as far as brings the billboard within this share of half the field of view off
    # the centre: a gate already well in view is left to the policy, which flies a curve through it
    # (facing small gates off to the side head-on, straight at them, flew 6 of 300 classic
    # episodes into a bar).
    face_within: float = 0.5
    # Finish looking around even when an answer came early: the first view may not hold the
    # billboard that answers "the earliest letter", and the reasoner's answer changes as its views
    # add up. Costs first_answer_wait_s once per instruction, only where a reasoner rewrites.
    survey: bool = True
    # Rewrites come from elsewhere (offer_rewrite: the ROS reasoner_node), not from an in-process
    # reasoner: wait for the first one all the same.
    external_rewrites: bool = False
    frame_guard: FrameGuardConfig = FrameGuardConfig()
    # Searching: the engine's "not in view" probability above `not_in_view_p` for `search_after_s`
    # -> no translation, turn at `search_yaw_rate` for at most `search_max_s` (one turn and a bit
    # at the default), then hover. In the benchmark's flights it rises only in the last ~0.3 m
    # before the gate, while the drone passes through (docs/design.md, "Doubt").
    not_in_view_p: float = 0.5
    search_after_s: float = 0.6
    search_yaw_rate: float = 0.6  # rad/s
    search_max_s: float = 12.0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"Pilot mode must be one of {MODES}, got {self.mode!r}")
        if not self.reasoner_hz > 0 or not self.reasoner_timeout_s > 0 or self.first_answer_wait_s < 0:
            raise ValueError("reasoner_hz and reasoner_timeout_s must be > 0, first_answer_wait_s >= 0")
        if not (self.look_around_after_s >= 0 and 0 <= self.look_around_rad <= math.pi and self.look_around_rate > 0
                and self.look_around_dwell_s >= 0):
            raise ValueError("look_around_after_s >= 0, look_around_rad in [0, pi], look_around_rate > 0 and "
                             "look_around_dwell_s >= 0")
        if self.camera_hfov_deg is not None and not 0 < self.camera_hfov_deg < 180:
            raise ValueError(f"camera_hfov_deg must be in (0, 180), got {self.camera_hfov_deg}")
        if not (self.face_answer_max_s >= 0 and 0 <= self.face_within < 1):
            raise ValueError("face_answer_max_s must be >= 0 and face_within in [0, 1)")
        if not (0 < self.not_in_view_p < 1 and self.search_after_s >= 0 and self.search_yaw_rate >= 0
                and self.search_max_s >= 0):
            raise ValueError("not_in_view_p must be in (0, 1); search_after_s, search_yaw_rate, search_max_s >= 0")


@dataclass
class PilotStats(ReasonerStats):
    frames: int = 0
    dropped_frames: int = 0  # malformed images or times: not acted on
    policy_errors: int = 0
    unflyable_frames: int = 0  # the frame guard said no: hovered
    search_frames: int = 0  # turning in place to find a gate
    gate_lost_frames: int = 0  # searched for search_max_s without finding it: hovered


# Pilot.status values other than a frame guard's reason
WAITING = "waiting for the reasoner's first answer"
NO_INSTRUCTION = "no instruction yet"
SEARCHING = "searching: no gate in view"
GATE_LOST = "hovering: no gate found"
FACING = "turning to face the answer's billboard"
FACE_TOLERANCE_RAD = 0.05


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
        # Where a reasoner rewrites (here or elsewhere), a survey waits first_answer_wait_s after
        # each new instruction even when an answer is in.
        self._surveys = config.survey and (reasoner is not None or config.external_rewrites)
        self._wait_since = None
        self._last_frame_t: float | None = None
        self._next_reason_t: float | None = None
        self._pending: tuple[int, Rewrite, float] | None = None  # sim mode: applied at the next frame
        self._loop: ReasonerLoop | None = None
        self.guard = FrameGuard(config.frame_guard)
        self.status = ""  # why the Pilot is not flying the policy's command now ("" if it is)
        self._absent_since: float | None = None  # first frame of the current "not in view" run
        # Heading (rad, left positive) turned since the instruction, from the commands sent; the
        # heading to face once the look-around is over (None: none known), and whether it is done.
        self._heading, self._heading_t, self._yaw_out = 0.0, None, 0.0
        self._face: float | None = None
        self._faced = False
        self._search_dir = 1.0
        if reasoner is not None:
            self._loop = ReasonerLoop(reasoner, config.reasoner_hz, config.reasoner_timeout_s, self._on_answer,
                                      self.stats, self._warn)
            if config.mode == "threaded":
                self._loop.start()

    # -- instructions -------------------------------------------------------------------------------
    def set_instruction(self, text: str) -> None:
        """The user's instruction. Embeds it here (slow, once per instruction), not in on_frame."""
        check_instruction(text)
        emb = self.engine.embed(text)
        if self.reasoner is not None and self.config.mode == "sim":
            self._loop.reset_reasoner()  # threaded: the slow loop resets it, between calls
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
            self._absent_since = None
            self._heading, self._heading_t, self._yaw_out = 0.0, None, 0.0
            self._face, self._faced = None, False
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
        now = finite_or_none(t)
        if now is not None:  # the heading turned since the last frame, at the yaw rate then sent
            if self._heading_t is not None:
                self._heading += self._yaw_out * min(max(now - self._heading_t, 0.0), 0.5)
            self._heading_t = now
        cmd = self._on_frame(image, t, altitude_m, reasoner_image, taken_t)
        self._yaw_out = cmd.yaw_rate if math.isfinite(cmd.yaw_rate) else 0.0
        return cmd

    def _on_frame(self, image, t, altitude_m, reasoner_image, taken_t) -> VelocityCommand:
        try:
            image = check_image(image, self.engine.image_size)
            if taken_t is not None and (taken_t := finite_or_none(taken_t)) is None:
                raise ValueError("its capture time is not a finite number")
            if (now := finite_or_none(t)) is None:
                raise ValueError(f"the time is {t!r}")
            t = now
        except ValueError as exc:
            self.stats.dropped_frames += 1
            self._warn(f"dropped a frame: {exc}")
            return self.safety.filter(VelocityCommand(float("nan")), t, self._last_frame_t, altitude_m)
        self.stats.frames += 1
        self._last_frame_t = t if taken_t is None else min(taken_t, t)
        unflyable = self.guard.check(image, t, moving=self.safety.moving)
        if unflyable:
            self.stats.unflyable_frames += 1
            self.status = unflyable
            self._last_cmd = VelocityCommand.hover()
            return self.safety.hold(t, unflyable)
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
            self.status = NO_INSTRUCTION
            self._last_cmd = VelocityCommand.hover()  # what tick() repeats between frames
            return self.safety.filter(VelocityCommand.hover(), t, t, altitude_m)  # no instruction yet
        if not self._answered or self._surveys:
            self._wait_since = t if self._wait_since is None else self._wait_since
            waited = t - self._wait_since
            if waited < self.config.first_answer_wait_s:
                self.status = WAITING
                self._last_cmd = self._look_around(waited)
                return self.safety.filter(self._last_cmd, t, self._last_frame_t, altitude_m)
            turn = self._face_answer(waited)
            if turn is not None:
                self.status = FACING
                self._last_cmd = turn
                return self.safety.filter(turn, t, self._last_frame_t, altitude_m)
        try:
            cmd, not_in_view = self._act(image, active[1])
        except Exception as exc:  # the engine failing must not take the drone down with it
            self.stats.policy_errors += 1
            self._warn(f"policy failed: {exc!r}")
            cmd, not_in_view = VelocityCommand(float("nan")), None
        cmd = self._search(cmd, not_in_view, t)
        self._last_cmd = cmd
        return self.safety.filter(cmd, t, self._last_frame_t, altitude_m)

    def _look_around(self, waited: float) -> VelocityCommand:
        """Hover, then turn in place: +look_around_rad, hold look_around_dwell_s, back through 0 to
        -look_around_rad, hold, and back to 0."""
        c = self.config
        if c.look_around_rad <= 0:
            return VelocityCommand.hover()
        leg = c.look_around_rad / c.look_around_rate  # seconds to turn look_around_rad
        elapsed = waited - c.look_around_after_s
        for seconds, rate in ((leg, c.look_around_rate), (c.look_around_dwell_s, 0.0), (2 * leg, -c.look_around_rate),
                              (c.look_around_dwell_s, 0.0), (leg, c.look_around_rate)):
            if 0 <= elapsed < seconds:
                return VelocityCommand(0.0, 0.0, 0.0, rate)
            elapsed -= seconds
        return VelocityCommand.hover()

    def _face_answer(self, waited: float) -> VelocityCommand | None:
        """After the look-around: a turn in place towards the answer's billboard, or None when it is
        within `face_within` of the view's centre, when none is known, or when face_answer_max_s is up.
        Done once per instruction: the policy steers from then on."""
        c = self.config
        if self._faced or self._face is None or waited >= c.first_answer_wait_s + c.face_answer_max_s:
            self._faced = True
            return None
        error = math.remainder(self._face - self._heading, math.tau)
        if abs(error) <= c.face_within * math.radians(c.camera_hfov_deg) / 2 + FACE_TOLERANCE_RAD:
            self._faced = True
            return None
        # Slowing into the heading (the safety filter limits yaw acceleration), never to a crawl.
        rate = min(c.look_around_rate, max(0.15, 2.0 * abs(error)))
        return VelocityCommand(0.0, 0.0, 0.0, math.copysign(rate, error))

    def _act(self, image, embedding) -> tuple[VelocityCommand, float | None]:
        """The policy's command and its "not in view" probability (None from an engine that
        does not say: then there is no search)."""
        act_with_view = getattr(self.engine, "act_with_view", None)
        if act_with_view is None:
            cmd, not_in_view = self.engine.act(image, embedding), None
        else:
            cmd, not_in_view = act_with_view(image, embedding)
        if not _is_command(cmd):
            raise TypeError(f"the engine answered {cmd!r}, not a VelocityCommand of numbers")
        return cmd, finite_or_none(not_in_view)

    def _search(self, cmd: VelocityCommand, not_in_view: float | None, t: float) -> VelocityCommand:
        """The policy's command, or a turn in place / hover while the gate stays out of view."""
        c = self.config
        if not_in_view is None or not_in_view <= c.not_in_view_p:
            self._absent_since = None
            self.status = ""
            return cmd
        if self._absent_since is None:
            self._absent_since = t
            # Turn the way the policy was turning (it may have seen the gate leave the view).
            self._search_dir = -1.0 if cmd.yaw_rate < 0 else 1.0  # a NaN compares False
        absent_s = t - self._absent_since
        if absent_s < c.search_after_s:
            self.status = ""
            return cmd
        if absent_s < c.search_after_s + c.search_max_s:
            self.stats.search_frames += 1
            self.status = SEARCHING
            return VelocityCommand(0.0, 0.0, 0.0, self._search_dir * c.search_yaw_rate)
        self.stats.gate_lost_frames += 1
        self.status = GATE_LOST
        return VelocityCommand.hover()

    @property
    def doubt(self) -> str:
        """`status` when the Pilot hovers or searches out of doubt (an unflyable frame, no gate in
        view), else "": waiting for an instruction or the reasoner's first answer is no doubt.
        What hosts report: ROS diagnostics and logs, results.json."""
        return "" if self.status in (WAITING, NO_INSTRUCTION, FACING) else self.status

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
            rw = self._loop.ask_within_timeout(user, image)
            if rw is not None:
                self._pending = (gen, rw, self._heading)  # used from the next frame on: the answer takes time
            else:
                self._on_answer(gen, None)

    def _on_answer(self, generation: int, rw: Rewrite | None, heading: float | None = None) -> None:
        """An answer (None: the call failed, so fly on the user's words) about instruction
        `generation`: from the slow loop's thread, or in step with the frames in sim mode, where
        `heading` is the Pilot's heading when the frame it answers was taken."""
        before = self.instruction
        if rw is not None and self._apply(generation, rw):
            # The newest view's bearing; an answer unchanged from a view that does not show its
            # billboard keeps the last one.
            bearing = self._bearing(rw, heading) if self.config.face_answer else None
            if bearing is not None or self.instruction != before:
                self._face = bearing
        if rw is None or rw.text.strip():  # failed, or answered; an abstention keeps waiting
            self._mark_answered(generation)

    def _bearing(self, rw: Rewrite, heading: float | None) -> float | None:
        """The heading that faces the answer's billboard: where it stood in the frame (target_u),
        turned into an angle by the camera's field of view, from the heading then."""
        u, fov = finite_or_none(rw.target_u), self.config.camera_hfov_deg
        if u is None or heading is None or fov is None or abs(u) > 1.0:
            return None
        return heading - math.atan(u * math.tan(math.radians(fov) / 2))  # u right, yaw left

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


def _is_command(cmd) -> bool:
    """A VelocityCommand whose four fields are real numbers (NaN allowed: the filter hovers on it)."""
    return isinstance(cmd, VelocityCommand) and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in (cmd.vx, cmd.vy, cmd.vz, cmd.yaw_rate))
