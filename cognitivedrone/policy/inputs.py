"""Checks on what the fast loop is handed, shared by every engine (no torch needed here).

A bad frame or embedding raises ValueError saying what was expected; the host (Pilot, the ROS
node) decides what to do about it, which is to hover.
"""

from __future__ import annotations

import numpy as np


def check_image(image, size: int) -> np.ndarray:
    """A uint8 RGB frame [size, size, 3] as a C-contiguous array (copied only when needed)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.shape != (size, size, 3):
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"image must be a uint8 numpy array of shape ({size}, {size}, 3) (RGB), got {dtype} {shape}")
    # torch.from_numpy needs positive strides and warns on read-only arrays: copy those (48 KB).
    if not (image.flags.c_contiguous and image.flags.writeable):
        image = np.array(image, order="C")
    return image


def fit_image(image: np.ndarray, size: int) -> np.ndarray:
    """A camera frame of any size -> uint8 [size, size, 3]: the centre square, shrunk by averaging
    whole blocks of pixels (a 256 px frame to 128 averages 2x2; 640x480 crops to 480x480 and
    averages 3x3 blocks of 360x360, its centre) or, below the size, repeated. numpy only."""
    h, w = image.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = image[y0:y0 + side, x0:x0 + side]
    if side == size:
        return np.ascontiguousarray(square)
    if side > size:
        k = side // size  # block size; the rest trimmed evenly so blocks tile the centre
        trim = (side - k * size) // 2
        block = square[trim:trim + k * size, trim:trim + k * size].astype(np.float32)
        pooled = block.reshape(size, k, size, k, 3).mean(axis=(1, 3))
        return np.clip(np.rint(pooled), 0, 255).astype(np.uint8)
    idx = (np.arange(size) * side) // size
    return np.ascontiguousarray(square[idx][:, idx])


def check_embedding(embedding, dim: int) -> np.ndarray:
    """A float32 C-contiguous [dim] instruction embedding (from the engine's embed())."""
    emb = np.asarray(embedding)
    if emb.shape != (dim,) or not np.issubdtype(emb.dtype, np.floating):
        raise ValueError(f"embedding must be float32 [{dim}] (from embed()), got {emb.dtype} {emb.shape}")
    if not (emb.dtype == np.float32 and emb.flags.c_contiguous and emb.flags.writeable):
        emb = np.array(emb, dtype=np.float32, order="C")
    return emb
