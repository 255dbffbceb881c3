"""Types shared by every part of the stack (sim, bench, policy, pilot, ROS)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VelocityCommand:
    """A velocity set-point in the body frame, FLU (x forward, y left, z up; REP-103).

    Units: m/s for vx, vy, vz and rad/s for yaw_rate (positive = counter-clockwise seen
    from above, i.e. turning left).
    """

    vx: float = 0.0
    vy: float = 0.0
    vz: float = 0.0
    yaw_rate: float = 0.0

    @classmethod
    def hover(cls) -> "VelocityCommand":
        return cls()

    @classmethod
    def from_array(cls, values) -> "VelocityCommand":
        a = np.asarray(values, dtype=np.float64).reshape(-1)
        if a.shape != (4,):
            raise ValueError(f"a velocity command has 4 values (vx, vy, vz, yaw_rate), got shape {a.shape}")
        return cls(float(a[0]), float(a[1]), float(a[2]), float(a[3]))

    def as_array(self) -> np.ndarray:
        return np.array([self.vx, self.vy, self.vz, self.yaw_rate], dtype=np.float64)

    def is_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.as_array())))
