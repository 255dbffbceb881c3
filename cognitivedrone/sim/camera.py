"""First-person camera: forward-facing, square, 106° field of view by default (the reference's
Gazebo camera; a look may give another, docs/design.md, Looks), rendered with pybullet's CPU
TinyRenderer so it runs headless anywhere.

What TinyRenderer leaves empty (nothing within `far`) is white, today's "classic" sky; a look's
sky is painted there afterwards from the depth buffer, a gradient from the horizon up."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

# TinyRenderer's light when none is set (TinyRendererVisualShapeConverter.cpp: colour, ambient,
# diffuse, specular): the classic look's, given explicitly (FPVCamera.render).
TINY_RENDERER_LIGHT = ((1.0, 1.0, 1.0), 0.6, 0.35, 0.05)


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
        self._grid = None

    def render(self, pos, quat, light_direction=(0.4, 0.3, 1.0), light=None, sky=None) -> np.ndarray:
        """RGB uint8 (size, size, 3) seen from a body at `pos` with orientation `quat` (xyzw).

        `light` (a look's LightLook) sets colour, ambient, diffuse, specular and shadows; None
        gives TinyRenderer's defaults (classic). `sky` = (top RGB, horizon RGB) in 0..1 paints
        the empty background; None leaves it white."""
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
        # Every light setting every time: TinyRenderer keeps the last one it was given, so a classic
        # frame after another look's would be lit as that look (a datagen worker mixes looks).
        color, ambient, diffuse, specular = ((light.color, light.ambient, light.diffuse, light.specular)
                                             if light is not None else TINY_RENDERER_LIGHT)
        extra = dict(lightColor=color, lightAmbientCoeff=ambient, lightDiffuseCoeff=diffuse, lightSpecularCoeff=specular)
        _, _, rgba, depth, _ = p.getCameraImage(
            cfg.size, cfg.size, view, self._proj,
            renderer=p.ER_TINY_RENDERER, flags=p.ER_NO_SEGMENTATION_MASK,
            lightDirection=light_direction, shadow=int(bool(light is not None and light.shadows)),
            physicsClientId=self.client, **extra,
        )
        img = np.asarray(rgba, dtype=np.uint8).reshape(cfg.size, cfg.size, 4)[:, :, :3]
        if sky is not None:
            empty = np.asarray(depth, dtype=np.float32).reshape(cfg.size, cfg.size) >= 0.99999
            if empty.any():
                img = img.copy()
                img[empty] = self._sky(fwd, up, sky)[empty]
        return np.ascontiguousarray(img)

    def _sky(self, fwd, up, sky) -> np.ndarray:
        """The sky gradient for this view: colour by each pixel ray's elevation."""
        s = self.config.size
        t = math.tan(math.radians(self.config.fov_deg) / 2)
        if self._grid is None:
            c = (np.arange(s) + 0.5) / s * 2 - 1
            self._grid = np.meshgrid(c * t, -c * t)  # right, up offsets of each pixel's ray
        right_off, up_off = self._grid
        fwd, up = np.asarray(fwd), np.asarray(up)
        right = np.cross(fwd, up)
        z = fwd[2] + right_off * right[2] + up_off * up[2]
        norm = np.sqrt(1 + right_off ** 2 + up_off ** 2)
        elevation = np.clip(z / norm / 0.6, 0.0, 1.0)[..., None]  # 0 at the horizon, 1 from ~37 deg up
        top, horizon = (np.asarray(v, np.float32) * 255 for v in sky)
        return (horizon * (1 - elevation) + top * elevation).astype(np.uint8)
