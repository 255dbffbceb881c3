"""A stand-in for what a drone feeds the drone stack, from the test's own node: a camera on a
driver's topic and the vehicle's local pose as MAVROS publishes it."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import Image

from cognitivedrone_ros.conversions import rgb_to_image
from cognitivedrone_ros.node_support import SENSOR_QOS

CAMERA = "/camera/camera/color/image_raw"  # a RealSense driver's topic
POSE = "mavros/local_position/pose"


class FakeVehicle:
    """Camera frames at 10 Hz (one view, with a live sensor's noise of +-1 level: a camera that
    sends the same bytes again while the drone is told to move is a frozen one, and the Pilot
    hovers on it) and the pose at 20 Hz, facing `yaw` (ENU), in a thread until stopped."""

    def __init__(self, probe, frame: np.ndarray, yaw: float = math.pi / 2):
        self.probe, self.frame, self.yaw = probe, frame, yaw
        self.camera = probe.publisher(Image, CAMERA, SENSOR_QOS)
        self.pose = probe.publisher(PoseStamped, POSE, SENSOR_QOS)
        self._stop = threading.Event()
        self._rng = np.random.default_rng(0)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _live(self) -> np.ndarray:
        noise = self._rng.integers(-1, 2, self.frame.shape)
        return np.clip(self.frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    def _run(self) -> None:
        k = 0
        while not self._stop.is_set():
            now = self.probe.node.get_clock().now().to_msg()
            if k % 2 == 0:
                self.camera.publish(rgb_to_image(self._live(), now))
            p = PoseStamped()
            p.header.stamp, p.header.frame_id = now, "map"
            p.pose.orientation.z, p.pose.orientation.w = math.sin(self.yaw / 2), math.cos(self.yaw / 2)
            self.pose.publish(p)
            k += 1
            time.sleep(0.05)

    def __enter__(self) -> FakeVehicle:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
