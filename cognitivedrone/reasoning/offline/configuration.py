"""What the offline reasoner's three networks are, without torch: their configs, the files each
is saved in, and the files an ONNX export writes beside them (docs/design.md, Interfaces).

The networks themselves (torch) are in perception.py, reader.py and gate_reader.py; the drone
runs their ONNX exports (engines.py) and never imports torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

# The perception grid: model.safetensors + config.json, exported to model.onnx.
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
GRID_ONNX = "model.onnx"
# The grid's outputs, in the order the ONNX file names them; each [B, G*G, ...] (perception.py).
GRID_OUTPUTS = ("objectness", "offset", "log_scale", "asset", "size", "shape", "colour")

# The billboard reader: reader.safetensors + reader.json, exported to reader.onnx.
READER_CONFIG = "reader.json"
READER_WEIGHTS = "reader.safetensors"
READER_ONNX = "reader.onnx"
MARGIN = 1.5  # crop side / the board's apparent width: room for the grid's centre and size errors

# The gate reader: gate_reader.safetensors + gate_reader.json, exported to gate_reader.onnx.
GATE_READER_CONFIG = "gate_reader.json"
GATE_READER_WEIGHTS = "gate_reader.safetensors"
GATE_READER_ONNX = "gate_reader.onnx"
GATE_BELOW = 1.6  # crop centre below the board's centre, in board widths (gate_reader.py says why)
GATE_MARGIN = 2.8  # crop side, in board widths
ATTRIBUTES = (("size", GATE_SIZES), ("shape", GATE_SHAPES), ("color", GATE_COLORS))
GATE_OUTPUTS = ("size", "shape", "colour")  # gate_reader.onnx's outputs, one per attribute


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
    def from_dict(cls, d: dict) -> PerceptionConfig:
        return cls(type=d["type"], image_size=int(d["image_size"]), channels=tuple(d["channels"]),
                   assets=tuple(d["assets"]))


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


def read_config(path: Path, config_name: str, config_cls, what: str):
    """`config_cls` from path/config_name; FileNotFoundError or ValueError (one line) if missing or damaged."""
    from cognitivedrone.bounded_json import load_file

    if not (path / config_name).is_file():
        raise FileNotFoundError(f"{path / config_name}: missing (a {what} is described there)")
    try:
        return config_cls.from_dict(load_file(path / config_name))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path / config_name}: not a {what} config ({exc})") from None
