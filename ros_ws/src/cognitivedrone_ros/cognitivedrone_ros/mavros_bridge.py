"""mavros_bridge: the policy's body-frame cmd_vel -> MAVROS velocity set-points, streamed.

Subscribes: cmd_vel (geometry_msgs/TwistStamped, base_link FLU), mavros/local_position/pose
(geometry_msgs/PoseStamped, ENU; for the heading). Publishes: mavros/setpoint_velocity/cmd_vel
(geometry_msgs/TwistStamped) at `rate_hz`, diagnostics.

frame "enu" (default): the horizontal velocity is rotated into the world frame by the heading
from the local pose; frame_id "map". frame "body": passed through as is, frame_id "base_link";
set MAVROS's `setpoint_velocity.mav_frame` to BODY_NED for this (MAVROS then takes it as FLU
body velocities). The set-point is re-sent at `rate_hz` whatever the input rate: PX4 leaves
OFFBOARD when set-points stop for 0.5 s and ArduPilot's GUIDED velocity control stops after 3 s.
When cmd_vel is older than `input_timeout_s`, or (enu) the pose is older than
`pose_timeout_s`, it sends zero velocity: hover in place, and the autopilot stays in its mode.

The bridge trusts nothing it hears: a cmd_vel with a non-finite value is dropped, one beyond the
airframe's limits is clamped (in the body frame, as the safety filter does), a pose whose
quaternion is non-finite or far from unit length is dropped (its heading would rotate the
command anywhere), and a set-point that is not finite is never sent: zero instead.
"""

from __future__ import annotations

import math
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped, TwistStamped
from rclpy.node import Node

from cognitivedrone.safety import clamp_to_limits
from cognitivedrone.sim.airframes import AIRFRAMES
from cognitivedrone.types import VelocityCommand
from cognitivedrone_ros.conversions import command_to_twist, twist_to_command, yaw_from_quaternion
from cognitivedrone_ros.frames import body_to_enu
from cognitivedrone_ros.node_support import (
    COMMAND_QOS,
    EVENTS_QOS,
    OK,
    SENSOR_QOS,
    WARN,
    Deltas,
    Param,
    declare_params,
    diagnostic,
    guarded,
    limit_params,
    limit_values,
    one_of,
    positive,
    run,
    safety_config,
)

PARAMS = [
    Param("frame", "enu", "enu: rotate into the world frame by the vehicle's heading (MAVROS default); "
          "body: pass the FLU body velocities through (set MAVROS setpoint_velocity.mav_frame to BODY_NED)",
          one_of("enu", "body"), "enu or body"),
    Param("rate_hz", 30.0, "set-point stream rate (Hz); PX4 OFFBOARD needs more than 2 Hz", lambda v: positive(v) and v > 2,
          "a number > 2"),
    Param("input_timeout_s", 0.25, "cmd_vel older than this -> zero velocity (s)", positive, "a number > 0"),
    Param("pose_timeout_s", 0.5, "enu: a heading older than this -> zero velocity (s)", positive, "a number > 0"),
    Param("airframe", "cf2x", "airframe whose velocity limits every set-point is clamped to (cf2x, racer), "
          "unless the limits below are set", one_of(*AIRFRAMES), " or ".join(AIRFRAMES)),
    *limit_params(),
]


