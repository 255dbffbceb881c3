"""Where a world point appears in the FPV image, from the drone's state alone.

Training uses it to label demonstration frames with where each gate is (no simulator needed:
the layout is fixed and every frame records the drone's pose), which gives the policy dense
supervision on *where* the instructed gate is, not just what to do.
"""

from __future__ import annotations

import math

import numpy as np

from cognitivedrone.sim.camera import CameraConfig
from cognitivedrone.sim.world import BILLBOARD_BOTTOM_Z, BILLBOARD_SIZE, GATE_CENTER_Z, reference_layout


def rotation_from_rpy(rpy: np.ndarray) -> np.ndarray:
    """Body-to-world rotation(s) [..., 3, 3] for roll-pitch-yaw (x, y, z; pybullet's convention)."""
    r, p, y = (np.asarray(rpy, np.float64)[..., i] for i in range(3))
    cr, sr, cp, sp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    return np.stack([
        np.stack([cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], -1),
        np.stack([sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], -1),
        np.stack([-sp, cp * sr, cp * cr], -1),
    ], -2)


def project_points(states: np.ndarray, points: np.ndarray, camera: CameraConfig = CameraConfig()) -> tuple[np.ndarray, np.ndarray]:
    """states [N, 12] (pos, rpy, ...) and world points [K, 3] -> (uv [N, K, 2], in_view [N, K]).

    uv is normalised like torch's grid_sample (align_corners=False): x right, y down, the
    image spans [-1, 1] on both axes. A point behind the lens or outside the image is not in view.
    """
    states = np.asarray(states, np.float64).reshape(-1, 12)
    pos, rot = states[:, :3], rotation_from_rpy(states[:, 3:6])  # [N,3], [N,3,3]
    eye = pos + camera.forward_offset * rot[:, :, 0] + camera.up_offset * rot[:, :, 2]
    rel = np.asarray(points, np.float64)[None, :, :] - eye[:, None, :]  # [N, K, 3] world
    body = np.einsum("nji,nkj->nki", rot, rel)  # R^T (p - eye): x forward, y left, z up
    tp = math.radians(camera.pitch_deg)  # the mount tilts the optical axis up about body y
    depth = math.cos(tp) * body[..., 0] + math.sin(tp) * body[..., 2]
    up = -math.sin(tp) * body[..., 0] + math.cos(tp) * body[..., 2]
    t = math.tan(math.radians(camera.fov_deg) / 2)
    safe = np.where(depth > camera.near, depth, 1.0)
    uv = np.stack([-body[..., 1] / (safe * t), -up / (safe * t)], -1)
    in_view = (depth > camera.near) & (np.abs(uv) <= 1.0).all(-1)
    return uv.astype(np.float32), in_view


def gate_points() -> tuple[np.ndarray, np.ndarray]:
    """Centres of the reference layout's gate openings and of their billboards, [3, 3] each."""
    poses = reference_layout()
    gates = np.array([[g.x, g.y, GATE_CENTER_Z] for g in poses])
    boards = np.array([[g.x, g.y, BILLBOARD_BOTTOM_Z + BILLBOARD_SIZE / 2] for g in poses])
    return gates, boards
