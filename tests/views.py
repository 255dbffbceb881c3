"""Synthetic camera frames that pass the Pilot's frame guard: smooth, lit, with contrast, and a
little different at each step `k` (a moving camera never sends the same bytes twice)."""

import numpy as np


def view(k: int = 0, size: int = 32) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    img = np.empty((size, size, 3), np.uint8)
    img[..., 0] = 40 + 180 * rows  # sky to ground
    img[..., 1] = 40 + 180 * ((cols + 0.03 * k) % 1.0)  # slides sideways with k
    img[..., 2] = 120
    return img
