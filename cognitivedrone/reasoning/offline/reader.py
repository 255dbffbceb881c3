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
reasoner uses the reader when they are there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

READER_CONFIG = "reader.json"
READER_WEIGHTS = "reader.safetensors"
MARGIN = 1.5  # crop side / the board's apparent width: room for the grid's centre and size errors


@dataclass
class ReaderConfig:
    type: str = "billboard-reader"
    crop: int = 48
    channels: tuple[int, ...] = (32, 64, 128, 192)
    stem_stride: int = 2  # 48 px crops are read at 24x24 first: 4x cheaper to train than at full size
    margin: float = MARGIN
    assets: tuple[str, ...] = field(default_factory=tuple)  # asset ids, in logit order

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"], d["assets"] = list(self.channels), list(self.assets)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ReaderConfig:
        return cls(type=str(d["type"]), crop=int(d["crop"]), channels=tuple(int(c) for c in d["channels"]),
                   stem_stride=int(d["stem_stride"]), margin=float(d["margin"]), assets=tuple(str(a) for a in d["assets"]))


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


@torch.no_grad()
def read_boards(model: ReaderNet, image: np.ndarray, boards: list) -> list[np.ndarray]:
    """Picture probabilities for each billboard found in `image` (perception.Billboard list)."""
    if not boards:
        return []
    crops = crop_boards(image, np.array([[b.u, b.v] for b in boards]), np.array([b.scale for b in boards]),
                        model.config.crop, model.config.margin)
    return list(torch.softmax(model(torch.from_numpy(crops)), -1).numpy())
