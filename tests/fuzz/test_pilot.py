"""Boundary 1: the Pilot's fast loop. Arbitrary frames, clocks, altitudes, instructions and engine
outputs (a fake engine that answers whatever the test tells it, or raises): no exception escapes
on_frame / tick / offer_rewrite / estop, set_instruction raises ValueError at most, every command
returned is a finite VelocityCommand within the safety filter's limits (zero while the e-stop is
engaged), and afterwards the Pilot still flies a normal frame."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st

from cognitivedrone.frame_guard import FrameGuard
from cognitivedrone.pilot import Pilot, PilotConfig
from cognitivedrone.safety import SafetyConfig, SafetyFilter
from cognitivedrone.types import VelocityCommand

from .conftest import fuzz_settings
from .strategies import any_float, any_text, clock_step, number_like

SIZE = 16  # the fake engine's frames: small, so that noise and structure are cheap to draw
GOOD = VelocityCommand(0.5, 0.0, 0.0, 0.0)


class FakeEngine:
    """Answers each act_with_view with the next queued output (an exception is raised)."""

    image_size = SIZE
    embed_dim = 8

    def __init__(self):
        self.outputs: list = []
        self.bad_inputs: list[str] = []  # what the Pilot handed over unchecked (asserted after)

    def embed(self, text):
        if not isinstance(text, str):
            self.bad_inputs.append(f"embed({text!r})")
        return np.full(self.embed_dim, len(text) % 7, np.float32)

    def act_with_view(self, image, embedding):
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (SIZE, SIZE, 3)):
            self.bad_inputs.append(f"a frame {type(image).__name__} {getattr(image, 'shape', None)}")
        out = self.outputs.pop(0) if self.outputs else (GOOD, 0.0)
        if isinstance(out, BaseException):
            raise out
        return out


def smooth_frame(a: float, b: float, c: float) -> np.ndarray:
    """A frame the FrameGuard flies on: brightness ramps, a real view's smoothness."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) / SIZE
    grey = 128 + 90 * (a * x + b * y - (a + b) / 2) / max(abs(a) + abs(b), 1e-3)
    rgb = np.stack([grey, grey * (0.8 + 0.2 * c) + 10, grey * 0.6 + 40], axis=2)  # every channel with the ramp
    return np.clip(rgb, 0, 255).astype(np.uint8)


GOOD_FRAMES = [smooth_frame(1, 0, 0), smooth_frame(0, 1, 1), smooth_frame(1, 1, 0.5)]
# The aliveness check's own frames, never drawn by the fuzz (the same frame again while moving
# is a frozen camera: hovering then is right).
ALIVE_FRAMES = [255 - smooth_frame(1, 0.25, 0.25), 255 - smooth_frame(0.25, 1, 0.75)]


def test_the_fuzz_good_frames_are_flyable():
    """The frames the fuzz and its aliveness check count on the FrameGuard to accept."""
    for f in GOOD_FRAMES + ALIVE_FRAMES:
        assert not FrameGuard().check(f, 0.0, moving=False), "adjust smooth_frame to the FrameGuard's thresholds"

right_size = st.one_of(
    st.sampled_from(["black", "white", "grey"]).map(
        lambda k: np.full((SIZE, SIZE, 3), {"black": 0, "white": 255, "grey": 128}[k], np.uint8)),
    st.integers(0, 2 ** 32 - 1).map(lambda s: np.random.default_rng(s).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)),
    st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(0, 1)).map(lambda p: smooth_frame(*p)),
    st.sampled_from(range(len(GOOD_FRAMES))).map(lambda i: GOOD_FRAMES[i]),  # the same bytes again: frozen?
    st.tuples(st.integers(0, 2), st.integers(0, 2 ** 32 - 1)).map(  # structure plus a little noise
        lambda p: np.clip(GOOD_FRAMES[p[0]].astype(int) + np.random.default_rng(p[1]).integers(-8, 9, (SIZE, SIZE, 3)),
                          0, 255).astype(np.uint8)),
    st.sampled_from(range(len(GOOD_FRAMES))).map(lambda i: GOOD_FRAMES[i][::-1]),  # negative strides
    st.sampled_from(range(len(GOOD_FRAMES))).map(lambda i: _readonly(GOOD_FRAMES[i])),
    st.binary(min_size=SIZE * SIZE * 3, max_size=SIZE * SIZE * 3).map(
        lambda b: np.frombuffer(b, np.uint8).reshape(SIZE, SIZE, 3)),
)


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


