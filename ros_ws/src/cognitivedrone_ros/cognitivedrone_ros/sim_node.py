"""sim_node: one CognitiveDroneBench episode in the pybullet world, in real time, over ROS.

Publishes: camera/image_raw (sensor_msgs/Image rgb8, sensor QoS, `image_size` px: a camera
sharper than the policy's, as a real one is; vla_node shrinks it), odom (nav_msgs/Odometry,
world frame `map` ENU, twist in base_link), episode/outcome (std_msgs/String JSON, transient
local: {"episode_id", "outcome", "gate_passed", "target_gate", "time_s"}), diagnostics.
Subscribes: cmd_vel (geometry_msgs/TwistStamped, body FLU), instruction (transient local).

The drone holds its start pose until the stack is up (every topic in `wait_for_topics` has a
publisher) and an instruction is heard (`publish_instruction` publishes the episode's own once
the stack is up), then the physics steps 1/control_hz with each command. In lockstep (default)
a step waits for the command answering the newest frame (at most command_timeout_s, then
hover), so a slow machine slows the simulation instead of changing what the policy sees; else
the world steps at control_hz on the wall clock with the newest command. The outcome is judged
as the benchmark judges.
"""

from __future__ import annotations

import json
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import String

from cognitivedrone.types import VelocityCommand
from cognitivedrone_ros.conversions import command_to_twist, rgb_to_image, stamp_to_ns, twist_to_command
from cognitivedrone_ros.node_support import (
    COMMAND_QOS,
    EVENTS_QOS,
    INSTRUCTION_REPEAT_S,
    LATCHED_QOS,
    OK,
    SENSOR_QOS,
    WARN,
    EndOfRun,
    Param,
    StatePublisher,
    declare_params,
    diagnostic,
    guarded,
    one_of,
    positive,
    run,
)

PARAMS = [
    Param("suite", "cognitivedrone-v1", "suite name (cognitivedrone/tasks/suites) or path to a suite JSON",
          lambda v: isinstance(v, str) and bool(v), "a suite name or path"),
    Param("episode", "", "episode id to fly (empty: the one at `index`)"),
    Param("index", 0, "episode index in the suite, when `episode` is empty",
          lambda v: isinstance(v, int) and v >= 0, "an integer >= 0"),
    Param("prompt", "original", "which instruction publish_instruction sends: original or simple",
          one_of("original", "simple"), "original or simple"),
    Param("publish_instruction", True, "publish the episode's instruction on `instruction` once the stack is up"),
    INSTRUCTION_REPEAT_S,
    Param("wait_for_topics", "cmd_vel", "comma-separated topics that must have a publisher before the episode "
          "starts (the stack is up: vla_node's cmd_vel, reasoner_node's instruction/rewritten)"),
    Param("image_size", 256, "camera resolution (px, square)", lambda v: isinstance(v, int) and v >= 16,
          "an integer >= 16"),
    Param("control_hz", 10.0, "physics steps per second of the command loop (the policy's rate; Hz)", positive,
          "a number > 0"),
    Param("command_timeout_s", 0.5, "a command older than this counts as hover (s); in lockstep, how long to wait "
          "for the answer to a frame before stepping with hover", positive, "a number > 0"),
    Param("lockstep", True, "step the world once the command answering the newest frame is in (cmd_vel stamped "
          "with the frame's stamp, as vla_node does): simulated time then advances per decision, as in the "
          "benchmark, however loaded the machine; false: step on the wall clock with the newest command"),
    Param("airframe", "cf2x", "cf2x or racer", one_of("cf2x", "racer"), "cf2x or racer"),
    Param("pilot", "", "empty: fly the commands on cmd_vel (vla_node's); expert: the privileged expert flies, as a "
          "human pilot with a joystick would, once teleop/cmd_vel has a subscriber (a recorder), and its commands go "
          "out there (TwistStamped, body FLU, stamped with the frame's stamp): the teleop stand-in for recording "
          "flights to fine-tune on", one_of("", "expert"), "empty or expert"),
    Param("exit_on_outcome", False, "end the node once the episode is judged (after the outcome has had "
          "`outcome_linger_s` to reach its listeners): exit status 0 on success, 1 otherwise; sim.launch.py "
          "and `cognitivedrone stack sim` then end with it"),
    Param("outcome_linger_s", 1.0, "with exit_on_outcome, how long to go on after the outcome (s)", positive,
          "a number > 0"),
]


