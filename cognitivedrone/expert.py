"""The expert pilot: a privileged planner that knows which gate is the target and where it is,
and flies through it with the same velocity interface every other pilot uses.

Guidance: first fly to a point `approach_m` in front of the gate, on its axis, turning to
face the gate; then fly along the axis through the opening, steering the lateral and vertical
offset from the axis to zero, until `exit_m` beyond it. Given the camera (a look's narrow
camera may start with the gate out of view), it first turns in place until the gate's opening
is in the image, as a pilot who must see the gate would: the demonstrations then show the
policy what to do when it cannot see its gate yet. Commands are body-frame FLU velocities,
limited like any other pilot's, so demonstrations recorded from it are flyable by a policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cognitivedrone.types import VelocityCommand


@dataclass(frozen=True)
class ExpertConfig:
    cruise_speed: float = 1.2  # m/s, horizontal
    max_vz: float = 0.6
    max_yaw_rate: float = 1.2
    approach_m: float = 1.3  # on-axis point this far in front of the gate
    switch_m: float = 0.35  # switch to the through-gate phase within this of the approach point
    axis_gain: float = 2.0  # 1/s, lateral and vertical correction towards the gate axis
    pos_gain: float = 1.2  # 1/s, approach phase
    yaw_gain: float = 2.5  # 1/s


def _wrap(a: float) -> float:
    return (a + math.pi) % (2 * math.pi) - math.pi


class ExpertPilot:
    """Flies to a gate given its pose: `reset(gate_pose)`, then `act(state) -> VelocityCommand`.

    `gate_pose` has x, y, z (opening centre) and yaw (flight direction through the gate).
    `state` is the env's 12-vector: pos(3), rpy(3), vel(3), ang_vel(3).
    """


    def __init__(self, config: ExpertConfig = ExpertConfig()):
        self.config = config
        self.gate = None
        self.camera = None
        self.phase = "approach"

    def reset(self, gate_pose, camera=None) -> None:
        """`camera` (a CameraConfig): turn in place until the gate is in its view first."""
        self.gate = gate_pose
        self.camera = camera
        self.phase = "approach" if camera is None else "find"

    def _sees_gate(self, state: np.ndarray) -> bool:
        from cognitivedrone.sim.projection import project_points

        g = self.gate
        uv, in_view = project_points(np.asarray(state, np.float64)[None, :12], np.array([[g.x, g.y, g.z]]), self.camera)
        return bool(in_view[0, 0]) and float(np.abs(uv[0, 0, 0])) < 0.85  # well inside, not at the edge

    def act(self, state: np.ndarray) -> VelocityCommand:
        cfg, g = self.config, self.gate
        x, y, z = float(state[0]), float(state[1]), float(state[2])
        yaw = float(state[5])
        c, s = math.cos(g.yaw), math.sin(g.yaw)
        # Position in the gate frame: along = distance past the gate plane, lat = left offset.
        dx, dy = x - g.x, y - g.y
        along = c * dx + s * dy
        lat = -s * dx + c * dy
        up = z - g.z

        if self.phase == "find":
            if self._sees_gate(state):
                self.phase = "approach"
            else:
                turn = _wrap(math.atan2(g.y - y, g.x - x) - yaw)
                rate = max(-cfg.max_yaw_rate, min(cfg.max_yaw_rate, cfg.yaw_gain * turn))
                if abs(rate) < 0.4:  # facing it but not seeing it (too close, too high): fly on
                    self.phase = "approach"
                else:
                    return VelocityCommand(0.0, 0.0, 0.0, rate)
        if self.phase == "approach":
            ax, ay = g.x - cfg.approach_m * c, g.y - cfg.approach_m * s
            ex, ey, ez = ax - x, ay - y, g.z - z
            dist = math.hypot(ex, ey)
            # On the axis in front of the gate (close to the approach point, or already between it
            # and the gate): fly through.
            if (dist < cfg.switch_m and abs(ez) < 0.25) or (-cfg.approach_m + 0.1 < along < 0.0 and abs(lat) < 0.3):
                self.phase = "through"
            else:
                speed = min(cfg.cruise_speed, cfg.pos_gain * dist)
                wx, wy = (ex / dist * speed, ey / dist * speed) if dist > 1e-6 else (0.0, 0.0)
                wz = max(-cfg.max_vz, min(cfg.max_vz, cfg.pos_gain * ez))
                yaw_des = math.atan2(g.y - y, g.x - x)
        if self.phase == "through":
            # Along the axis at cruise speed, pulled onto the axis laterally and vertically.
            v_lat = max(-0.8, min(0.8, -cfg.axis_gain * lat))
            wx = c * cfg.cruise_speed - s * v_lat
            wy = s * cfg.cruise_speed + c * v_lat
            wz = max(-cfg.max_vz, min(cfg.max_vz, -cfg.axis_gain * up))
            yaw_des = g.yaw
        # World velocity -> heading-frame (FLU) command.
        cy, sy = math.cos(yaw), math.sin(yaw)
        vx = cy * wx + sy * wy
        vy = -sy * wx + cy * wy
        yaw_rate = max(-cfg.max_yaw_rate, min(cfg.max_yaw_rate, cfg.yaw_gain * _wrap(yaw_des - yaw)))
        return VelocityCommand(vx, vy, wz, yaw_rate)
