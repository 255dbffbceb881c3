"""The perception model: where the billboards are in a frame, what each shows, and what the gate
below it looks like.

A CenterNet-style grid: a small CNN maps the 256-px frame to a 16x16 grid; each cell says whether a
billboard's centre falls in it (objectness), where in the cell, how big the billboard looks, which
of the vocabulary's pictures it shows, and the size, shape and colour of the gate under it. Being
a grid, it reads any number of billboards wherever they stand, not only the reference layout.
Weights: safetensors + config.json, like the policy; the config and the decoding of these maps into
billboards are torch-free (configuration.py, boards.py), for the drone's ONNX path (engines.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from cognitivedrone.reasoning.offline.configuration import CONFIG_NAME, GRID_OUTPUTS, WEIGHTS_NAME, PerceptionConfig
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES


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
        return dict(zip(GRID_OUTPUTS, (obj.squeeze(-1), torch.sigmoid(off), scale.squeeze(-1), asset, size, shape,
                                       colour)))

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


class OutputsAsTuple(nn.Module):
    """A network whose output (a tensor, a tuple, or a dict by name) becomes a tuple in `outputs`
    order: what an ONNX export names one by one (export.py)."""

    def __init__(self, net: nn.Module, outputs: tuple[str, ...]):
        super().__init__()
        self.net, self.outputs = net, outputs

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(images)
        if isinstance(out, dict):
            return tuple(out[k] for k in self.outputs)
        return out if isinstance(out, tuple) else (out,)


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

    from cognitivedrone.reasoning.offline.configuration import read_config

    path = Path(path)
    cfg = read_config(path, config_name, config_cls, what)
    if not (path / weights_name).is_file():
        raise FileNotFoundError(f"{path / weights_name}: missing (a {what} has {config_name} and {weights_name})")
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
