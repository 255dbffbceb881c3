"""reasoner_node: the slow loop. Rewrites the user's instruction into the simple form from the
latest camera frame, at `rate_hz`, in a background thread (cognitivedrone.reasoning.loop).

Subscribes: camera/image_raw (sensor QoS; only the newest frame is kept, converted when the
reasoner runs), instruction (transient local). Publishes: instruction/rewritten (std_msgs/String
holding JSON {"instruction": the user's words, "rewrite": the canonical simple-form sentence}:
DDS does not order messages across topics, so vla_node must be able to tell an answer about the
last instruction from one about the current; it checks the sentence again), diagnostics.

Only a parse of the simple form is published, never the backend's own words; an answer that
names no gate or object, a timeout or an exception publishes nothing, and the flight goes on
with what vla_node has. If this node dies, vla_node keeps flying on the last rewrite.
"""

from __future__ import annotations

import json
import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import String

from cognitivedrone.pilot import check_instruction
from cognitivedrone.reasoning.offline.engines import ENGINES
from cognitivedrone_ros.conversions import image_to_rgb
from cognitivedrone_ros.node_support import (
    DIAGNOSTICS_HZ,
    EVENTS_QOS,
    LATCHED_QOS,
    OK,
    SENSOR_QOS,
    WARN,
    Deltas,
    Param,
    declare_params,
    diagnostic,
    guarded,
    one_of,
    positive,
    run,
)

# The reasoner says so when it has an instruction but the camera has gone quiet this long (s).
NO_FRAMES_WARN_S = 5.0


PARAMS = [
    Param("reasoner", "offline", "backend: offline[:DIR], hf:PATH, openai:URL[#model] or package.module:Class "
          "(none: the stack leaves this node out and vla_node flies the user's words at once; stack.nodes_to_start)",
          lambda v: isinstance(v, str) and bool(v) and v != "none",
          "a reasoner spec other than none (`reasoner: none` in the stack YAML, or reasoner:=none, leaves "
          "reasoner_node out)"),
    Param("engine", "auto", "what runs the offline reasoner's networks: onnxruntime (their ONNX export; no torch), "
          "torch, or auto (torch where it is installed, else onnxruntime)",
          one_of(*ENGINES), ", ".join(ENGINES)),
    Param("rate_hz", 2.0, "how often to ask the reasoner about the newest frame (Hz)", positive, "a number > 0"),
    Param("timeout_s", 5.0, "an answer later than this is dropped (s)", positive, "a number > 0"),
    DIAGNOSTICS_HZ,
]


class ReasonerNode(Node):
    def __init__(self):
        super().__init__("reasoner_node")
        from cognitivedrone.reasoning import make_reasoner
        from cognitivedrone.reasoning.loop import ReasonerLoop

        p = self.params = declare_params(self, PARAMS)
        self.reasoner = make_reasoner(p["reasoner"], engine=p["engine"])
        self.loop = ReasonerLoop(self.reasoner, p["rate_hz"], p["timeout_s"], self.on_answer,
                                 warn=lambda m: self.get_logger().warning(m, throttle_duration_sec=2.0))
        self.task: tuple[int, str] = (0, "")  # (number, the user's words): what answers are about
        self.grown = Deltas()
        self.frames = 0
        self.last_frame_t = time.monotonic()
        self.dropped = 0
        self.published = ""
        self.pub = self.create_publisher(String, "instruction/rewritten", EVENTS_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", EVENTS_QOS)
        self.create_subscription(Image, "camera/image_raw", guarded(self, self.on_image), SENSOR_QOS)
        self.create_subscription(String, "instruction", guarded(self, self.on_instruction), LATCHED_QOS)
        self.create_timer(1.0 / p["diagnostics_hz"], guarded(self, self.publish_diagnostics))
        self.loop.start()
        self.get_logger().info(f"reasoner {p['reasoner']} ({self.reasoner.describe()}) at {p['rate_hz']:g} Hz, waiting for an instruction")

    def on_image(self, msg: Image) -> None:
        self.frames += 1
        self.last_frame_t = time.monotonic()
        self.loop.offer_frame(lambda: self.read_frame(msg))  # converted only when the reasoner runs

    def read_frame(self, msg: Image):
        from cognitivedrone.policy.inputs import fit_image

        try:
            rgb = image_to_rgb(msg)
        except ValueError:
            self.dropped += 1
            raise
        size = getattr(self.reasoner, "image_size", None)
        return fit_image(rgb, size) if size else rgb

    def on_instruction(self, msg: String) -> None:
        try:
            text = check_instruction(msg.data)
        except ValueError as exc:
            self.get_logger().warning(f"ignored an instruction: {exc}", throttle_duration_sec=2.0)
            return
        if text == self.task[1]:
            return  # the same again: its sources repeat it (node_support.StatePublisher), no news
        self.task = (self.task[0] + 1, text)
        self.published = ""
        self.loop.set_task(*self.task)  # the loop resets the reasoner before its first call on it
        self.get_logger().info(f"instruction: {text!r}")

    def on_answer(self, task: int, rw) -> None:
        from cognitivedrone.reasoning.loop import accept

        if rw is None:
            return  # failed: the loop has said why
        target = accept(rw, self.loop.stats, self.loop.warn)
        number, instruction = self.task
        if target is None or task != number:
            return  # abstained, unusable, or about an instruction since replaced
        sentence = target.sentence()
        self.loop.stats.rewrites_accepted += 1
        self.pub.publish(String(data=json.dumps({"instruction": instruction, "rewrite": sentence})))
        if sentence != self.published:
            self.get_logger().info(f"rewrite: {sentence!r} ({rw.rationale[:160]})")
        self.published = sentence

    def publish_diagnostics(self) -> None:
        if self.task[0] and (quiet := time.monotonic() - self.last_frame_t) > NO_FRAMES_WARN_S:
            self.get_logger().warning(f"an instruction to reason about but no camera frame for {quiet:.0f} s "
                                      "(topic camera/image_raw)", throttle_duration_sec=30.0)
        s = self.loop.stats
        lat = list(s.reasoner_latency_s)[-100:]
        values = {"reasoner": self.params["reasoner"], "frames": self.frames, "dropped_malformed": self.dropped,
                  "calls": s.reasoner_calls, "published": s.rewrites_accepted, "rejected": s.rewrites_rejected,
                  "abstained": s.reasoner_abstained, "errors": s.reasoner_errors, "timeouts": s.reasoner_timeouts,
                  "latency_mean_ms": (sum(lat) / len(lat) * 1e3) if lat else float("nan"),
                  "rewrite": self.published}
        new = self.grown({"errors": s.reasoner_errors, "timeouts": s.reasoner_timeouts, "dropped": self.dropped})
        level = WARN if any(new.values()) else OK
        self.diag_pub.publish(diagnostic(self, "slow loop", level, self.published or "no rewrite yet", values))

    def close(self) -> None:
        self.loop.close()
        self.reasoner.close()


def main(args=None) -> None:
    run(ReasonerNode, args)


if __name__ == "__main__":
    main()
