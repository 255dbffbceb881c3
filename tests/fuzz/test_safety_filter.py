"""Boundary 2: the SafetyFilter, driven by interleaved filter / hold / e-stop / reset calls.

A model of the documented rules (safety.py's docstring) runs beside it: whatever leaves is a
finite VelocityCommand within the limits; the e-stop latches zero until released (reset does not
release it); every hover rule gives exactly zero; and a command that passes moves from the last
output towards its clamped (and altitude-bounded) value by at most max_accel * dt per component,
dt being the time since the last call with a usable time, clipped to [0, 1] s, or first_step_s
after start or reset()."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cognitivedrone.safety import SafetyConfig, SafetyFilter, finite_or_none
from cognitivedrone.types import VelocityCommand

from .conftest import FUZZ, FUZZ_EXAMPLES, PROFILE
from .strategies import any_float, clock_step

UNKNOWN = "unknown"  # an input whose reading is the filter's business: hover or a limited command


# What counts as a number is the filter's one documented entry point for outside numbers; the
# model below checks what the filter does with them, not this reading.
fin = finite_or_none


class Duck:
    """Not a VelocityCommand, but has as_array(): the filter reads it like one."""

    def __init__(self, values):
        self.values = values

    def as_array(self):
        return self.values


def _known(fields):
    vals = [fin(f) for f in fields]
    return None if any(v is None for v in vals) else np.array(vals)


plausible = st.floats(-3, 3)  # beyond the limits of every airframe, not absurd
component = st.one_of(plausible, plausible, plausible, any_float, st.integers(-(2 ** 70), 2 ** 70))
commands = st.one_of(
    st.tuples(plausible, plausible, plausible, plausible).map(lambda f: (VelocityCommand(*f), _known(f))),
    st.tuples(plausible, plausible, plausible, plausible).map(lambda f: (VelocityCommand(*f), _known(f))),
    st.tuples(component, component, component, component).map(lambda f: (VelocityCommand(*f), _known(f))),
    st.tuples(component, component, component, component).map(lambda f: (Duck(list(f)), _known(f))),
    st.sampled_from([None, (1.0, 0.0, 0.0, 0.0), np.ones(4), "fast", {"vx": 1.0}, 3.0]).map(lambda c: (c, None)),
    st.one_of(st.just(Duck([1.0, 2.0, 3.0])), st.just(Duck(None)), st.just(Duck([[1.0, 2.0], 3.0, 4.0, 5.0]))).map(lambda c: (c, None)),
    st.tuples(st.sampled_from(["1.5", "nan", "abc", None, [1.0], object(), 1j]), st.floats(-2, 2))
      .map(lambda f: (VelocityCommand(f[0], f[1], 0.0, 0.0), UNKNOWN)),
)
hostile_time = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, None, True, "soon", "1.5", 1e308, -1e308, -1.0]),
                         any_float)
configs = st.one_of(
    st.just(SafetyConfig()),
    st.sampled_from(["cf2x", "racer"]).map(SafetyConfig.for_airframe),
    st.builds(
        lambda lim, acc, stale, alt, first: SafetyConfig(lim[0], lim[1], lim[2], acc[0], acc[1], acc[2], stale,
                                                         alt[0], alt[0] + alt[1], first),
        st.tuples(*[st.floats(1e-3, 100)] * 3), st.tuples(*[st.floats(1e-3, 1e6)] * 3),
        st.floats(1e-3, 10), st.tuples(st.floats(1e-3, 10), st.floats(1e-3, 10)), st.floats(1e-4, 1.0)),
)


class SafetyMachine(RuleBasedStateMachine):
    @initialize(config=configs)
    def start(self, config):
        self.safety = SafetyFilter(config)
        self.c = c = config
        # The model's own limits (not SafetyConfig.limits/accel: those are what is under test)
        self.limits = np.array([c.max_vxy, c.max_vxy, c.max_vz, c.max_yaw_rate])
        self.accel = np.array([c.max_accel_xy, c.max_accel_xy, c.max_accel_z, c.max_yaw_accel])
        self.clock = 0.0
        self.prev = np.zeros(4)  # the last output
        self.prev_t = None  # the time of the last call with a usable time (None: start or reset)
        self.estop = False

    # -- helpers -------------------------------------------------------------------------------
    def _time(self, step, hostile, use_hostile):
        self.clock += step
        return hostile if use_hostile else self.clock

    def _check_out(self, out):
        assert isinstance(out, VelocityCommand), out
        v = out.as_array()
        assert np.all(np.isfinite(v)), out
        assert np.all(np.abs(v) <= self.limits), (out, self.limits)
        return v

    def _hover(self, v, tf, why):
        assert np.array_equal(v, np.zeros(4)), f"{why}: expected exactly zero, got {v}"
        self.prev = np.zeros(4)
        if tf is not None:
            self.prev_t = tf

    # -- rules -----------------------------------------------------------------------------------
    @rule(cmd=commands, step=clock_step, hostile_t=hostile_time, use_hostile_t=st.sampled_from([False, False, False, True]),
          frame_age=st.one_of(st.floats(0.0, 0.15), st.floats(0.0, 0.15), st.floats(-0.1, 0.5),
                              st.sampled_from([None, math.nan, math.inf, "x", 1e300])),
          altitude=st.one_of(st.none(), st.none(), st.floats(-1, 7), st.floats(-1, 7),
                             st.sampled_from([math.nan, math.inf, -math.inf, 1e308, "2", True])))
    def filter(self, cmd, step, hostile_t, use_hostile_t, frame_age, altitude):
        command, expected = cmd
        t = self._time(step, hostile_t, use_hostile_t)
        tf = fin(t)
        last_frame_t = (tf - frame_age) if isinstance(frame_age, float) and tf is not None and math.isfinite(frame_age) \
            else frame_age
        out = self.safety.filter(command, t, last_frame_t, altitude)
        v = self._check_out(out)
        c = self.c
        if self.estop:
            return self._hover(v, tf, "e-stop")
        if tf is None:
            return self._hover(v, None, "invalid time")
        ff = fin(last_frame_t)
        if ff is None or tf - ff > c.stale_after_s:
            return self._hover(v, tf, "stale frame")
        if altitude is not None and fin(altitude) is None:
            return self._hover(v, tf, "invalid altitude")
        if expected is None:
            return self._hover(v, tf, "non-finite command")
        dt = c.first_step_s if self.prev_t is None else min(max(tf - self.prev_t, 0.0), 1.0)
        step_max = self.accel * dt
        tol = 1e-12 + 1e-12 * np.abs(self.prev)
        if isinstance(expected, str):  # UNKNOWN: hover, or a limited command
            if not np.any(v):
                return self._hover(v, tf, "unknown")
        else:
            target = np.clip(expected, -self.limits, self.limits)
            alt = fin(altitude)
            if alt is not None and ((alt <= c.min_altitude_m and target[2] < 0) or (alt >= c.max_altitude_m and target[2] > 0)):
                target[2] = 0.0
            lo, hi = np.minimum(self.prev, target), np.maximum(self.prev, target)
            assert np.all(v >= lo - tol) and np.all(v <= hi + tol), f"not between the last output {self.prev} and the target {target}: {v}"
            reachable = np.abs(target - self.prev) <= step_max
            assert np.allclose(v[reachable], target[reachable], rtol=1e-12, atol=1e-12), (v, target, step_max)
        assert np.all(np.abs(v - self.prev) <= step_max * (1 + 1e-12) + tol), \
            f"acceleration limit: {self.prev} -> {v} in dt={dt} (max step {step_max})"
        self.prev, self.prev_t = v, tf

    @rule(step=clock_step, hostile_t=hostile_time, use_hostile_t=st.sampled_from([False, False, True]), reason=st.text(max_size=20))
    def hold(self, step, hostile_t, use_hostile_t, reason):
        t = self._time(step, hostile_t, use_hostile_t)
        v = self._check_out(self.safety.hold(t, reason))
        self._hover(v, fin(t), "hold")

    @rule()
    def engage_estop(self):
        self.safety.engage_estop()
        self.estop, self.prev = True, np.zeros(4)

    @rule()
    def release_estop(self):
        self.safety.release_estop()
        self.estop = False

    @rule()
    def reset(self):
        self.safety.reset()  # a new flight: the e-stop stays as it is
        self.prev, self.prev_t = np.zeros(4), None

    @rule(jump=st.sampled_from([-1e6, -10.0, 10.0, 1e6]))
    def clock_jumps(self, jump):
        self.clock += jump

    @invariant()
    def state_agrees(self):
        if not hasattr(self, "safety"):
            return
        assert self.safety.estopped == self.estop
        assert np.array_equal(self.safety.last_command, self.prev)


SafetyMachine.TestCase.settings = PROFILE.__class__(
    PROFILE, max_examples=FUZZ_EXAMPLES if FUZZ else 150, stateful_step_count=40)
test_safety_filter_sequences = SafetyMachine.TestCase
