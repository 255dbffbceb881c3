"""The drone stack of drone.launch.py (vla_node + reasoner_node + mavros_bridge from
config/drone.yaml), fed as a drone would feed it: camera frames on a remapped topic and the
vehicle's local pose, as MAVROS publishes it. No autopilot: the set-points are what is checked."""

from __future__ import annotations

import json
import time

from geometry_msgs.msg import TwistStamped
from std_msgs.msg import String
from std_srvs.srv import SetBool

from cognitivedrone.bench.frames import expert_frames
from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone_ros.node_support import COMMAND_QOS, EVENTS_QOS, LATCHED_QOS
from cognitivedrone_ros.stack import Stack, config_path, log_tail
from tests.ros.vehicle import CAMERA, FakeVehicle

SETPOINT = "mavros/setpoint_velocity/cmd_vel"


def test_drone_stack_turns_camera_frames_into_streamed_enu_setpoints_and_stops_on_estop(probe, ros_env, tmp_path):
    frames, prompts = expert_frames(30, image_size=256, every=1)  # the start of a smoke episode
    overrides = {"vla_node": {"engine": "torch", "checkpoint": str(DEFAULT_CHECKPOINT)},
                 "ground_link": {"listen": "127.0.0.1:0"}}  # any free port: tests run side by side
    setpoints = probe.listen(TwistStamped, SETPOINT, COMMAND_QOS)
    rewrites = probe.listen(String, "instruction/rewritten", EVENTS_QOS)
    instruction = probe.publisher(String, "instruction", LATCHED_QOS)

    # The vehicle faces north (forward flight is +y in ENU) and sees the first frame: not moving.
    with Stack(config_path("drone"), overrides, env=ros_env, log_dir=tmp_path,
               remaps=(f"camera/image_raw:={CAMERA}",)) as stack, FakeVehicle(probe, frames[0]) as vehicle:
        try:
            probe.wait_for(lambda: setpoints, 90, "mavros_bridge's set-points")
            probe.wait_for(lambda: rewrites or vehicle.camera.get_subscription_count() >= 2, 90,
                           "vla_node and reasoner_node up")
            instruction.publish(String(data=prompts[0]))
            probe.wait_for(lambda: rewrites, 60, "reasoner_node's rewrite of the camera's view")
            t0 = time.monotonic()
            probe.wait_for(lambda: any(t > t0 and abs(m.twist.linear.y) > 0.2 for t, m in setpoints), 30,
                           "a northward set-point (forward, facing north)")
            time.sleep(0.5)
            reply = probe.call(SetBool, "estop", SetBool.Request(data=True))
            t_stop = time.monotonic()
            time.sleep(0.8)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log_tail(tmp_path)}") from None
        assert not stack.exited(), log_tail(tmp_path)
    window = [m for t, m in setpoints if t0 < t < t_stop - 0.05]  # flying, before the e-stop
    assert json.loads(rewrites[0][1].data)["instruction"] == prompts[0]
    assert all(m.header.frame_id == "map" for m in window)
    # Forward in the body frame is north in ENU: the policy flies forward at the start of a flight.
    assert max(m.twist.linear.y for m in window) > 0.5
    assert reply.success
    late = [m for t, m in setpoints if t > t_stop + 0.3]  # the bridge's input timeout + delivery
    assert len(late) >= 10  # still streaming at 30 Hz: the autopilot keeps its mode
    assert all(m.twist.linear.x == m.twist.linear.y == m.twist.linear.z == m.twist.angular.z == 0.0 for m in late)
