"""Messages <-> the stack's types, and the frame math of the MAVROS bridge (no DDS needed)."""

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image

from cognitivedrone.types import VelocityCommand
from cognitivedrone_ros.conversions import (
    command_to_twist, image_to_rgb, rgb_to_image, twist_to_command, yaw_from_quaternion,
)
from cognitivedrone_ros.frames import body_to_enu

RGB = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)


def image(encoding, pixels, step_pad=0):
    h, w, c = pixels.shape
    rows = np.concatenate([pixels.reshape(h, w * c), np.zeros((h, step_pad), np.uint8)], axis=1)
    return Image(height=h, width=w, encoding=encoding, step=w * c + step_pad, data=rows.tobytes())


@pytest.mark.parametrize("encoding, to_wire", [
    ("rgb8", lambda p: p), ("bgr8", lambda p: p[:, :, ::-1]),
    ("rgba8", lambda p: np.dstack([p, np.full(p.shape[:2], 255, np.uint8)])),
    ("bgra8", lambda p: np.dstack([p[:, :, ::-1], np.zeros(p.shape[:2], np.uint8)])),
])
def test_colour_encodings_come_back_as_rgb(encoding, to_wire):
    assert np.array_equal(image_to_rgb(image(encoding, to_wire(RGB))), RGB)
    assert np.array_equal(image_to_rgb(image(encoding, to_wire(RGB), step_pad=3)), RGB)  # padded rows


def test_mono_is_grey_rgb_and_round_trip():
    grey = image_to_rgb(image("mono8", RGB[:, :, :1]))
    assert grey.shape == (6, 5, 3) and np.array_equal(grey[:, :, 0], grey[:, :, 2])
    assert np.array_equal(image_to_rgb(rgb_to_image(RGB, Time())), RGB)


@pytest.mark.parametrize("msg, says", [
    (Image(height=4, width=4, encoding="32FC1", step=16, data=bytes(64)), "encoding '32FC1' is not supported"),
    (Image(height=4, width=4, encoding="rgb8", step=12, data=bytes(40)), "needs 48"),
    (Image(height=0, width=0, encoding="rgb8", step=0, data=b""), "empty"),
    (Image(height=4, width=4, encoding="rgb8", step=8, data=bytes(32)), "shorter than a row"),
])
def test_malformed_images_say_what_is_wrong(msg, says):
    with pytest.raises(ValueError, match=says):
        image_to_rgb(msg)


def test_twist_round_trip_and_nan_refused():
    cmd = VelocityCommand(0.5, -0.25, 0.1, 0.3)
    msg = command_to_twist(cmd, Time(sec=3))
    assert msg.header.frame_id == "base_link" and twist_to_command(msg) == cmd
    msg.twist.linear.x = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        twist_to_command(msg)


@pytest.mark.parametrize("yaw, body, enu", [
    (0.0, (1.0, 0.0), (1.0, 0.0)),  # facing east: forward is east
    (math.pi / 2, (1.0, 0.0), (0.0, 1.0)),  # facing north: forward is north
    (math.pi / 2, (0.0, 1.0), (-1.0, 0.0)),  # facing north: left is west
    (math.pi, (1.0, 0.5), (-1.0, -0.5)),
    (-math.pi / 4, (1.0, 0.0), (math.sqrt(0.5), -math.sqrt(0.5))),  # facing south-east
])
def test_body_velocities_rotate_into_enu_by_the_heading(yaw, body, enu):
    ve, vn, vu, wz = body_to_enu(body[0], body[1], 0.3, 0.2, yaw)
    assert (ve, vn) == pytest.approx(enu, abs=1e-12)
    assert (vu, wz) == (0.3, 0.2)  # vertical speed and yaw rate don't depend on the heading


@pytest.mark.parametrize("yaw", [0.0, 0.7, -2.5, math.pi / 2])
def test_yaw_from_quaternion(yaw):
    q = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
    assert yaw_from_quaternion(*q) == pytest.approx(yaw)
