"""mavros_bridge as a process: streams set-points above the autopilot's proof-of-life rate,
rotates body-frame commands into ENU by the vehicle's heading, and sends zero when cmd_vel stops."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped, TwistStamped

from cognitivedrone.types import VelocityCommand
from cognitivedrone_ros.conversions import command_to_twist
from cognitivedrone_ros.node_support import COMMAND_QOS, SENSOR_QOS

SETPOINT = "mavros/setpoint_velocity/cmd_vel"


def start_bridge(env, frame: str, *params: str, stdout=subprocess.DEVNULL) -> subprocess.Popen:
    extra = [a for p in params for a in ("-p", p)]
    return subprocess.Popen([sys.executable, "-m", "cognitivedrone_ros.mavros_bridge", "--ros-args",
                             "-p", f"frame:={frame}", "-p", "rate_hz:=30.0", *extra], env=env,
                            stdout=stdout, stderr=subprocess.STDOUT if stdout is not subprocess.DEVNULL else stdout,
                            text=True)


class Streams:
    """The vehicle side (local pose) and the policy side (cmd_vel), each at its own rate."""

    def __init__(self, probe, yaw: float, cmd: VelocityCommand | None, cmd_hz: float = 5.0):
        self.probe, self.yaw, self.cmd = probe, yaw, cmd
        self.quat = None  # (x, y, z, w) to send instead of the yaw's
        self.pose_pub = probe.publisher(PoseStamped, "mavros/local_position/pose", SENSOR_QOS)
        self.cmd_pub = probe.publisher(TwistStamped, "cmd_vel", COMMAND_QOS)
        self.cmd_period = 1.0 / cmd_hz
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        next_cmd = 0.0
        while not self._stop.is_set():
            now = self.probe.node.get_clock().now().to_msg()
            pose = PoseStamped()
            pose.header.stamp, pose.header.frame_id = now, "map"
            pose.pose.orientation.z, pose.pose.orientation.w = math.sin(self.yaw / 2), math.cos(self.yaw / 2)
            if self.quat is not None:
                o = pose.pose.orientation
                o.x, o.y, o.z, o.w = self.quat
            self.pose_pub.publish(pose)
            if self.cmd is not None and time.monotonic() >= next_cmd:
                self.cmd_pub.publish(command_to_twist(self.cmd, now))
                next_cmd = time.monotonic() + self.cmd_period
            time.sleep(0.02)

    def close(self):
        self._stop.set()


def xy(msg):
    return msg.twist.linear.x, msg.twist.linear.y


@pytest.fixture
def enu_bridge(probe, ros_env):
    proc = start_bridge(ros_env, "enu")
    yield probe
    proc.terminate()
    proc.wait(timeout=10)


def test_enu_setpoints_rotate_by_heading_stream_at_rate_and_go_to_zero_when_cmd_vel_stops(enu_bridge):
    probe = enu_bridge
    out = probe.listen(TwistStamped, SETPOINT, COMMAND_QOS)
    streams = Streams(probe, yaw=math.pi / 2, cmd=VelocityCommand(1.0, 0.0, 0.2, 0.3))  # facing north
    try:
        probe.wait_for(lambda: any(abs(xy(m)[1] - 1.0) < 1e-6 for _, m in out), 30, "a rotated set-point")
        t0 = time.monotonic()
        time.sleep(1.0)
        window = [m for t, m in out if t >= t0]
        assert len(window) >= 20, f"{len(window)} set-points in 1 s (cmd_vel came at 5 Hz)"  # PX4 needs > 2 Hz
        m = window[-1]
        assert xy(m) == pytest.approx((0.0, 1.0), abs=1e-9)  # forward, facing north = north in ENU
        assert (m.twist.linear.z, m.twist.angular.z) == pytest.approx((0.2, 0.3))
        assert m.header.frame_id == "map"
        streams.yaw = math.pi  # facing west: forward is -x
        probe.wait_for(lambda: xy(out[-1][1]) == pytest.approx((-1.0, 0.0), abs=1e-9), 5, "the new heading applied")
        streams.cmd = None  # the policy stops talking
        t_stop = time.monotonic()
        probe.wait_for(lambda: any(t > t_stop + 0.4 for t, _ in out), 5, "set-points after cmd_vel stopped")
        late = [m for t, m in out if t > t_stop + 0.35]  # input_timeout_s 0.25 + a period + delivery
        assert late and all(xy(m) == (0.0, 0.0) and m.twist.linear.z == 0.0 for m in late)
        assert len([t for t, _ in out if t > t_stop]) >= 8  # still streaming: the autopilot keeps its mode
    finally:
        streams.close()


def test_body_frame_passes_the_command_through(probe, ros_env):
    proc = start_bridge(ros_env, "body")
    out = probe.listen(TwistStamped, SETPOINT, COMMAND_QOS)
    streams = Streams(probe, yaw=2.0, cmd=VelocityCommand(0.5, -0.25, 0.0, 0.1))
    try:
        probe.wait_for(lambda: any(xy(m) != (0.0, 0.0) for _, m in out), 30, "a non-zero set-point")
        m = [m for _, m in out if xy(m) != (0.0, 0.0)][-1]
        assert xy(m) == pytest.approx((0.5, -0.25)) and m.header.frame_id == "base_link"
    finally:
        streams.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_enu_without_a_pose_sends_zero(probe, ros_env):
    """No heading, no rotation: zero velocity rather than a guess."""
    proc = start_bridge(ros_env, "enu")
    out = probe.listen(TwistStamped, SETPOINT, COMMAND_QOS)
    cmd_pub = probe.publisher(TwistStamped, "cmd_vel", COMMAND_QOS)
    try:
        probe.wait_for_subscribers(cmd_pub)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:
            cmd_pub.publish(command_to_twist(VelocityCommand(1.0), probe.node.get_clock().now().to_msg()))
            time.sleep(0.05)
        got = [m for t, m in out if t > t0 + 0.2]
        assert len(got) >= 10 and all(xy(m) == (0.0, 0.0) for m in got)
        assert np.isfinite([m.twist.linear.x for m in got]).all()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_broken_pose_or_a_wild_command_never_reaches_the_autopilot(enu_bridge):
    """A NaN quaternion streamed NaN set-points; an inf one rotated the command by 135 deg; a
    100 m/s cmd_vel passed unclamped."""
    probe = enu_bridge
    out = probe.listen(TwistStamped, SETPOINT, COMMAND_QOS)
    streams = Streams(probe, yaw=math.pi / 2, cmd=VelocityCommand(100.0, 0.0, -50.0, 20.0))  # facing north
    try:
        probe.wait_for(lambda: any(xy(m)[1] > 0 for _, m in out), 30, "a rotated set-point")
        time.sleep(0.3)
        m = out[-1][1]
        assert xy(m) == pytest.approx((0.0, 1.5), abs=1e-9)  # clamped to cf2x's 1.5 m/s, then rotated
        assert (m.twist.linear.z, m.twist.angular.z) == pytest.approx((-0.75, 1.5))
        for bad in [(float("nan"),) * 4, (0.0, 0.0, float("inf"), 1.0), (0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 3.0, 4.0)]:
            streams.quat = bad
            t_bad = time.monotonic()
            time.sleep(0.9)  # pose_timeout_s 0.5: the last good heading ages out
            late = [m for t, m in out if t > t_bad + 0.7]
            vals = np.array([[m.twist.linear.x, m.twist.linear.y, m.twist.linear.z, m.twist.angular.z] for _, m in
                             [(t, m) for t, m in out if t > t_bad]])
            assert np.isfinite(vals).all(), f"non-finite set-point for quaternion {bad}"
            assert late and all(xy(m) == (0.0, 0.0) for m in late), f"moved on quaternion {bad}"
            streams.quat = None
            probe.wait_for(lambda: xy(out[-1][1]) != (0.0, 0.0), 5, "flying again on a good pose")
    finally:
        streams.close()


def test_the_vehicles_own_limits_clamp_the_setpoints_and_show_in_the_log_and_diagnostics(probe, ros_env):
    """Limits set for the vehicle (here: 0.5 m/s horizontal) replace the airframe profile's (cf2x:
    1.5 m/s), are logged at start and echoed in /diagnostics."""
    from diagnostic_msgs.msg import DiagnosticArray

    from cognitivedrone_ros.node_support import EVENTS_QOS

    proc = start_bridge(ros_env, "body", "max_vxy:=0.5", "max_altitude_m:=12.0", stdout=subprocess.PIPE)
    out = probe.listen(TwistStamped, SETPOINT, COMMAND_QOS)
    diagnostics = probe.listen(DiagnosticArray, "diagnostics", EVENTS_QOS)
    streams = Streams(probe, yaw=0.0, cmd=VelocityCommand(1.2, -1.0, 0.5, 0.0))
    try:
        probe.wait_for(lambda: any(xy(m) != (0.0, 0.0) for _, m in out), 30, "a non-zero set-point")
        m = [m for _, m in out if xy(m) != (0.0, 0.0)][-1]
        assert xy(m) == pytest.approx((0.5, -0.5)) and m.twist.linear.z == pytest.approx(0.5)  # vz: cf2x's 0.75
        probe.wait_for(lambda: diagnostics, 10, "the bridge's diagnostics")
        values = {kv.key: kv.value for kv in diagnostics[-1][1].status[0].values}
        assert float(values["max_vxy"]) == 0.5 and float(values["max_vz"]) == 0.75
        assert float(values["max_altitude_m"]) == 12.0
    finally:
        streams.close()
        proc.send_signal(2)
        log = proc.communicate(timeout=10)[0]
    assert "clamped to |vx|,|vy| <= 0.5 m/s, |vz| <= 0.75 m/s" in log


@pytest.mark.parametrize("params, says", [
    (("max_vxy:=100",), "parameter max_vxy=100.0 is invalid: expected 0 or a number in (0, 30]"),
    (("max_yaw_rate:=-1",), "parameter max_yaw_rate=-1.0 is invalid: expected 0 or a number in (0, 6.28319]"),
    (("min_altitude_m:=3.0", "max_altitude_m:=2.0"), "the vehicle's limits do not fit together: min_altitude_m"),
])
def test_a_limit_out_of_range_stops_the_node_with_one_line(ros_env, params, says):
    proc = start_bridge(ros_env, "enu", *params, stdout=subprocess.PIPE)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2, out
    assert says in out and "Traceback" not in out
