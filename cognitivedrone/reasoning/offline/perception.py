"""The perception model: where the billboards are in a frame, what each shows, and what the gate
below it looks like.

A CenterNet-style grid: a small CNN maps the 256-px frame to a 16x16 grid; each cell says whether a
billboard's centre falls in it (objectness), where in the cell, how big the billboard looks, which
of the vocabulary's pictures it shows, and the size, shape and colour of the gate under it. Being
a grid, it reads any number of billboards wherever they stand, not only the reference layout.
Weights: safetensors + config.json, like the policy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class PerceptionConfig:
    type: str = "billboard-grid"
    image_size: int = 256
    channels: tuple[int, ...] = (24, 48, 96)  # after the 4x4 stem, then two stride-2 stages
    assets: tuple[str, ...] = field(default_factory=tuple)  # asset ids, in logit order

    @property
    def grid(self) -> int:
        return self.image_size // 16

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"], d["assets"] = list(self.channels), list(self.assets)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "PerceptionConfig":
        return cls(type=d["type"], image_size=int(d["image_size"]), channels=tuple(d["channels"]),
                   assets=tuple(d["assets"]))


def _cbr(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    pad = dilation * (k - 1) // 2 if k % 2 else 0
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PerceptionNet(nn.Module):
    def __init__(self, config: PerceptionConfig):
        super().__init__()
        self.config = cfg = config
        c1, c2, c3 = cfg.channels
        self.backbone = nn.Sequential(
            _cbr(3, c1, k=4, stride=4), _cbr(c1, c1),  # 64x64
            _cbr(c1, c2, stride=2), _cbr(c2, c2),  # 32x32
            _cbr(c2, c3, stride=2), _cbr(c3, c3), _cbr(c3, c3, dilation=2), _cbr(c3, c3, dilation=2),  # 16x16
        )
        self.n_looks = (len(GATE_SIZES), len(GATE_SHAPES), len(GATE_COLORS))
        self.head = nn.Conv2d(c3, 1 + 2 + 1 + len(cfg.assets) + sum(self.n_looks), 1)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images uint8 [B, S, S, 3] -> per-cell maps, each [B, G*G, ...]."""
        x = images.permute(0, 3, 1, 2).float() / 255.0
        out = self.head(self.backbone(x)).flatten(2).transpose(1, 2)  # [B, G*G, C]
        obj, off, scale, asset, size, shape, colour = out.split(
            [1, 2, 1, len(self.config.assets), *self.n_looks], dim=-1)
        return {"objectness": obj.squeeze(-1), "offset": torch.sigmoid(off), "log_scale": scale.squeeze(-1),
                "asset": asset, "size": size, "shape": shape, "colour": colour}

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """batch: images uint8 [B,S,S,3]; uv [B,K,2] in [-1,1]; seen bool [B,K]; scale [B,K];
        asset long [B,K]; look long [B,K,3]."""
        out = self(batch["images"])
        g = self.config.grid
        uv, seen = batch["uv"], batch["seen"]
        inside = seen & (uv.abs() < 1).all(-1)
        cell_xy = ((uv + 1) / 2 * g).clamp(0, g - 1e-4)
        cell = cell_xy.floor().long()
        index = cell[..., 1] * g + cell[..., 0]  # [B, K]
        target = torch.zeros_like(out["objectness"])
        b_idx = torch.arange(uv.shape[0], device=uv.device)[:, None].expand_as(index)
        target[b_idx[inside], index[inside]] = 1.0
        obj = F.binary_cross_entropy_with_logits(out["objectness"], target, pos_weight=torch.tensor(20.0))

        def at(name):  # predictions at the positive cells, [P, ...]
            return out[name][b_idx[inside], index[inside]]

        n = int(inside.sum())
        if n == 0:
            return obj, {"objectness": float(obj)}
        off = F.l1_loss(at("offset"), (cell_xy - cell)[inside])
        scale = F.l1_loss(at("log_scale"), torch.log(batch["scale"][inside].clamp_min(1e-3)))
        asset = F.cross_entropy(at("asset"), batch["asset"][inside])
        look = batch["look"][inside]
        looks = sum(F.cross_entropy(at(k), look[:, i]) for i, k in enumerate(("size", "shape", "colour")))
        total = obj + off + scale + asset + looks
        with torch.no_grad():
            acc = (at("asset").argmax(-1) == batch["asset"][inside]).float().mean()
        return total, {"objectness": float(obj), "asset": float(asset), "looks": float(looks),
                       "asset_accuracy": float(acc)}


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
    gate_seen: bool = True  # the gate reader's crop under it is in the frame (gate_reader.gate_in_frame)

    @property
    def partly_seen(self) -> bool:
        """Part of the billboard lies outside the image (its half-width in uv is `scale`)."""
        return abs(self.u) + self.scale > 1.0 or abs(self.v) + self.scale > 1.0

    def asset(self, assets: tuple[str, ...]) -> str:
        return assets[int(self.asset_probs.argmax())]