class MavrosBridge(Node):
    def __init__(self):
        super().__init__("mavros_bridge")
        p = self.params = declare_params(self, PARAMS)
        self.cmd, self.cmd_t = None, -1e9
        self.yaw, self.yaw_t = None, -1e9
        self.sent = 0
        self.zero_sent = 0
        self.bad_inputs = 0
        self.grown = Deltas()
        self.reason = "no cmd_vel yet"
        self.config = safety_config(self, p)
        self.limits = self.config.limits
        self.pub = self.create_publisher(TwistStamped, "mavros/setpoint_velocity/cmd_vel", COMMAND_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", EVENTS_QOS)
        self.create_subscription(TwistStamped, "cmd_vel", guarded(self, self.on_cmd), COMMAND_QOS)
        # MAVROS publishes the local pose best-effort (sensor QoS); a reliable subscription would hear nothing.
        self.create_subscription(PoseStamped, "mavros/local_position/pose", guarded(self, self.on_pose), SENSOR_QOS)
        self.create_timer(1.0 / p["rate_hz"], guarded(self, self.on_timer))
        self.create_timer(1.0, guarded(self, self.publish_diagnostics))
        self.get_logger().info(f"streaming {p['frame']} velocity set-points at {p['rate_hz']:g} Hz, clamped to "
                               f"{self.config.describe().split(';')[0]} ({p['airframe']} unless set)")

    def on_cmd(self, msg: TwistStamped) -> None:
        try:
            self.cmd, self.cmd_t = twist_to_command(msg), time.monotonic()
        except ValueError as exc:
            self.bad_inputs += 1  # a NaN is no command: the old one ages out into zero velocity
            self.get_logger().warning(f"ignored cmd_vel: {exc}", throttle_duration_sec=2.0)

    def on_pose(self, msg: PoseStamped) -> None:
        q = msg.pose.orientation
        try:
            self.yaw, self.yaw_t = yaw_from_quaternion(q.x, q.y, q.z, q.w), time.monotonic()
        except ValueError as exc:
            self.bad_inputs += 1  # no heading: the last one ages out into zero velocity
            self.get_logger().warning(f"ignored a local pose: {exc}", throttle_duration_sec=2.0)

    def setpoint(self, now: float) -> tuple[tuple[float, float, float, float], str]:
        """(vx, vy, vz, yaw_rate) to send now in the output frame, and why it is zero if it is."""
        p = self.params
        if self.cmd is None or now - self.cmd_t > p["input_timeout_s"]:
            return (0.0, 0.0, 0.0, 0.0), "cmd_vel stale" if self.cmd is not None else "no cmd_vel yet"
        c = clamp_to_limits(self.cmd, self.limits)
        if c is None:
            return (0.0, 0.0, 0.0, 0.0), "cmd_vel not finite"
        if p["frame"] == "body":
            return (c.vx, c.vy, c.vz, c.yaw_rate), ""
        if self.yaw is None or now - self.yaw_t > p["pose_timeout_s"]:
            return (0.0, 0.0, 0.0, 0.0), "no fresh local pose (heading) to rotate by"
        return body_to_enu(c.vx, c.vy, c.vz, c.yaw_rate, self.yaw), ""

    def on_timer(self) -> None:
        setpoint, reason = self.setpoint(time.monotonic())
        if not all(math.isfinite(v) for v in setpoint):  # cannot happen; never send it
            setpoint, reason = (0.0, 0.0, 0.0, 0.0), "set-point not finite"
        vx, vy, vz, wz = setpoint
        if reason and reason != self.reason:
            self.get_logger().warning(f"sending zero velocity: {reason}")
        self.reason = reason
        frame_id = "map" if self.params["frame"] == "enu" else "base_link"
        self.pub.publish(command_to_twist(VelocityCommand(vx, vy, vz, wz), self.get_clock().now().to_msg(), frame_id))
        self.sent += 1
        self.zero_sent += bool(reason)

    def publish_diagnostics(self) -> None:
        values = {"frame": self.params["frame"], "sent": self.sent, "zero_sent": self.zero_sent,
                  "bad_inputs": self.bad_inputs, "reason": self.reason or "streaming", **limit_values(self.config)}
        new_bad = self.grown({"bad_inputs": self.bad_inputs})["bad_inputs"]
        level = WARN if self.reason or new_bad else OK
        self.diag_pub.publish(diagnostic(self, "set-points", level, self.reason or "streaming", values))


def main(args=None) -> None:
    run(MavrosBridge, args)


if __name__ == "__main__":
    main()
