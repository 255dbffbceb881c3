"""The safety filter between the policy and the motors (DESIGN §7). Every host gets it through Pilot.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cognitivedrone.sim.airframes import get_airframe
from cognitivedrone.types import VelocityCommand


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

    @property
    def limits(self) -> np.ndarray:
        return np.array([self.max_vxy, self.max_vxy, self.max_vz, self.max_yaw_rate])

    @property
    def accel(self) -> np.ndarray:
        return np.array([self.max_accel_xy, self.max_accel_xy, self.max_accel_z, self.max_yaw_accel])


@dataclass
class SafetyEvents:
    """How often each rule fired (for diagnostics)."""

    estop: int = 0
    stale: int = 0
    non_finite: int = 0
    clamped: int = 0
    altitude: int = 0
    accel_limited: int = 0


@dataclass
class SafetyFilter:
    config: SafetyConfig = field(default_factory=SafetyConfig)
    events: SafetyEvents = field(default_factory=SafetyEvents)

    def __post_init__(self):
        self._estop = False
        self._last: np.ndarray = np.zeros(4)
        self._last_t: float | None = None
        self.last_reason = ""

    # -- e-stop -----------------------------------------------------------------------------------
    @property
    def estopped(self) -> bool:
        return self._estop

    def engage_estop(self) -> None:
        self._estop = True
        self._last = np.zeros(4)

    def release_estop(self) -> None:
        self._estop = False

    def reset(self) -> None:
        """A new flight: forget the last command (the e-stop stays as it is)."""
        self._last, self._last_t = np.zeros(4), None

    # -- the filter ---------------------------------------------------------------------------------
    def filter(self, cmd: VelocityCommand, t: float, last_frame_t: float | None,
               altitude_m: float | None = None) -> VelocityCommand:
        """The command to send at time `t` (seconds, any monotonic clock shared with
        `last_frame_t`, the time of the newest camera frame; None = none yet)."""
        c = self.config
        if self._estop:
            self.events.estop += 1
            return self._out(np.zeros(4), t, "estop")
        if last_frame_t is None or t - last_frame_t > c.stale_after_s:
            self.events.stale += 1
            return self._out(np.zeros(4), t, "stale frame")
        v = cmd.as_array()
        if not np.all(np.isfinite(v)):
            self.events.non_finite += 1
            return self._out(np.zeros(4), t, "non-finite command")
        reason = ""
        clipped = np.clip(v, -c.limits, c.limits)
        if not np.array_equal(clipped, v):
            self.events.clamped += 1
            reason = "clamped"
        v = clipped
        if altitude_m is not None and math.isfinite(altitude_m):
            if (altitude_m <= c.min_altitude_m and v[2] < 0) or (altitude_m >= c.max_altitude_m and v[2] > 0):
                v[2] = 0.0
                self.events.altitude += 1
                reason = "altitude bound"
        if self._last_t is not None:
            dt = min(max(t - self._last_t, 0.0), 1.0)
            step = c.accel * dt
            limited = np.clip(v, self._last - step, self._last + step)
            if not np.array_equal(limited, v):
                self.events.accel_limited += 1
                reason = reason or "acceleration limit"
            v = limited
        return self._out(v, t, reason)

    def _out(self, v: np.ndarray, t: float, reason: str) -> VelocityCommand:
        self._last, self._last_t, self.last_reason = v, t, reason
        return VelocityCommand.from_array(v)
