"""Frame conversions for the autopilot side (no ROS imports: plain math, tested with known yaws).

The policy commands in the body frame, FLU (x forward, y left, z up; REP-103). MAVROS's
`setpoint_velocity/cmd_vel` takes ENU world-frame velocities by default (it converts to NED for
the autopilot itself), so the horizontal part is rotated by the vehicle's heading. Vertical
velocity and yaw rate are the same in both frames for a level vehicle.
"""

from __future__ import annotations

import math


def body_to_enu(vx: float, vy: float, vz: float, yaw_rate: float, yaw: float) -> tuple[float, float, float, float]:
    """FLU body velocities -> ENU world velocities, for a vehicle heading `yaw` (rad, from east,
    counter-clockwise: REP-103, as MAVROS's local_position/pose reports it)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return c * vx - s * vy, s * vx + c * vy, vz, yaw_rate
