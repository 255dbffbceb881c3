"""First-person camera: forward-facing, square, 106° field of view (the reference's Gazebo
camera), rendered with pybullet's CPU TinyRenderer so it runs headless anywhere."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p


@dataclass(frozen=True)
class CameraConfig:
    size: int = 128  # square image, pixels
    fov_deg: float = 106.0  # horizontal = vertical for a square image
    near: float = 0.03
    far: float = 40.0
    forward_offset: float = 0.04  # lens ahead of the body centre, m
    up_offset: float = 0.01
    pitch_deg: float = 0.0  # positive tilts the lens up

    @property
    def focal_px(self) -> float:
        """Focal length in pixels: an object of width w at distance d covers focal_px * w / d px."""
        return (self.size / 2) / math.tan(math.radians(self.fov_deg) / 2)


class FPVCamera:
    def __init__(self, client: int, config: CameraConfig = CameraConfig()):
        self.client = client
        self.config = config
        self._proj = p.computeProjectionMatrixFOV(config.fov_deg, 1.0, config.near, config.far)
        tp = math.radians(config.pitch_deg)
        self._ct, self._st = math.cos(tp), math.sin(tp)

    def render(self, pos, quat, light_direction=(0.4, 0.3, 1.0)) -> np.ndarray:
        """RGB uint8 (size, size, 3) seen from a body at `pos` with orientation `quat` (xyzw)."""
        cfg = self.config
        m = p.getMatrixFromQuaternion(quat)  # row-major 3x3
        fwd_b = (m[0], m[3], m[6])
        up_b = (m[2], m[5], m[8])
        # Tilt the optical axis by the mount pitch about the body's y axis.
        fwd = tuple(self._ct * f + self._st * u for f, u in zip(fwd_b, up_b))
        up = tuple(-self._st * f + self._ct * u for f, u in zip(fwd_b, up_b))
        eye = tuple(pos[i] + cfg.forward_offset * fwd_b[i] + cfg.up_offset * up_b[i] for i in range(3))
        target = tuple(eye[i] + fwd[i] for i in range(3))
        view = p.computeViewMatrix(eye, target, up)
        _, _, rgba, _, _ = p.getCameraImage(
            cfg.size, cfg.size, view, self._proj,
            renderer=p.ER_TINY_RENDERER, flags=p.ER_NO_SEGMENTATION_MASK,
            lightDirection=light_direction, shadow=0, physicsClientId=self.client,
        )
        img = np.asarray(rgba, dtype=np.uint8).reshape(cfg.size, cfg.size, 4)
        return np.ascontiguousarray(img[:, :, :3])
