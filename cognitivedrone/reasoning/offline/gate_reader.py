"""The gate reader: the size, shape and colour of the gate under a billboard, from a crop of it.

The perception grid guesses a gate's looks from the 16x16 cell that holds its billboard's centre,
which is far above the gate: on randomized scenes it named the size right 88 %, the shape 92 %
and the colour 96 % of the time, and a rewrite that names one of them wrong names no gate in view.
The gate reader is a second stage beside the billboard reader (reader.py): from each billboard the
grid finds it cuts the region below it, where the gate stands, scaled by the board's apparent
width, and classifies that crop with a small CNN of its own. It also says how sure it is, so a
rewrite can leave out what it cannot tell (reasoner.py).

Where the gate is: in every look the gate's centre stands 1.0 m above the floor and the board's
centre 2.8-3.7 m, for boards 1.4-2.2 m wide (sim/look.py), so the gate is 0.8-1.9 board widths
below the board's centre and at most 0.55 widths either side of it. The crop, `GATE_MARGIN`
widths square centred `GATE_BELOW` widths below the board, holds the whole gate and the floor
under it in all of them: a gate's size is told from its opening against the height of its
centre above the floor, which no look changes.

Weights: gate_reader.safetensors + gate_reader.json beside the perception model's files; the
offline reasoner uses them when they are there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cognitivedrone.reasoning.offline.reader import conv_block, crop_boards
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

GATE_READER_CONFIG = "gate_reader.json"
GATE_READER_WEIGHTS = "gate_reader.safetensors"
GATE_BELOW = 1.6  # crop centre below the board's centre, in board widths
GATE_MARGIN = 2.8  # crop side, in board widths
ATTRIBUTES = (("size", GATE_SIZES), ("shape", GATE_SHAPES), ("color", GATE_COLORS))


@dataclass
class GateReaderConfig:
    type: str = "gate-reader"
    crop: int = 48
    channels: tuple[int, ...] = (24, 48, 96, 128)
    below: float = GATE_BELOW
    margin: float = GATE_MARGIN

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GateReaderConfig:
        return cls(type=str(d["type"]), crop=int(d["crop"]), channels=tuple(int(c) for c in d["channels"]),
                   below=float(d["below"]), margin=float(d["margin"]))


@dataclass(frozen=True)
class GateLooks:
    """What the gate reader makes of one gate: each attribute's value and its probability."""

    size: tuple[str, float]
    shape: tuple[str, float]
    color: tuple[str, float]


class GateReaderNet(nn.Module):
    def __init__(self, config: GateReaderConfig):
        super().__init__()
        self.config = config
        layers, cin = [], 3
        for i, c in enumerate(config.channels):
            layers.append(conv_block(cin, c, 1 if i == 0 else 2))  # full resolution first: bars are thin
            cin = c
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(cin, sum(len(values) for _, values in ATTRIBUTES))

    def forward(self, crops: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """crops uint8 [B, crop, crop, 3] -> logits per attribute: size [B, 2], shape [B, 3], colour [B, 3]."""
        x = crops.permute(0, 3, 1, 2).float() / 255.0
        # One scale for all three channels: exposure goes, the ratios that make a colour stay.
        x = (x - x.mean(dim=(1, 2, 3), keepdim=True)) / (x.std(dim=(1, 2, 3), keepdim=True) + 0.05)
        out = self.head(self.dropout(self.features(x).mean(dim=(2, 3))))
        return tuple(out.split([len(values) for _, values in ATTRIBUTES], dim=-1))


def crop_gates(image: np.ndarray, uv: np.ndarray, width: np.ndarray, config: GateReaderConfig) -> np.ndarray:
    """The gate crops under billboards at `uv` (centres in [-1, 1]) with apparent widths `width`
    (share of the image width): uint8 [K, crop, crop, 3]. Training and the reasoner both cut here."""
    uv = np.asarray(uv, np.float64).reshape(-1, 2).copy()
    width = np.asarray(width, np.float64).reshape(-1)
    uv[:, 1] += config.below * 2 * width  # a width w spans 2w in uv units
    return crop_boards(image, uv, width, config.crop, config.margin)


def save_gate_reader(model: GateReaderNet, path: str | Path) -> None:
    from cognitivedrone.reasoning.offline.perception import save_module

    save_module(model, path, GATE_READER_CONFIG, GATE_READER_WEIGHTS)


def has_gate_reader(path: str | Path) -> bool:
    from cognitivedrone.reasoning.offline.perception import has_module

    return has_module(path, GATE_READER_CONFIG, GATE_READER_WEIGHTS)


def load_gate_reader(path: str | Path) -> GateReaderNet:
    """Raises FileNotFoundError or ValueError (one line) for a missing or damaged gate reader."""
    from cognitivedrone.reasoning.offline.perception import load_module

    return load_module(GateReaderNet, GateReaderConfig, path, GATE_READER_CONFIG, GATE_READER_WEIGHTS, "gate reader")


@torch.no_grad()
def gate_in_frame(u: float, v: float, width: float, config: GateReaderConfig) -> bool:
    """Whether the middle of the gate crop under a board at (u, v) of apparent width `width` lies in
    the frame: where it does not (a narrow camera, a low mount, close up), the frame shows a gate
    cut off or none, and its reading is a guess."""
    return abs(u) <= 1.0 and v + config.below * 2 * width <= 1.0


def read_gates(model: GateReaderNet, image: np.ndarray, boards: list) -> list[GateLooks]:
    """The looks of the gate under each billboard found in `image` (perception.Billboard list)."""
    if not boards:
        return []
    crops = crop_gates(image, np.array([[b.u, b.v] for b in boards]), np.array([b.scale for b in boards]), model.config)
    probs = [torch.softmax(logits, -1).numpy() for logits in model(torch.from_numpy(crops))]
    out = []
    for k in range(len(boards)):
        picked = [(values[int(p[k].argmax())], float(p[k].max())) for (_, values), p in zip(ATTRIBUTES, probs)]
        out.append(GateLooks(*picked))
    return out
