"""Listen for sim_node's episode outcome (episode/outcome, transient local) from outside the stack."""

from __future__ import annotations

import json
import time


def wait_for_outcome(timeout_s: float, alive=lambda: True, topic: str = "episode/outcome") -> dict | None:
    """The first outcome published within `timeout_s`, or None; stops early when alive() is False."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from std_msgs.msg import String

    from cognitivedrone_ros.node_support import LATCHED_QOS

    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("outcome_listener", context=context)
    got: list[dict] = []
    node.create_subscription(String, topic, lambda m: got.append(json.loads(m.data)), LATCHED_QOS)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    deadline = time.monotonic() + timeout_s
    try:
        while not got and time.monotonic() < deadline and alive():
            executor.spin_once(timeout_sec=0.1)
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
    return got[0] if got else None
