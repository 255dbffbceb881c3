"""reasoner_node: the slow loop. Rewrites the user's instruction into the simple form from the
latest camera frame, at `rate_hz`, in a background thread (cognitivedrone.reasoning.loop).

Subscribes: camera/image_raw (sensor QoS; only the newest frame is kept, converted when the
reasoner runs), instruction (transient local). Publishes: instruction/rewritten (std_msgs/String,
the canonical simple-form sentence; vla_node checks it again), diagnostics.

Only a parse of the simple form is published, never the backend's own words; an answer that
names no gate or object, a timeout or an exception publishes nothing, and the flight goes on
with what vla_node has. If this node dies, vla_node keeps flying on the last rewrite.
"""

from __future__ import annotations

import threading

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import String

from cognitivedrone_ros.conversions import image_to_rgb
from cognitivedrone_ros.node_support import (
    EVENTS_QOS, LATCHED_QOS, OK, SENSOR_QOS, WARN, Param, declare_params, diagnostic, positive, run,
)

PARAMS = [
    Param("reasoner", "offline", "backend: offline[:DIR], hf:PATH, openai:URL[#model], none, or package.module:Class",
          lambda v: isinstance(v, str) and bool(v), "a reasoner spec"),
    Param("rate_hz", 2.0, "how often to ask the reasoner about the newest frame (Hz)", positive, "a number > 0"),
    Param("timeout_s", 5.0, "an answer later than this is dropped (s)", positive, "a number > 0"),
    Param("diagnostics_hz", 1.0, "rate of the diagnostics message (Hz)", positive, "a number > 0"),
]


class ReasonerNode(Node):
    def __init__(self):
        super().__init__("reasoner_node")
        from cognitivedrone.reasoning import make_reasoner
        from cognitivedrone.reasoning.loop import ReasonerLoop

        p = self.params = declare_params(self, PARAMS)
        self.reasoner = make_reasoner(p["reasoner"])
        self.loop = ReasonerLoop(self.reasoner, p["rate_hz"], p["timeout_s"], self.on_answer,
                                 warn=lambda m: self.get_logger().warning(m, throttle_duration_sec=2.0))
        self.task = 0
        self.lock = threading.Lock()
        self.frames = 0
        self.dropped = 0
        self.published = ""
        self.pub = self.create_publisher(String, "instruction/rewritten", EVENTS_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", EVENTS_QOS)
        self.create_subscription(Image, "camera/image_raw", self.on_image, SENSOR_QOS)
        self.create_subscription(String, "instruction", self.on_instruction, LATCHED_QOS)
        self.create_timer(1.0 / p["diagnostics_hz"], self.publish_diagnostics)
        self.loop.start()
        self.get_logger().info(f"reasoner {p['reasoner']} at {p['rate_hz']:g} Hz, waiting for an instruction")

    def on_image(self, msg: Image) -> None:
        self.frames += 1
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
        text = msg.data.strip()
        if not text:
            return
        with self.lock:
            self.task += 1
            self.published = ""
            task = self.task
        self.reasoner.reset()
        self.loop.set_task(task, text)
        self.get_logger().info(f"instruction: {text!r}")

    def on_answer(self, task: int, rw) -> None:
        from cognitivedrone.reasoning.simple_form import parse_simple_form

        if rw is not None and not rw.text.strip():
            self.loop.stats.reasoner_abstained += 1
        if rw is None or not rw.text.strip() or task != self.task:
            return  # failed, abstained, or about an instruction since replaced
        target = parse_simple_form(rw.text)
        if target is None:
            self.loop.stats.rewrites_rejected += 1
            self.get_logger().warning(f"rewrite {rw.text[:120]!r} names no gate or object; not published",
                                      throttle_duration_sec=2.0)
            return
        sentence = target.sentence()
        self.loop.stats.rewrites_accepted += 1
        self.pub.publish(String(data=sentence))
        if sentence != self.published:
            self.get_logger().info(f"rewrite: {sentence!r} ({rw.rationale[:160]})")
        self.published = sentence

    def publish_diagnostics(self) -> None:
        s = self.loop.stats
        lat = s.reasoner_latency_s[-100:]
        values = {"reasoner": self.params["reasoner"], "frames": self.frames, "dropped_malformed": self.dropped,
                  "calls": s.reasoner_calls, "published": s.rewrites_accepted, "rejected": s.rewrites_rejected,
                  "abstained": s.reasoner_abstained, "errors": s.reasoner_errors, "timeouts": s.reasoner_timeouts,
                  "latency_mean_ms": (sum(lat) / len(lat) * 1e3) if lat else float("nan"),
                  "rewrite": self.published}
        level = WARN if s.reasoner_errors or s.reasoner_timeouts or self.dropped else OK
        self.diag_pub.publish(diagnostic(self, "slow loop", level, self.published or "no rewrite yet", values))

    def close(self) -> None:
        self.loop.close()
        self.reasoner.close()


def main(args=None) -> None:
    run(ReasonerNode, args)


if __name__ == "__main__":
    main()
