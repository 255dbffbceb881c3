"""From the networks' raw outputs to billboards and gate looks, in numpy: what the offline
reasoner does around its three networks, the same whichever engine (torch or onnxruntime) ran
them (engines.py). Also the crops the two readers read, cut here for training and flight alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cognitivedrone.reasoning.offline.configuration import ATTRIBUTES, MARGIN, GateReaderConfig, PerceptionConfig
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES


@dataclass
class Billboard:
    """One billboard found in a frame."""

    u: float  # centre, [-1, 1], x right
    v: float  # centre, [-1, 1], y down
    confidence: float
    scale: float  # apparent width / image width
    asset_probs: np.ndarray  # [n_assets], sums to 1
    size: str
    shape: str
    color: str
    looks_p: tuple[float, float, float] = (1.0, 1.0, 1.0)  # how likely the size, shape and colour named are
    gate_seen: bool = True  # the gate reader's crop under it is in the frame (gate_in_frame)

    @property
    def partly_seen(self) -> bool:
        """Part of the billboard lies outside the image (its half-width in uv is `scale`)."""
        return abs(self.u) + self.scale > 1.0 or abs(self.v) + self.scale > 1.0

    def asset(self, assets: tuple[str, ...]) -> str:
        return assets[int(self.asset_probs.argmax())]


@dataclass(frozen=True)
class GateLooks:
    """What the gate reader makes of one gate: each attribute's value and its probability."""

    size: tuple[str, float]
    shape: tuple[str, float]
    color: tuple[str, float]


def softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) of a very negative logit is inf: the probability is 0
        return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float32)))


def decode(out: dict[str, np.ndarray], config: PerceptionConfig, threshold: float = 0.5) -> list[list[Billboard]]:
    """The grid's outputs (perception.py: each [B, G*G, ...]) -> billboards per image: the cells whose
    objectness is above `threshold` and the largest of its 3x3 neighbourhood, left to right."""
    g = config.grid
    prob = sigmoid(out["objectness"]).reshape(-1, g, g)
    padded = np.pad(prob, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    peak = prob == sliding_window_view(padded, (3, 3), axis=(1, 2)).max(axis=(-2, -1))
    result = []
    for b in range(prob.shape[0]):
        found = []
        for y, x in np.argwhere((prob[b] > threshold) & peak[b]):
            i = y * g + x
            ox, oy = (float(o) for o in out["offset"][b, i])
            looks = [softmax(out[k][b, i]) for k in ("size", "shape", "colour")]
            found.append(Billboard(
                u=(x + ox) / g * 2 - 1, v=(y + oy) / g * 2 - 1, confidence=float(prob[b, y, x]),
                scale=float(np.exp(np.float32(out["log_scale"][b, i]))), asset_probs=softmax(out["asset"][b, i]),
                size=GATE_SIZES[int(looks[0].argmax())], shape=GATE_SHAPES[int(looks[1].argmax())],
                color=GATE_COLORS[int(looks[2].argmax())], looks_p=tuple(float(p.max()) for p in looks)))
        result.append(sorted(found, key=lambda f: f.u))
    return result


def gate_looks(logits: tuple[np.ndarray, ...]) -> list[GateLooks]:
    """The gate reader's logits (size [K, 2], shape [K, 3], colour [K, 3]) -> each gate's looks."""
    probs = [softmax(x) for x in logits]
    out = []
    for k in range(len(probs[0])):
        picked = [(values[int(p[k].argmax())], float(p[k].max())) for (_, values), p in zip(ATTRIBUTES, probs)]
        out.append(GateLooks(*picked))
    return out


def crop_boards(image: np.ndarray, uv: np.ndarray, width: np.ndarray, crop: int, margin: float = MARGIN) -> np.ndarray:
    """Square cuts of one frame around its billboards, scaled to `crop` px (PIL's bilinear
    resampling, which filters where a cut shrinks). Training and the reasoner both cut here.

    image uint8 [S, S, 3]; uv [K, 2] centres in [-1, 1] (x right, y down); width [K] apparent
    board widths as a share of the image width. Outside the frame reads as grey.
    Returns uint8 [K, crop, crop, 3].
    """
    from PIL import Image

    rows, cols = image.shape[:2]
    half_px = margin * np.clip(np.asarray(width, np.float64), 0.02, 1.0) * cols / 2
    uv = np.clip(np.asarray(uv, np.float64).reshape(-1, 2), -1.5, 1.5)
    cx, cy = (uv[:, 0] + 1) / 2 * cols, (uv[:, 1] + 1) / 2 * rows
    reach = np.concatenate([half_px - cx, cx + half_px - cols, half_px - cy, cy + half_px - rows, [0.0]])
    pad = int(np.ceil(reach.max())) + 1
    padded = Image.fromarray(np.pad(image, ((pad, pad), (pad, pad), (0, 0)), constant_values=128))
    out = np.empty((len(half_px), crop, crop, 3), np.uint8)
    for i, (x, y, h) in enumerate(zip(cx + pad, cy + pad, half_px)):
        out[i] = np.asarray(padded.resize((crop, crop), Image.BILINEAR, box=(x - h, y - h, x + h, y + h)))
    return out


def crop_gates(image: np.ndarray, uv: np.ndarray, width: np.ndarray, config: GateReaderConfig) -> np.ndarray:
    """The gate crops under billboards at `uv` (centres in [-1, 1]) with apparent widths `width`
    (share of the image width): uint8 [K, crop, crop, 3]. Training and the reasoner both cut here."""
    uv = np.asarray(uv, np.float64).reshape(-1, 2).copy()
    width = np.asarray(width, np.float64).reshape(-1)
    uv[:, 1] += config.below * 2 * width  # a width w spans 2w in uv units
    return crop_boards(image, uv, width, config.crop, config.margin)


def gate_in_frame(u: float, v: float, width: float, config: GateReaderConfig) -> bool:
    """Whether the middle of the gate crop under a board at (u, v) of apparent width `width` lies in
    the frame: where it does not (a narrow camera, a low mount, close up), the frame shows a gate
    cut off or none, and its reading is a guess."""
    return abs(u) <= 1.0 and v + config.below * 2 * width <= 1.0