class SimNode(Node):
    def __init__(self):
        super().__init__("sim_node")
        from cognitivedrone.bench.runner import prepare_textures
        from cognitivedrone.sim.env import DroneEnv, SimConfig
        from cognitivedrone.sim.scene import scene_options
        from cognitivedrone.tasks.prompts import episode_prompt
        from cognitivedrone.tasks.suite import load_suite

        p = self.params = declare_params(self, PARAMS)
        suite = load_suite(p["suite"])
        if p["episode"]:
            self.episode = suite.episode(p["episode"])
        elif p["index"] < len(suite.episodes):
            self.episode = suite.episodes[p["index"]]
        else:
            raise ValueError(f"index {p['index']} is past the end of suite {suite.name} ({len(suite.episodes)} episodes)")
        prepare_textures(suite)
        self.prompt = episode_prompt(self.episode, p["prompt"])
        self.env = DroneEnv(SimConfig(airframe=p["airframe"], image_size=p["image_size"], control_hz=p["control_hz"]))
        self.obs, _ = self.env.reset(seed=self.episode.seed, options=scene_options(self.episode, self.prompt))
        self.expert = None
        if p["pilot"] == "expert":
            from cognitivedrone.expert import ExpertPilot

            self.expert = ExpertPilot()
            self.expert.reset(self.env.world.gates[self.episode.target_index].pose,
                              camera=None if self.env.look.is_classic else self.env.camera_config)
            self.teleop_pub = self.create_publisher(TwistStamped, "teleop/cmd_vel", COMMAND_QOS)
        self.cmd, self.cmd_t = None, 0.0
        self.answer = None  # lockstep: the command stamped with the newest frame's stamp
        self.frame_stamp, self.frame_t, self.step_t = -1, 0.0, 0.0
        self.timeouts = 0
        self.started = False
        self.ready = False  # every topic of wait_for_topics has a publisher
        self.heard: str | None = None  # the instruction, once heard
        self.waiting_for = [t.strip() for t in p["wait_for_topics"].split(",") if t.strip()]
        self.outcome: dict | None = None
        self.steps = 0
        self.bad_commands = 0

        self.image_pub = self.create_publisher(Image, "camera/image_raw", SENSOR_QOS)
        self.odom_pub = self.create_publisher(Odometry, "odom", SENSOR_QOS)
        self.outcome_pub = self.create_publisher(String, "episode/outcome", LATCHED_QOS)
        self.instruction_pub = StatePublisher(self, String, "instruction", p["instruction_repeat_s"])
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", EVENTS_QOS)
        self.create_subscription(TwistStamped, "cmd_vel", guarded(self, self.on_cmd), COMMAND_QOS)
        self.create_subscription(String, "instruction", guarded(self, self.on_instruction), LATCHED_QOS)
        # Lockstep and the expert poll faster than they step: an answer is acted on soon after it
        # arrives, and a tick a hair early does not wait a whole period.
        self.create_timer(1.0 / (p["control_hz"] * (5 if p["lockstep"] or self.expert else 1)), self.on_tick)
        self.create_timer(1.0, self.publish_diagnostics)
        self.get_logger().info(f"episode {self.episode.id} ({self.episode.family}): {self.prompt!r}; "
                               f"target gate {self.episode.target_index + 1}; waiting for "
                               f"{', '.join(self.waiting_for) or 'nothing'} and an instruction")

    def on_cmd(self, msg: TwistStamped) -> None:
        try:
            self.cmd, self.cmd_t = twist_to_command(msg), time.monotonic()
            if stamp_to_ns(msg.header.stamp) == self.frame_stamp:
                self.answer = self.cmd
        except ValueError as exc:
            self.bad_commands += 1
            self.get_logger().warning(f"ignored cmd_vel: {exc}", throttle_duration_sec=2.0)

    def on_instruction(self, msg: String) -> None:
        if msg.data.strip():
            self.heard = msg.data

    def check_start(self) -> None:
        if not self.ready:
            missing = [t for t in self.waiting_for if self.count_publishers(t) == 0]
            if missing or (self.expert is not None and self.teleop_pub.get_subscription_count() == 0):
                return
            self.ready = True
            if self.params["publish_instruction"]:
                self.instruction_pub.publish(String(data=self.prompt))
        if self.heard is not None:
            self.started = True
            self.get_logger().info(f"stack up and instruction heard, flying: {self.heard!r}")

    def on_tick(self) -> None:
        if self.outcome is not None:
            return
        now, p = time.monotonic(), self.params
        if not self.started:
            self.check_start()
            if now - self.frame_t < 1.0 / p["control_hz"]:
                return
        elif self.expert is not None:  # the teleop stand-in: the expert answers the newest frame at once
            if now - self.step_t < 1.0 / p["control_hz"]:
                return
            cmd = self.expert.act(self.obs["state"])
            self.teleop_pub.publish(command_to_twist(cmd, self.frame_stamp_msg))
            self.step(cmd)
        elif p["lockstep"]:
            if now - self.step_t < 1.0 / p["control_hz"]:
                return  # not faster than real time
            if self.answer is None and now - self.frame_t < p["command_timeout_s"]:
                return  # the newest frame's answer is not in yet
            self.timeouts += self.answer is None
            self.step(self.answer or VelocityCommand.hover())
        else:
            fresh = self.cmd is not None and now - self.cmd_t <= p["command_timeout_s"]
            self.step(self.cmd if fresh else VelocityCommand.hover())
        if self.outcome is None:
            self.publish_frame()

    def step(self, cmd) -> None:
        # On a schedule: 10 Hz is 10 Hz on average, not 1 / (0.1 s + the step's cost + the poll's
        # lag); after a stall it catches up by one period at most.
        period = 1.0 / self.params["control_hz"]
        self.step_t = max(self.step_t + period, time.monotonic() - period)
        self.obs, _, terminated, truncated, info = self.env.step(cmd)
        self.steps += 1
        if terminated or truncated:
            self.finish(info)

    def publish_frame(self) -> None:
        stamp = self.get_clock().now().to_msg()
        self.frame_stamp, self.frame_t, self.answer = stamp_to_ns(stamp), time.monotonic(), None
        self.frame_stamp_msg = stamp
        self.image_pub.publish(rgb_to_image(self.obs["image"], stamp, "camera"))
        self.odom_pub.publish(self.odometry(stamp))

    def finish(self, info: dict) -> None:
        from cognitivedrone.tasks.suite import judge

        gate = info.get("gate_index")
        self.outcome = {"episode_id": self.episode.id, "outcome": judge(info["event"], gate, self.episode.target_index),
                        "gate_passed": gate + 1 if info["event"] == "gate" else None,
                        "target_gate": self.episode.target_index + 1, "time_s": round(info["time_s"], 3),
                        "event": info["event"], "detail": info.get("hit", "")}
        self.outcome_pub.publish(String(data=json.dumps(self.outcome)))
        self.get_logger().info(f"episode over: {self.outcome}")
        if self.params["exit_on_outcome"]:
            self.create_timer(self.params["outcome_linger_s"], self.end)

    def end(self) -> None:
        raise EndOfRun(0 if self.outcome["outcome"] == "success" else 1)

    def odometry(self, stamp) -> Odometry:
        import pybullet as pb

        s = self.obs["state"].astype(float)
        msg = Odometry()
        msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, "map", "base_link"
        pos, q = msg.pose.pose.position, msg.pose.pose.orientation
        pos.x, pos.y, pos.z = s[0], s[1], s[2]
        q.x, q.y, q.z, q.w = pb.getQuaternionFromEuler(s[3:6].tolist())
        rot = np.array(pb.getMatrixFromQuaternion((q.x, q.y, q.z, q.w))).reshape(3, 3)
        v_body = rot.T @ s[6:9]  # twist is in the child frame
        msg.twist.twist.linear.x, msg.twist.twist.linear.y, msg.twist.twist.linear.z = (float(v) for v in v_body)
        msg.twist.twist.angular.x, msg.twist.twist.angular.y, msg.twist.twist.angular.z = (float(v) for v in s[9:12])
        return msg

    def publish_diagnostics(self) -> None:
        state = "over: " + self.outcome["outcome"] if self.outcome else ("flying" if self.started else "waiting")
        if not self.ready:
            state += " for publishers on " + ", ".join(self.waiting_for)
        values = {"episode": self.episode.id, "state": state, "steps": self.steps, "sim_time_s": round(self.env.t, 2),
                  "bad_commands": self.bad_commands, "answer_timeouts": self.timeouts}
        self.diag_pub.publish(diagnostic(self, "simulator", WARN if self.bad_commands else OK, state, values))

    def close(self) -> None:
        self.env.close()


def main(args=None) -> None:
    run(SimNode, args)


if __name__ == "__main__":
    main()
