"""Projection of world points into the FPV image (the policy's pointer labels)."""

import math

import numpy as np

from cognitivedrone.sim.camera import CameraConfig
from cognitivedrone.sim.env import DroneEnv, SimConfig
from cognitivedrone.sim.projection import gate_points, project_points, rotation_from_rpy


def _state(x=0.0, y=0.0, z=1.0, roll=0.0, pitch=0.0, yaw=0.0):
    s = np.zeros(12, np.float32)
    s[:6] = (x, y, z, roll, pitch, yaw)
    return s


def test_straight_ahead_is_the_image_centre_and_the_edges_are_half_the_fov():
    cam = CameraConfig()
    eye_z = 1.0 + cam.up_offset
    t = math.tan(math.radians(cam.fov_deg) / 2)
    d = 5.0 - cam.forward_offset
    pts = np.array([[5.0, 0.0, eye_z], [5.0, d * t * 0.5, eye_z], [5.0, 0.0, eye_z - d * t * 0.5], [-5.0, 0.0, eye_z],
                    [5.0, -2 * d * t, eye_z]])
    uv, seen = project_points(_state()[None], pts, cam)
    np.testing.assert_allclose(uv[0, 0], [0, 0], atol=1e-6)
    np.testing.assert_allclose(uv[0, 1], [-0.5, 0], atol=1e-6)  # left of the axis: left half of the image
    np.testing.assert_allclose(uv[0, 2], [0, 0.5], atol=1e-6)  # below: lower half (y down)
    assert seen[0].tolist() == [True, True, True, False, False]  # behind; outside the field of view


def test_yaw_turns_the_view():
    # Facing +y (yaw 90 deg), a point on the +y axis is straight ahead and one on +x is out of view.
    uv, seen = project_points(_state(yaw=math.pi / 2)[None], np.array([[0.0, 5.0, 1.01], [5.0, 0.0, 1.01]]))
    np.testing.assert_allclose(uv[0, 0], [0, 0], atol=1e-5)
    assert seen[0].tolist() == [True, False]
    r = rotation_from_rpy(np.array([0.3, -0.2, 1.1]))
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)


def test_projected_billboards_land_on_the_billboards_in_rendered_frames():
    env = DroneEnv(SimConfig())
    try:
        gates, boards = gate_points()
        for seed in (1, 2, 3):
            obs, _ = env.reset(seed=seed)
            for _ in range(seed * 3):
                obs, *_ = env.step(np.array([1.0, 0.2 * (seed - 2), 0.0, 0.1]))
            uv, seen = project_points(obs["state"][None], boards)
            img = obs["image"].astype(int)
            n = img.shape[0]
            for (u, v), ok in zip(uv[0], seen[0]):
                assert ok
                px, py = int((u + 1) / 2 * n), int((v + 1) / 2 * n)
                # Blank billboards are mid grey; the sky around them is near white.
                assert img[py, px].max() < 215 and np.ptp(img[py, px]) < 30, (seed, img[py, px])
    finally:
        env.close()
