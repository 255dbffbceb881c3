"""`cognitivedrone perf CKPT --ros`: camera image -> cmd_vel latency across processes.

vla_node runs as its own process (as in the stack); this process plays the camera, publishing
real FPV frames at `hz` stamped with the send time, and the cmd_vel subscriber. vla_node stamps
each command with its frame's stamp, so a command is matched to the frame it answers: latency =
arrival of the command - publication of the frame (DDS both ways, conversion, the policy, the
safety filter, serialisation). Watchdog commands between frames carry other stamps and are not
counted. The first seconds are not counted: while DDS settles after discovery, the first frames
can wait ~0.2 s or be dropped (measured: a one-off stall ~2 s in, gone with a 4 s warm-up).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass
class RosLatency:
    hz: float  # frames offered per second
    frames: int  # frames published in the timed window
    answered: int  # of which a command came back
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    image_px: int
    engine: str

    def as_dict(self) -> dict:
        return asdict(self)


def measure_ros(checkpoint: str | Path, engine: str = "onnxruntime", hz: float = 100.0, seconds: float = 20.0,
                warmup_s: float = 5.0, frames: np.ndarray | None = None, log_dir: Path | None = None,
                progress=print) -> RosLatency:
    import rclpy
    from geometry_msgs.msg import TwistStamped
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    from cognitivedrone.bench.perf import PERF_INSTRUCTION
    from cognitivedrone_ros.conversions import rgb_to_image, stamp_to_ns
    from cognitivedrone_ros.node_support import EVENTS_QOS, SENSOR_QOS
    from cognitivedrone_ros.stack import Stack, config_path, ros_env

    overrides = {"vla_node": {"engine": engine, "checkpoint": str(Path(checkpoint).resolve()),
                              "wait_for_rewrite_s": "0.0", "initial_instruction": f'"{PERF_INSTRUCTION}"'}}
    env = ros_env()
    domain = int(env.get("ROS_DOMAIN_ID", "0"))
    stack = Stack(config_path("sim"), overrides, nodes=("vla_node",), env=env, log_dir=log_dir)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = Node("perf_camera", context=context)
    sent: dict[int, float] = {}
    latency: list[float] = []
    counting = threading.Event()

    def on_cmd(msg: TwistStamped) -> None:
        t = time.perf_counter()
        t_sent = sent.pop(stamp_to_ns(msg.header.stamp), None)
        if t_sent is not None and counting.is_set():
            latency.append(t - t_sent)

    pub = node.create_publisher(Image, "camera/image_raw", SENSOR_QOS)
    # A deep queue: at depth 1 a watchdog command arriving right after a frame's answer would
    # replace it before this thread reads it, and the frame would count as unanswered.
    node.create_subscription(TwistStamped, "cmd_vel", on_cmd, EVENTS_QOS)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.01)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    published = 0
    try:
        stack.start()
        deadline = time.monotonic() + 120
        while pub.get_subscription_count() == 0:  # vla_node is up once it subscribes to the camera
            if stack.exited() or time.monotonic() > deadline:
                raise RuntimeError(f"vla_node did not come up: {stack.exited() or 'timeout'}")
            time.sleep(0.1)
        image_px = 0
        period = 1.0 / hz
        start = time.perf_counter()
        k = 0
        total = warmup_s + seconds
        progress(f"publishing {hz:g} frames/s for {warmup_s:g} s warm-up + {seconds:g} s timed")
        while True:
            now = time.perf_counter()
            if now - start >= total:
                break
            if not counting.is_set() and now - start >= warmup_s:
                counting.set()
            img = frames[k % len(frames)]
            image_px = img.shape[0]
            stamp = node.get_clock().now().to_msg()
            sent[stamp_to_ns(stamp)] = time.perf_counter()
            pub.publish(rgb_to_image(img, stamp))
            published += counting.is_set()
            k += 1
            # A fixed schedule, not sleep(period): the offered rate stays at `hz`.
            time.sleep(max(0.0, start + k * period - time.perf_counter()))
        time.sleep(0.2)  # the last answers
    finally:
        stop.set()
        spinner.join(timeout=2)
        node.destroy_node()
        rclpy.shutdown(context=context)
        stack.stop()
    lat = np.asarray(latency) * 1e3
    if lat.size == 0:
        raise RuntimeError("no command answered a frame (see the vla_node log)")
    return RosLatency(hz=hz, frames=published, answered=int(lat.size), p50_ms=float(np.percentile(lat, 50)),
                      p90_ms=float(np.percentile(lat, 90)), p99_ms=float(np.percentile(lat, 99)),
                      max_ms=float(lat.max()), image_px=image_px, engine=engine)


def default_domain() -> None:
    """perf runs on a domain of its own unless told otherwise: a running stack must not answer."""
    os.environ.setdefault("ROS_DOMAIN_ID", str(90 + os.getpid() % 9))