wrong_frames = st.one_of(
    st.sampled_from([None, b"\x00" * 10, "frame", 3, 2.5, [[0, 0, 0]], {"data": b""}, object()]),
    st.sampled_from([(SIZE, SIZE), (SIZE, SIZE, 4), (SIZE, SIZE, 1), (0, 0, 3), (SIZE + 1, SIZE, 3), (SIZE * SIZE * 3,),
                     (1, SIZE, SIZE, 3), (SIZE, SIZE, 3, 1)]).map(lambda s: np.zeros(s, np.uint8)),
    st.sampled_from([np.float32, np.float64, np.int8, np.uint16, np.int64, np.bool_, np.complex64, object]).map(
        lambda d: np.ones((SIZE, SIZE, 3), d)),
    st.just(np.array(np.nan)),
)
frames = st.one_of(right_size, right_size, right_size, wrong_frames)

nviews = st.one_of(st.floats(0, 1), st.floats(0, 1), st.just(0.99), number_like,
                   st.sampled_from(["0.9", "high", np.array([0.9]), np.array([0.1, 0.9]), [0.9], True]))
numeric_commands = st.builds(VelocityCommand, number_like, number_like, number_like, number_like)
plausible_commands = st.builds(VelocityCommand, *[st.floats(-3, 3)] * 4)
engine_errors = st.sampled_from([RuntimeError("CUDA error"), ValueError("bad"), ZeroDivisionError(), KeyError("x"),
                                 MemoryError(), TypeError("t"), OverflowError(), AssertionError("engine assert")])
# What act_with_view may return: (command, not_in_view) pairs with any numbers, or something else.
engine_outputs = st.one_of(
    st.tuples(plausible_commands, st.floats(0, 1)),
    st.tuples(plausible_commands, st.sampled_from([0.0, 0.2, 0.7, 1.0])),
    st.tuples(plausible_commands, nviews),
    st.tuples(numeric_commands, nviews),
    engine_errors,
    st.sampled_from([None, GOOD, (GOOD,), (GOOD, 0.0, 1), (), "cmd", 3.0]),
)
# Non-command objects (and text where numbers belong): see test_pilot_engine_returning_other_objects.
odd_commands = st.one_of(
    st.sampled_from([None, (0.5, 0.0, 0.0, -0.2), [0.5, 0, 0, 0], np.array([0.5, 0, 0, -0.2]), {"vx": 1.0}, "fly", 1.0]),
    st.builds(VelocityCommand, st.sampled_from(["0.5", "-1", "nan", None]), st.just(0.0), st.just(0.0),
              st.sampled_from(["-0.3", "0.3", "1e9", "inf"])),
)

hostile_times = st.sampled_from([math.nan, math.inf, -math.inf, None, 1e308, -1e308, -1.0, 0.0, 2 ** 70, np.float32(3.0),
                                 np.float64("nan"), True])


def ops(outputs):
    return st.lists(st.one_of(
        st.tuples(st.just("frame"), frames, clock_step, st.one_of(st.none(), st.none(), hostile_times),
                  st.one_of(st.none(), st.none(), st.floats(0, 2), any_float, st.just("1.0")),
                  st.one_of(st.none(), st.none(), st.floats(0, 0.5), hostile_times), outputs),
        st.tuples(st.just("frame"), right_size, clock_step, st.none(), st.none(), st.none(), outputs),
        st.tuples(st.just("tick"), clock_step, st.one_of(st.none(), hostile_times), st.one_of(st.none(), any_float)),
        st.tuples(st.just("instruction"), st.one_of(any_text, st.sampled_from(["fly through the red gate",
                                                                                "the big gate", "  ", ""]))),
        st.tuples(st.just("rewrite"), st.one_of(any_text, st.sampled_from(["Fly through the blue gate", "the zebra"])),
                  st.one_of(any_text, st.just("fly through the red gate"))),
        st.tuples(st.just("estop"), st.sampled_from([True, False, False])),
    ), max_size=25)


