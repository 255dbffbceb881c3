"""Can this frame be flown on? Judged before the policy sees it (docs/design.md, "Doubt").

A policy answers every frame with a command, including a black one (lens cap, dead sensor), a
white one (overexposed), pure noise (a broken link) and the same frame again and again (a hung
driver): measured on the default checkpoint, each gave ~1.2 m/s forward and sinking, forever.
The guard measures each frame on a grey image of about 32x32 cells, each the mean of four
pixels of its cell and of the three channels (averaging halves a sensor's pixel noise, so a noisy
camera's real view keeps its structure while noise alone still has none; ~22 µs a frame, beside
~1.2 ms for the policy):

- exposure: mean brightness below `min_mean` or above `max_mean` (0-255);
- contrast: brightness standard deviation below `min_std`;
- structure: the correlation of horizontally neighbouring pixels below `min_structure`
  (any real view is smooth at this scale, sensor noise is not: training frames >= 0.27, noise
  alone <= 0.10, docs/design.md);
- frozen: the frame is identical to the last one while the Pilot commanded motion for more than
  `frozen_after_s` (a moving camera never gives the same bytes twice; a hovering one in a
  deterministic simulator may, which is not a fault).

Thresholds are in FrameGuardConfig, measured against the benchmark's frames (docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLES = 32  # per side: enough to tell a view from a flat frame or noise, cheap at any size
_THIRD = np.full(3, 1 / 3, dtype=np.float32)
_QUARTER_THIRD = np.full(3, 1 / 12, dtype=np.float32)


@dataclass(frozen=True)
class FrameGuardConfig:
    min_mean: float = 12.0
    max_mean: float = 248.0
    # From training looks only (scripts/guard_stats.py on the looks dataset, 7,064 frames, randomized
    # ones through a training camera each): std >= 3.15, structure >= 0.27; frames without a view:
    # flat grey + noise 8 std <= 2.44, structure <= 0.10 (pure noise too). No held-out frame was used.
    min_std: float = 3.0
    min_structure: float = 0.2
    # Well under 0.25 s with a 20 Hz camera's delivery jitter (at 0.15 s, 0.2503 s was measured
    # once over DDS); a live camera never repeats its bytes, so there is no false alarm to fear.
    frozen_after_s: float = 0.1

    def __post_init__(self):
        if not (0 <= self.min_mean < self.max_mean <= 255 and self.min_std >= 0 and -1 <= self.min_structure <= 1
                and self.frozen_after_s > 0):
            raise ValueError(f"FrameGuardConfig out of range: {self}")


@dataclass(frozen=True)
class FrameStats:
    mean: float  # brightness, 0-255
    std: float
    structure: float  # neighbour correlation, -1..1 (NaN-free: a flat frame gives 0)


def grey_samples(image: np.ndarray) -> np.ndarray:
    """About SAMPLES x SAMPLES grey values (0-255, float32) of a uint8 [H, W, 3] frame: per cell
    the mean of four of its pixels (strided views added up: numpy's axis sums are far slower)."""
    step = max(1, min(image.shape[0], image.shape[1]) // SAMPLES)
    half = step // 2
    if half == 0:  # a frame smaller than 2 * SAMPLES: every pixel is a cell
        return image.astype(np.float32) @ _THIRD
    h, w = (image.shape[0] - half) // step, (image.shape[1] - half) // step  # cells with all four pixels
    acc = image[:h * step:step, :w * step:step].astype(np.uint16)
    acc += image[half:h * step:step, half:w * step:step]
    acc += image[:h * step:step, half:w * step:step]
    acc += image[half:h * step:step, :w * step:step]
    return acc.astype(np.float32) @ _QUARTER_THIRD


def frame_stats(image: np.ndarray, grey: np.ndarray | None = None) -> FrameStats:
    """Brightness, contrast and structure of a uint8 [H, W, 3] frame (or of its grey_samples)."""
    grey = grey_samples(image) if grey is None else grey
    mean = float(grey.sum()) / grey.size
    centred = grey - np.float32(mean)
    flat = centred.ravel()
    var = float(flat @ flat) / flat.size
    # Neighbour correlation as dot products (the costly part of this module, kept to three).
    a, b = centred[:, :-1].ravel(), centred[:, 1:].ravel()
    denom = float(np.sqrt(float(a @ a) * float(b @ b)))
    structure = float(a @ b) / denom if denom > 1e-6 else 0.0
    return FrameStats(mean, var ** 0.5, structure)


class FrameGuard:
    """`check(image, t, moving)` -> "" when the frame can be flown on, else why not."""

    def __init__(self, config: FrameGuardConfig = FrameGuardConfig()):
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._previous: np.ndarray | None = None
        self._changed_t = 0.0  # time of the last frame that differed from the one before
        self._frozen = False

    def check(self, image: np.ndarray, t: float, moving: bool) -> str:
        c = self.config
        grey = grey_samples(image)  # a frozen frame has the same samples; any change of view moves them
        previous = self._previous
        if previous is None or previous.shape != grey.shape or not (previous == grey).all():
            self._previous, self._changed_t, self._frozen = grey, t, False
        elif moving or self._frozen:
            # The view is as old as its last change. Frozen stays frozen until a frame differs:
            # hovering on a frozen view must not make it look healthy again.
            self._frozen = t - self._changed_t > c.frozen_after_s
            if self._frozen:
                return f"frozen camera (the same frame for {t - self._changed_t:.2f} s while moving)"
        else:
            self._changed_t = t  # holding still: the same frame is expected
        s = frame_stats(image, grey)
        if s.mean < c.min_mean:
            return f"frame too dark (mean {s.mean:.0f}/255)"
        if s.mean > c.max_mean:
            return f"frame overexposed (mean {s.mean:.0f}/255)"
        if s.std < c.min_std:
            return f"frame without contrast (std {s.std:.1f})"
        if s.structure < c.min_structure:
            return f"frame without structure (noise? neighbour correlation {s.structure:.2f})"
        return ""
