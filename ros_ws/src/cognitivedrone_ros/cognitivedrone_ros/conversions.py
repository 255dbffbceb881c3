"""ROS messages <-> the stack's own types. Everything a message can get wrong is a ValueError
naming what was wrong, so a node can drop the message, count it and go on."""

from __future__ import annotations

import array
import math

import numpy as np
from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import Image

from cognitivedrone.types import VelocityCommand

# encoding -> (channels, index of R, G, B in a pixel; None: grey)
ENCODINGS = {"rgb8": (3, (0, 1, 2)), "bgr8": (3, (2, 1, 0)), "rgba8": (4, (0, 1, 2)), "bgra8": (4, (2, 1, 0)),
             "mono8": (1, None)}


def image_to_rgb(msg: Image) -> np.ndarray:
    """sensor_msgs/Image (8-bit rgb/bgr/rgba/bgra/mono) -> uint8 [H, W, 3] RGB."""
    if msg.encoding not in ENCODINGS:
        raise ValueError(f"image encoding {msg.encoding!r} is not supported (use one of {', '.join(ENCODINGS)})")
    channels, order = ENCODINGS[msg.encoding]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ValueError(f"image is {w}x{h}: empty")
    if step < w * channels:
        raise ValueError(f"image step {step} is shorter than a row ({w} px x {channels} bytes)")
    data = msg.data
    if len(data) != step * h:
        raise ValueError(f"image data is {len(data)} bytes; {w}x{h} {msg.encoding} with step {step} needs {step * h}")
    rows = np.frombuffer(data, np.uint8).reshape(h, step)  # data: array.array or bytes, no copy
    pixels = rows[:, :w * channels].reshape(h, w, channels)
    if order is None:
        return np.repeat(pixels, 3, axis=2)
    if order == (0, 1, 2) and channels == 3:
        return pixels  # rgb8: a view of the message, no copy (the consumer copies if it must)
    return np.ascontiguousarray(pixels[:, :, list(order)])


def rgb_to_image(rgb: np.ndarray, stamp, frame_id: str = "camera") -> Image:
    msg = Image()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = "rgb8"
    msg.is_bigendian = 0
    msg.step = msg.width * 3
    # An array.array, not bytes: Humble's generated setter checks a bytes value one byte at a time
    # in Python (~13 ms for a 256 px frame); an array.array of 'B' it takes as is.
    data = array.array("B")
    data.frombytes(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())  # ~0.3 ms; array("B", memoryview) went byte by byte (~9 ms)
    msg.data = data
    return msg


def command_to_twist(cmd: VelocityCommand, stamp, frame_id: str = "base_link") -> TwistStamped:
    msg = TwistStamped()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = float(cmd.vx), float(cmd.vy), float(cmd.vz)
    msg.twist.angular.z = float(cmd.yaw_rate)
    return msg


def twist_to_command(msg: TwistStamped) -> VelocityCommand:
    """A body-frame FLU TwistStamped -> VelocityCommand; non-finite values raise."""
    lin, ang = msg.twist.linear, msg.twist.angular
    cmd = VelocityCommand(lin.x, lin.y, lin.z, ang.z)
    if not cmd.is_finite():
        raise ValueError(f"cmd_vel has a non-finite value: {cmd}")
    return cmd


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Heading (rad, about +z, REP-103) of an orientation quaternion. ValueError for one that is
    not finite or not near unit length (within 10 %: rounding, not a broken estimator); a
    near-unit one is normalised first."""
    q = (x, y, z, w)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in q):
        raise ValueError(f"orientation quaternion {q} is not finite")
    n = math.sqrt(sum(v * v for v in q))
    if not 0.9 <= n <= 1.1:
        raise ValueError(f"orientation quaternion {q} has length {n:.3g}, not 1")
    x, y, z, w = (v / n for v in q)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def stamp_to_s(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def stamp_to_ns(stamp) -> int:
    """A header stamp as one integer: the key that matches a command to the frame it answers."""
    return stamp.sec * 1_000_000_000 + stamp.nanosec
