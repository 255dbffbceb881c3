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

from pathlib import Path

import torch
from torch import nn

from cognitivedrone.reasoning.offline.configuration import (
    ATTRIBUTES,
    GATE_READER_CONFIG,
    GATE_READER_WEIGHTS,
    GateReaderConfig,
)
from cognitivedrone.reasoning.offline.reader import conv_block


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