def flights(outputs):
    """Op sequences, most of them starting with an instruction (so that frames reach the engine)."""
    return st.tuples(st.booleans(), st.booleans(), ops(outputs)).map(
        lambda p: ([("instruction", "fly through the red gate")] if p[0] or p[1] else []) + p[2])


configs = st.builds(
    PilotConfig,
    external_rewrites=st.booleans(),
    first_answer_wait_s=st.sampled_from([0.0, 0.3, 2.0]),
    search_after_s=st.sampled_from([0.0, 0.1, 0.6]),
    search_max_s=st.sampled_from([0.0, 0.3, 12.0]),
    not_in_view_p=st.sampled_from([0.5, 0.01, 0.99]),
)
safety_configs = st.one_of(st.just(SafetyConfig()), st.sampled_from(["cf2x", "racer"]).map(SafetyConfig.for_airframe))


def check_command(pilot: Pilot, out, what: str) -> None:
    c = pilot.safety.config
    limits = np.array([c.max_vxy, c.max_vxy, c.max_vz, c.max_yaw_rate])
    assert isinstance(out, VelocityCommand), f"{what} returned {out!r}"
    v = np.array([out.vx, out.vy, out.vz, out.yaw_rate], dtype=np.float64)
    assert all(isinstance(x, float) for x in (out.vx, out.vy, out.vz, out.yaw_rate)), f"{what}: {out!r}"
    assert np.all(np.isfinite(v)), f"{what} returned a non-finite command {out}"
    assert np.all(np.abs(v) <= limits), f"{what} returned {out}, beyond the limits {limits}"
    if pilot.safety.estopped:
        assert not np.any(v), f"{what} returned {out} with the e-stop engaged"


def run_ops(pilot: Pilot, engine: FakeEngine, sequence) -> float:
    """Runs the ops; returns the latest finite time used (for the aliveness check)."""
    clock, latest = 0.0, 0.0
    for op in sequence:
        kind = op[0]
        if kind == "frame":
            _, image, step, hostile_t, altitude, taken, output = op
            clock += step
            t = clock if hostile_t is None else hostile_t
            taken_t = None if taken is None else (clock - taken if isinstance(taken, float) and math.isfinite(taken)
                                                  and 0 <= taken <= 0.5 else taken)
            engine.outputs = [output]
            out = pilot.on_frame(image, t, altitude_m=altitude, taken_t=taken_t)
            check_command(pilot, out, f"on_frame(t={t!r}, altitude_m={altitude!r}, taken_t={taken_t!r}) [{output!r}]")
            assert isinstance(pilot.status, str)
            if currently_in_test_context():
                event(f"pilot status: {pilot.status.split(' (')[0] or 'flying'}; "
                      f"safety: {pilot.safety.last_reason.split(' (')[0] or 'pass'}")
        elif kind == "tick":
            _, step, hostile_t, altitude = op
            clock += step
            t = clock if hostile_t is None else hostile_t
            check_command(pilot, pilot.tick(t, altitude), f"tick(t={t!r}, altitude_m={altitude!r})")
        elif kind == "instruction":
            try:
                pilot.set_instruction(op[1])
            except ValueError:
                pass
        elif kind == "rewrite":
            assert pilot.offer_rewrite(op[1], op[2]) in (True, False)
        elif kind == "estop":
            pilot.estop(op[1])
        for x in (clock, locals().get("t"), locals().get("taken_t")):
            try:
                if x is not None and not isinstance(x, bool) and math.isfinite(float(x)):
                    latest = max(latest, float(x))
            except (TypeError, ValueError, OverflowError):
                pass
    return latest


def assert_alive(pilot: Pilot, engine: FakeEngine, latest: float) -> None:
    """After whatever came before: a new instruction and two good frames fly the policy's command."""
    pilot.estop(False)
    pilot.set_instruction("fly through the red gate")
    if pilot.config.external_rewrites:
        assert pilot.offer_rewrite("Fly through the red gate", "fly through the red gate")
    t = latest + max(1.0, abs(latest) * 1e-6)
    dt = max(0.05, abs(t) * 1e-9)  # a step the clock can still tell apart at 1e308
    # The second frame comes after the wait for the first answer (a survey lasts all of it).
    times = (t, t + max(dt, 1.01 * pilot.config.first_answer_wait_s + dt))
    outs = []
    for k in range(2):
        engine.outputs = [(GOOD, 0.0)]
        outs.append(pilot.on_frame(ALIVE_FRAMES[k], times[k]))
        check_command(pilot, outs[-1], "on_frame (alive check)")
    assert pilot.status == "", pilot.status
    assert np.allclose(outs[-1].as_array(), GOOD.as_array()), f"not flying the policy's command after the fuzz: {outs}"
    assert not engine.bad_inputs, engine.bad_inputs


