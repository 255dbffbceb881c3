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


def check_embedding(embedding, dim: int) -> np.ndarray:
    """A float32 C-contiguous [dim] instruction embedding (from the engine's embed())."""
    emb = np.asarray(embedding)
    if emb.shape != (dim,) or not np.issubdtype(emb.dtype, np.floating):
        raise ValueError(f"embedding must be float32 [{dim}] (from embed()), got {emb.dtype} {emb.shape}")
    if not (emb.dtype == np.float32 and emb.flags.c_contiguous and emb.flags.writeable):
        emb = np.array(emb, dtype=np.float32, order="C")
    return emb
