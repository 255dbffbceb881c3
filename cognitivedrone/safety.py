"""The safety filter between the policy and the motors (docs/design.md, The safety filter). Every host gets it through Pilot.

Rules, applied in this order to each command:
1. e-stop: once engaged, zero velocity until released, whatever else comes in;
2. no fresh frame for more than `stale_after_s` -> hover (the policy is acting on an old view);
3. NaN or inf in any component -> hover;
4. clamp each component to the airframe's limits;
5. altitude bounds: no further descent below `min_altitude_m`, no further climb above
   `max_altitude_m` (when the host knows the altitude);
6. acceleration limit: each component moves towards the new command by at most
   `max_accel * dt` per call (m/s^2 for velocities, rad/s^2 for the yaw rate).
Hover (rules 2 and 3) and the e-stop are not rate-limited: in doubt, stop now and let the
autopilot's attitude loop take the deceleration.

Every number entering the filter goes through `finite_or_none` first: a non-finite time is no
time (hover, and nothing remembered from it), a non-finite frame time is no frame (stale), a
non-finite altitude is a broken altimeter (hover; None means the host has no altitude at all).
The first command after start or reset() ramps up from hover like any other, as if
`first_step_s` had passed since a zero command. Whatever leaves is finite and within limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cognitivedrone.sim.airframes import get_airframe
from cognitivedrone.types import VelocityCommand

# What a vehicle's limits may be set to (a drone's config, stack YAML): beyond these a number is
# a typo or a unit mistake (km/h for m/s, degrees for radians), not a vehicle. (lower, upper], SI units.
LIMIT_RANGES = {
    "max_vxy": (0.0, 30.0, "m/s", "horizontal speed |vx|, |vy|"),
    "max_vz": (0.0, 10.0, "m/s", "vertical speed |vz|"),
    "max_yaw_rate": (0.0, 2 * math.pi, "rad/s", "yaw rate"),
    "max_accel_xy": (0.0, 100.0, "m/s^2", "horizontal acceleration"),
    "max_accel_z": (0.0, 50.0, "m/s^2", "vertical acceleration"),
    "max_yaw_accel": (0.0, 100.0, "rad/s^2", "yaw acceleration"),
    "min_altitude_m": (0.0, 100.0, "m", "lowest altitude: no further descent below it"),
    "max_altitude_m": (0.0, 500.0, "m", "highest altitude: no further climb above it"),
}


@dataclass(frozen=True)
class SafetyConfig:
    max_vxy: float = 1.5  # m/s, |vx| and |vy|
    max_vz: float = 0.75  # m/s
    max_yaw_rate: float = 1.5  # rad/s
    # Above what the expert commands (99.9th percentile of per-step changes in the demonstrations:
    # 8.4 m/s^2 in x, 0.9 in z, 4.6 rad/s^2 in yaw) and below what a cf2x can do (~20 m/s^2).
    max_accel_xy: float = 15.0  # m/s^2
    max_accel_z: float = 5.0  # m/s^2
    max_yaw_accel: float = 10.0  # rad/s^2
    stale_after_s: float = 0.2  # no frame for longer than this -> hover
    min_altitude_m: float = 0.15
    max_altitude_m: float = 5.0
    # The first command after start or reset(): the time since a (virtual) zero command. One
    # frame period at 20 Hz: a flight never starts at full speed in one step.
    first_step_s: float = 0.05

    @classmethod
    def for_airframe(cls, name: str, **overrides) -> "SafetyConfig":
        a = get_airframe(name)
        return cls(**{"max_vxy": a.max_vxy, "max_vz": a.max_vz, "max_yaw_rate": a.max_yaw_rate, **overrides})

    def __post_init__(self):
        for k, v in vars(self).items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"SafetyConfig.{k} must be a positive number, got {v!r}")
        if self.min_altitude_m >= self.max_altitude_m:
            raise ValueError(f"min_altitude_m ({self.min_altitude_m}) must be below max_altitude_m ({self.max_altitude_m})")

    def describe(self) -> str:
        """The limits in one line, for a node's start-up log."""
        return (f"|vx|,|vy| <= {self.max_vxy:g} m/s, |vz| <= {self.max_vz:g} m/s, |yaw rate| <= {self.max_yaw_rate:g} "
                f"rad/s; acceleration <= {self.max_accel_xy:g}/{self.max_accel_z:g} m/s^2, {self.max_yaw_accel:g} "
                f"rad/s^2; altitude {self.min_altitude_m:g}-{self.max_altitude_m:g} m")

    @property
    def limits(self) -> np.ndarray:
        return np.array(self.limit_values)

    @property
    def accel(self) -> np.ndarray:
        return np.array(self.accel_values)

    # Plain floats for the filter: numpy's per-call overhead is most of the cost on 4 numbers.
    @cached_property
    def limit_values(self) -> tuple[float, float, float, float]:
        return (float(self.max_vxy), float(self.max_vxy), float(self.max_vz), float(self.max_yaw_rate))

    @cached_property
    def accel_values(self) -> tuple[float, float, float, float]:
        return (float(self.max_accel_xy), float(self.max_accel_xy), float(self.max_accel_z), float(self.max_yaw_accel))


