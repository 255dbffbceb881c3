"""Pre- and post-processing around the network: image tensors and action normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

ACTION_NAMES = ("vx", "vy", "vz", "yaw_rate")
ACTION_UNITS = ("m/s", "m/s", "m/s", "rad/s")
# No velocity command in SI units comes near this (m/s, rad/s): bounds beyond it are a broken
# or hostile file, and would scale every action the policy flies.
MAX_ABS = 1e3


class ActionNormalizer:
    """Maps actions between physical units and [-1, 1] with the 1st/99th percentiles
    (OpenVLA's q01/q99 scheme: robust to the few extreme actions of noisy demonstrations).

    normalize(a) = clip((a - mid) / half, -1, 1) with mid = (q01 + q99) / 2, half = (q99 - q01) / 2.
    A dimension that never varies in the data (q01 == q99) normalises to 0 and
    unnormalises to its constant value.
    """

    def __init__(self, q01, q99):
        q01 = np.asarray(q01, dtype=np.float64).reshape(-1)
        q99 = np.asarray(q99, dtype=np.float64).reshape(-1)
        if q01.shape != q99.shape or q01.size == 0:
            raise ValueError(f"q01 and q99 must be equal-length vectors, got shapes {q01.shape} and {q99.shape}")
        if not (np.all(np.isfinite(q01)) and np.all(np.isfinite(q99))):
            raise ValueError("q01 and q99 must be finite")
        if max(np.abs(q01).max(), np.abs(q99).max()) > MAX_ABS:
            raise ValueError(f"q01 and q99 must lie within +-{MAX_ABS:.0e} (no velocity command reaches that), "
                             f"got q01={q01.tolist()} q99={q99.tolist()}")
        if np.any(q99 < q01):
            raise ValueError(f"q99 must be >= q01 in every dimension, got q01={q01.tolist()} q99={q99.tolist()}")
        self.q01 = q01
        self.q99 = q99
        self.mid = (q01 + q99) / 2.0
        self.half = (q99 - q01) / 2.0
        self._constant = self.half <= 1e-12
        self._safe_half = np.where(self._constant, 1.0, self.half)

    @property
    def dim(self) -> int:
        return int(self.q01.size)

    @classmethod
    def from_data(cls, actions: np.ndarray) -> "ActionNormalizer":
        """Percentiles of an [N, dim] array of physical actions."""
        a = np.asarray(actions, dtype=np.float64)
        return cls(np.quantile(a, 0.01, axis=0), np.quantile(a, 0.99, axis=0))

    def normalize(self, a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64)
        n = np.clip((a - self.mid) / self._safe_half, -1.0, 1.0)
        return np.where(self._constant, 0.0, n).astype(np.float32)

    def unnormalize(self, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=np.float64)
        return n * self.half + self.mid

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"q01": self.q01.tolist(), "q99": self.q99.tolist()}
        if self.dim == len(ACTION_NAMES):
            d["names"] = list(ACTION_NAMES)
            d["units"] = list(ACTION_UNITS)
            d["frame"] = "body FLU (x forward, y left, z up; REP-103)"
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ActionNormalizer":
        if not isinstance(d, dict):
            raise ValueError(f"expected a JSON object, got {type(d).__name__}")
        missing = [k for k in ("q01", "q99") if k not in d]
        if missing:
            raise ValueError(f"missing keys {missing}")
        for k in ("q01", "q99"):
            v = d[k]
            if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
                raise ValueError(f"{k!r} must be a list of numbers, got {v!r}")
        if "names" in d and len(d["names"]) != len(d["q01"]):
            raise ValueError(f"'names' has {len(d['names'])} entries but q01 has {len(d['q01'])}")
        return cls(d["q01"], d["q99"])


def images_to_tensor(images) -> torch.Tensor:
    """uint8 images, NHWC (or one HWC image) as numpy or torch -> float32 NCHW in [0, 1]."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a numpy array or a torch tensor, got {type(images).__name__}")
    if images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be [N, H, W, 3] or [H, W, 3] (RGB, channels last), got {tuple(images.shape)}")
    return images.permute(0, 3, 1, 2).float().div_(255.0).contiguous()
