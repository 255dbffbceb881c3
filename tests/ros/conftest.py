"""Real rclpy over DDS on loopback. Each test gets its own ROS_DOMAIN_ID (so tests running side
by side don't hear each other) and a `RosProbe`: a node in its own context, spun in a thread."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy", reason="the ROS 2 wheels are not installed (make install puts them in .venv)")

os.environ.setdefault("AMENT_PREFIX_PATH", sys.prefix)
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

REPO = Path(__file__).resolve().parents[2]
_domains = itertools.count()


def worker_index(worker_id: str) -> int:
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


@pytest.fixture
def ros_domain(worker_id) -> int:
    """A domain id of this test's own: up to 4 xdist workers draw from disjoint ranges of 20
    (10..89; ids up to 101 keep Fast DDS's ports below Linux's ephemeral range; 90.. are for
    module fixtures)."""
    return 10 + (worker_index(worker_id) % 4) * 20 + next(_domains) % 20


@pytest.fixture
def ros_env(ros_domain) -> dict[str, str]:
    env = dict(os.environ)
    env["ROS_DOMAIN_ID"] = str(ros_domain)
    return env


class RosProbe:
    """The test's own node: publishes, records what it hears, calls services."""

    def __init__(self, domain: int):
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = Node("test_probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: dict[str, list[tuple[float, object]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self):
        while not self._stop.is_set():
            try:
                self.executor.spin_once(timeout_sec=0.02)
            except Exception:  # shutting down
                return

    def listen(self, msg_type, topic: str, qos) -> list[tuple[float, object]]:
        """Every message on `topic` as (arrival time.monotonic(), message)."""
        got = self.received.setdefault(topic, [])
        self.node.create_subscription(msg_type, topic, lambda m: got.append((time.monotonic(), m)), qos)
        return got

    def publisher(self, msg_type, topic: str, qos):
        return self.node.create_publisher(msg_type, topic, qos)

    def wait_for(self, predicate, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")

    def wait_for_subscribers(self, pub, n: int = 1, timeout_s: float = 20.0):
        self.wait_for(lambda: pub.get_subscription_count() >= n, timeout_s, f"{n} subscriber(s) on {pub.topic_name}")

    def call(self, srv_type, name: str, request, timeout_s: float = 10.0):
        client = self.node.create_client(srv_type, name)
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise AssertionError(f"service {name} did not come up within {timeout_s:g} s")
        future = client.call_async(request)
        self.wait_for(future.done, timeout_s, f"the answer of {name}")
        return future.result()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def probe(ros_domain):
    p = RosProbe(ros_domain)
    yield p
    p.close()