def decode(out: dict[str, torch.Tensor], config: PerceptionConfig, threshold: float = 0.5) -> list[list[Billboard]]:
    """Grid outputs -> billboards per image (local maxima of objectness above `threshold`), left to right."""
    g = config.grid
    prob = torch.sigmoid(out["objectness"]).view(-1, 1, g, g)
    peak = prob == F.max_pool2d(prob, 3, stride=1, padding=1)
    result = []
    for b in range(prob.shape[0]):
        found = []
        for idx in torch.nonzero((prob[b, 0] > threshold) & peak[b, 0]).tolist():
            y, x = idx
            i = y * g + x
            ox, oy = out["offset"][b, i].tolist()
            found.append(Billboard(
                u=(x + ox) / g * 2 - 1, v=(y + oy) / g * 2 - 1, confidence=float(prob[b, 0, y, x]),
                scale=float(torch.exp(out["log_scale"][b, i])),
                asset_probs=torch.softmax(out["asset"][b, i], -1).numpy(),
                size=GATE_SIZES[int(out["size"][b, i].argmax())], shape=GATE_SHAPES[int(out["shape"][b, i].argmax())],
                color=GATE_COLORS[int(out["colour"][b, i].argmax())],
                looks_p=tuple(float(torch.softmax(out[k][b, i], -1).max()) for k in ("size", "shape", "colour"))))
        result.append(sorted(found, key=lambda f: f.u))
    return result


def save_module(model: nn.Module, path: str | Path, config_name: str, weights_name: str) -> None:
    """Weights as safetensors, `model.config` as JSON: the perception grid and the reader alike."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(path / weights_name))
    (path / config_name).write_text(json.dumps(model.config.to_dict(), indent=1) + "\n")


def has_module(path: str | Path, config_name: str, weights_name: str) -> bool:
    """Whether `path` holds both files of a module saved by save_module."""
    return (Path(path) / config_name).is_file() and (Path(path) / weights_name).is_file()


def load_module(net, config_cls, path: str | Path, config_name: str, weights_name: str, what: str):
    """`net(config_cls.from_dict(config))` with its weights, in eval mode. Raises FileNotFoundError or
    ValueError (one line) for a missing or damaged file."""
    from safetensors.torch import load_file

    from cognitivedrone.bounded_json import load_file as load_json

    path = Path(path)
    for f in (config_name, weights_name):
        if not (path / f).is_file():
            raise FileNotFoundError(f"{path / f}: missing (a {what} has {config_name} and {weights_name})")
    try:
        cfg = config_cls.from_dict(load_json(path / config_name))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path / config_name}: not a {what} config ({exc})") from None
    model = net(cfg)
    try:
        model.load_state_dict(load_file(str(path / weights_name)), strict=True)
    except Exception as exc:
        raise ValueError(f"{path / weights_name}: does not load into the network of {config_name} ({exc})") from None
    return model.eval()


def save_perception(model: PerceptionNet, path: str | Path) -> None:
    save_module(model, path, CONFIG_NAME, WEIGHTS_NAME)


def load_perception(path: str | Path) -> PerceptionNet:
    return load_module(PerceptionNet, PerceptionConfig, path, CONFIG_NAME, WEIGHTS_NAME, "perception checkpoint")