def finite_or_none(value) -> float | None:
    """`value` as a float if it is a finite real number, else None: the one check for numbers
    that come from outside (clocks, altimeters, poses, messages) before they steer anything."""
    if isinstance(value, (bool, str, bytes)):  # numeric text is not a number: something upstream is wrong
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def clamp_to_limits(cmd: VelocityCommand, limits: np.ndarray) -> VelocityCommand | None:
    """`cmd` clamped per component to `limits` ([vx, vy, vz, yaw_rate] magnitudes), or None if it
    is not four finite numbers: for hosts past the filter (the MAVROS bridge)."""
    v = _as_floats(cmd)
    return None if v is None else VelocityCommand(*_clamp(v, limits))


@dataclass
class SafetyEvents:
    """How often each rule fired (for diagnostics)."""

    estop: int = 0
    stale: int = 0
    non_finite: int = 0
    bad_input: int = 0  # a non-finite time or altitude
    held: int = 0  # hover because the host doubts its input (hold(): an unflyable frame)
    clamped: int = 0
    altitude: int = 0
    accel_limited: int = 0


@dataclass
class SafetyFilter:
    config: SafetyConfig = field(default_factory=SafetyConfig)
    events: SafetyEvents = field(default_factory=SafetyEvents)

    def __post_init__(self):
        self._estop = False
        self._last: list[float] = [0.0] * 4
        self._last_t: float | None = None
        self.last_reason = ""

    # -- e-stop -----------------------------------------------------------------------------------
    @property
    def estopped(self) -> bool:
        return self._estop

    def engage_estop(self) -> None:
        self._estop = True
        self._last = [0.0] * 4

    def release_estop(self) -> None:
        self._estop = False

    def reset(self) -> None:
        """A new flight: forget the last command (the e-stop stays as it is)."""
        self._last, self._last_t = [0.0] * 4, None

    @property
    def last_command(self) -> np.ndarray:
        """The last command sent, [vx, vy, vz, yaw_rate] (a copy)."""
        return np.array(self._last)

    @property
    def moving(self) -> bool:
        """Whether the last command sent asks for any motion (above 0.05 m/s or rad/s)."""
        return max(map(abs, self._last)) > 0.05

    def hold(self, t: float, reason: str) -> VelocityCommand:
        """Hover now, not rate-limited, because the host doubts what it sees (`reason`)."""
        self.events.held += 1
        return self._out(HOVER, finite_or_none(t), "estop" if self._estop else reason)

    # -- the filter ---------------------------------------------------------------------------------
    def filter(self, cmd: VelocityCommand, t: float, last_frame_t: float | None,
               altitude_m: float | None = None) -> VelocityCommand:
        """The command to send at time `t` (seconds, any monotonic clock shared with
        `last_frame_t`, the time of the newest camera frame; None = none yet)."""
        c = self.config
        t = finite_or_none(t)
        if self._estop:
            self.events.estop += 1
            return self._out(HOVER, t, "estop")
        if t is None:  # no usable clock: nothing can be judged fresh or rate-limited
            self.events.bad_input += 1
            return self._out(HOVER, None, "invalid time")
        frame_t = finite_or_none(last_frame_t)
        if frame_t is None or t - frame_t > c.stale_after_s:
            self.events.stale += 1
            return self._out(HOVER, t, "stale frame")
        if altitude_m is not None and (altitude_m := finite_or_none(altitude_m)) is None:
            self.events.bad_input += 1
            return self._out(HOVER, t, "invalid altitude")
        v = _as_floats(cmd)
        if v is None:
            self.events.non_finite += 1
            return self._out(HOVER, t, "non-finite command")
        reason = ""
        lim = c.limit_values
        clipped = _clamp(v, lim)
        if clipped != v:
            self.events.clamped += 1
            reason = "clamped"
        v = clipped
        if altitude_m is not None:
            if (altitude_m <= c.min_altitude_m and v[2] < 0) or (altitude_m >= c.max_altitude_m and v[2] > 0):
                v[2] = 0.0
                self.events.altitude += 1
                reason = "altitude bound"
        # Since the last command (time going backwards counts as none); the first one after
        # start or reset() as `first_step_s` after a zero command.
        dt = c.first_step_s if self._last_t is None else min(max(t - self._last_t, 0.0), 1.0)
        limited = [min(max(x, p - a * dt), p + a * dt) for x, p, a in zip(v, self._last, c.accel_values)]
        if limited != v:
            self.events.accel_limited += 1
            reason = reason or "acceleration limit"
        if not all(abs(x) <= m for x, m in zip(limited, lim)):  # cannot happen (NaN fails too); never send it
            self.events.non_finite += 1
            return self._out(HOVER, t, "non-finite command")
        return self._out(limited, t, reason)

    def _out(self, v, t: float | None, reason: str) -> VelocityCommand:
        self._last, self.last_reason = list(v), reason
        if t is not None:
            self._last_t = t
        return VelocityCommand(*self._last)


HOVER = (0.0, 0.0, 0.0, 0.0)


def _clamp(v: list[float], limits) -> list[float]:
    """Each component into [-limit, limit]."""
    return [min(max(x, -m), m) for x, m in zip(v, limits)]


def _as_floats(cmd) -> list[float] | None:
    """The command's four numbers as floats, or None if it has no four finite numbers."""
    try:
        if isinstance(cmd, VelocityCommand):
            values = (cmd.vx, cmd.vy, cmd.vz, cmd.yaw_rate)
        else:  # anything with as_array() (a duck-typed command)
            values = tuple(np.asarray(cmd.as_array(), dtype=np.float64).reshape(-1))
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None
    if len(values) != 4:
        return None
    out = [finite_or_none(x) for x in values]
    return None if None in out else out