@fuzz_settings(400)
@given(config=configs, safety=safety_configs, sequence=flights(engine_outputs))
def test_pilot_fast_loop_survives_anything(config, safety, sequence):
    engine = FakeEngine()
    with Pilot(engine, None, SafetyFilter(safety), config, warn=lambda m: None) as pilot:
        latest = run_ops(pilot, engine, sequence)
        assert not engine.bad_inputs, engine.bad_inputs
        assert_alive(pilot, engine, latest)


@fuzz_settings(500)
@given(text=st.one_of(any_text, st.sampled_from([None, b"fly", 3, ["fly"], "x" * 2000, "x" * 2001, " x " * 700])))
def test_set_instruction_raises_value_error_at_most(text):
    engine = FakeEngine()
    pilot = Pilot(engine, None, SafetyFilter(), PilotConfig(), warn=lambda m: None)
    try:
        pilot.set_instruction(text)
    except ValueError:
        assert pilot.instruction == ""
        return
    assert isinstance(text, str) and text.strip() and pilot.user_instruction == text
    assert not engine.bad_inputs, engine.bad_inputs
    assert_alive(pilot, engine, 0.0)


@fuzz_settings(300)
@given(config=configs, cmd=odd_commands, not_in_view=st.one_of(st.floats(0.5, 1), st.sampled_from([0.99, "0.9"])),
       sequence=ops(st.tuples(plausible_commands, nviews)))
def test_pilot_engine_returning_other_objects(config, cmd, not_in_view, sequence):
    """KNOWN BUG (pilot.py, not fixed here; see the fuzz report): an engine that answers with
    something other than a VelocityCommand (or one holding text), while saying the gate is out of
    view, raises out of on_frame: Pilot._search reads `cmd.yaw_rate` and compares it with 0
    outside the try that guards the engine call. Expected: hover (the safety filter's
    'non-finite command'), as for the same object when the gate is in view."""
    engine = FakeEngine()
    with Pilot(engine, None, SafetyFilter(), config, warn=lambda m: None) as pilot:
        latest = run_ops(pilot, engine, [("instruction", "fly through the red gate")] + sequence)
        if config.external_rewrites:
            pilot.offer_rewrite("Fly through the red gate", "fly through the red gate")
        t = latest + 10.0
        for k in range(3):  # past search_after_s, so that _search turns
            engine.outputs = [(cmd, not_in_view)]
            out = pilot.on_frame(GOOD_FRAMES[k % 3], t + 0.05 * k + (config.search_after_s if k == 2 else 0))
            check_command(pilot, out, f"on_frame [engine answered ({cmd!r}, {not_in_view!r})]")
        assert_alive(pilot, engine, t + 1.0 + config.search_after_s)


@fuzz_settings(50)
@given(t=st.sampled_from(["1.0", "2.5", "1e3"]), taken=st.sampled_from([None, "0.9"]), not_in_view=st.sampled_from([0.0, 0.99]))
def test_pilot_times_given_as_numeric_text(t, taken, not_in_view):
    """KNOWN BUG (pilot.py, not fixed here; see the fuzz report): a time that is numeric text
    ("1.0") passes finite_or_none's check, but on_frame then uses the text itself:
    `min(taken_t, t)` and `t - self._absent_since` raise TypeError. Expected: the number
    finite_or_none read (as SafetyFilter does), or a dropped frame."""
    engine = FakeEngine()
    with Pilot(engine, None, SafetyFilter(), PilotConfig(search_after_s=0.0), warn=lambda m: None) as pilot:
        pilot.set_instruction("fly through the red gate")
        for k in range(2):
            engine.outputs = [(GOOD, not_in_view)]
            out = pilot.on_frame(GOOD_FRAMES[k], t if taken is None else 2.0 + k, taken_t=taken)
            check_command(pilot, out, f"on_frame(t={t!r}, taken_t={taken!r})")
