"""The billboard reader: which picture a billboard shows, from a close crop of it.

The perception grid (perception.py) finds billboards well in every look (recall 99.8 % on
randomized scenes) but names their pictures from 16x16-cell features shared with everything else
it predicts: on randomized scenes it named 53 % right (97.5 % on classic ones), having seen each
picture in each art style only a few dozen times. The reader is a second stage, as detectors
that must read do it: cut each found billboard out of the frame at its apparent size, scale the
cut to `crop` px, and classify it with a small CNN of its own. Trained on crops of rendered
scenes plus synthetic ones (reader_data.py: every training art style, font, ink, paper and
border, in perspective, lit, blurred and noisy), it sees far more pictures than the scenes hold.

Weights: reader.safetensors + reader.json beside the perception model's files; the offline
reasoner uses the reader when they are there. Its crops are cut by boards.crop_boards.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from cognitivedrone.reasoning.offline.configuration import READER_CONFIG, READER_WEIGHTS, ReaderConfig


def conv_block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ReaderNet(nn.Module):
    def __init__(self, config: ReaderConfig):
        super().__init__()
        self.config = config
        layers, cin = [], 3
        for i, c in enumerate(config.channels):
            layers.append(conv_block(cin, c, config.stem_stride if i == 0 else 2))
            cin = c
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(cin, len(config.assets))

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        """crops uint8 [B, crop, crop, 3] -> logits [B, n_assets]."""
        x = crops.permute(0, 3, 1, 2).float() / 255.0
        x = (x - x.mean(dim=(1, 2, 3), keepdim=True)) / (x.std(dim=(1, 2, 3), keepdim=True) + 0.05)  # exposure-free
        return self.head(self.dropout(self.features(x).mean(dim=(2, 3))))


def save_reader(model: ReaderNet, path: str | Path) -> None:
    from cognitivedrone.reasoning.offline.perception import save_module

    save_module(model, path, READER_CONFIG, READER_WEIGHTS)


def has_reader(path: str | Path) -> bool:
    from cognitivedrone.reasoning.offline.perception import has_module

    return has_module(path, READER_CONFIG, READER_WEIGHTS)


def load_reader(path: str | Path) -> ReaderNet:
    """Raises FileNotFoundError or ValueError (one line) for a missing or damaged reader."""
    from cognitivedrone.reasoning.offline.perception import load_module

    return load_module(ReaderNet, ReaderConfig, path, READER_CONFIG, READER_WEIGHTS, "billboard reader")
