"""The offline reasoner's three networks (perception grid, billboard reader, gate reader) behind
one interface, run by torch or by onnxruntime (docs/design.md, The drone side).

Both engines return the networks' raw outputs as numpy arrays; everything after (finding the
billboards, the crops, the probabilities) is boards.py's, the same for both. The onnxruntime
engine never imports torch: it is what the drone runs, from the ONNX files
`cognitivedrone export checkpoints/perception` writes beside the weights.

  grid(image uint8 [S, S, 3]) -> {name: [1, G*G, ...]}  (configuration.GRID_OUTPUTS)
  read(crops uint8 [K, c, c, 3]) -> logits [K, n_assets]                 (reader)
  gates(crops uint8 [K, c, c, 3]) -> (size [K, 2], shape [K, 3], colour [K, 3]) logits   (gate reader)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from cognitivedrone.reasoning.offline.configuration import (
    ATTRIBUTES,
    CONFIG_NAME,
    GATE_OUTPUTS,
    GATE_READER_CONFIG,
    GATE_READER_ONNX,
    GATE_READER_WEIGHTS,
    GRID_ONNX,
    GRID_OUTPUTS,
    READER_CONFIG,
    READER_ONNX,
    READER_WEIGHTS,
    WEIGHTS_NAME,
    GateReaderConfig,
    PerceptionConfig,
    ReaderConfig,
    read_config,
)

ENGINES = ("auto", "torch", "onnxruntime")


class PerceptionEngine(ABC):
    """The three networks of one perception folder. `reader` and `gate_reader` are None where
    the folder has no such network (the grid then names the pictures or the gates' looks)."""

    name = "?"
    config: PerceptionConfig
    reader: ReaderConfig | None
    gate_reader: GateReaderConfig | None

    @abstractmethod
    def grid(self, image: np.ndarray) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def read(self, crops: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def gates(self, crops: np.ndarray) -> tuple[np.ndarray, ...]: ...


def resolve_engine(engine: str) -> str:
    """"auto" is torch where it is installed (a workstation), else onnxruntime (the drone)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown perception engine {engine!r}; choose {', '.join(ENGINES)}")
    if engine == "auto":
        return "torch" if find_spec("torch") else "onnxruntime"
    return engine


def open_perception(folder: Path, engine: str = "auto", threads: int = 1) -> PerceptionEngine:
    """The perception folder's networks on `engine`. On onnxruntime, where torch and onnx are
    installed, a missing or stale export is made first (as bench does for the policy)."""
    engine = resolve_engine(engine)
    if engine == "torch":
        return TorchPerception(folder)
    if find_spec("torch") and find_spec("onnx"):
        from cognitivedrone.reasoning.offline.export import ensure_perception_exported

        ensure_perception_exported(folder)
    return OnnxPerception(folder, threads)


class TorchPerception(PerceptionEngine):
    name = "torch"

    def __init__(self, folder: Path):
        import torch

        from cognitivedrone.reasoning.offline.gate_reader import has_gate_reader, load_gate_reader
        from cognitivedrone.reasoning.offline.perception import load_perception
        from cognitivedrone.reasoning.offline.reader import has_reader, load_reader

        self._torch = torch
        self.model = load_perception(folder)
        self.reader_net = load_reader(folder) if has_reader(folder) else None
        self.gate_net = load_gate_reader(folder) if has_gate_reader(folder) else None
        self.config = self.model.config
        self.reader = self.reader_net.config if self.reader_net is not None else None
        self.gate_reader = self.gate_net.config if self.gate_net is not None else None

    def grid(self, image: np.ndarray) -> dict[str, np.ndarray]:
        with self._torch.inference_mode():
            return {k: v.numpy() for k, v in self.model(self._torch.from_numpy(image)[None]).items()}

    def read(self, crops: np.ndarray) -> np.ndarray:
        with self._torch.inference_mode():
            return self.reader_net(self._torch.from_numpy(crops)).numpy()

    def gates(self, crops: np.ndarray) -> tuple[np.ndarray, ...]:
        with self._torch.inference_mode():
            return tuple(x.numpy() for x in self.gate_net(self._torch.from_numpy(crops)))


class OnnxPerception(PerceptionEngine):
    """model.onnx, reader.onnx and gate_reader.onnx of a perception folder, each checked against
    the weights beside it (a stale export is refused, as the policy's is)."""

    name = "onnxruntime"

    def __init__(self, folder: Path, threads: int = 1, providers: list[str] | None = None):
        from cognitivedrone.runtime.onnx_session import check_io, check_source, open_session

        folder = Path(folder)
        self.config = read_config(folder, CONFIG_NAME, PerceptionConfig, "perception checkpoint")
        # A network's JSON says the folder has it; its ONNX file must then be there too.
        self.reader = (read_config(folder, READER_CONFIG, ReaderConfig, "billboard reader")
                       if (folder / READER_CONFIG).is_file() else None)
        self.gate_reader = (read_config(folder, GATE_READER_CONFIG, GateReaderConfig, "gate reader")
                            if (folder / GATE_READER_CONFIG).is_file() else None)

        def session(name: str, weights: str, inputs: dict, outputs: dict):
            path = folder / name
            sess = open_session(path, threads, providers)
            check_io(sess, path, inputs, outputs)
            check_source(sess, path, weights)
            return sess

        s, cells, n = self.config.image_size, self.config.grid ** 2, len(self.config.assets)
        looks = {name: len(values) for name, (_, values) in zip(GATE_OUTPUTS, ATTRIBUTES)}
        self._grid = session(GRID_ONNX, WEIGHTS_NAME, {"image": ("tensor(uint8)", (1, s, s, 3))},
                             {"objectness": (1, cells), "offset": (1, cells, 2), "log_scale": (1, cells),
                              "asset": (1, cells, n), **{k: (1, cells, v) for k, v in looks.items()}})
        self._reader = self._gates = None
        if self.reader is not None:
            c = self.reader.crop
            self._reader = session(READER_ONNX, READER_WEIGHTS, {"crops": ("tensor(uint8)", (None, c, c, 3))},
                                   {"logits": (None, n)})
        if self.gate_reader is not None:
            c = self.gate_reader.crop
            self._gates = session(GATE_READER_ONNX, GATE_READER_WEIGHTS, {"crops": ("tensor(uint8)", (None, c, c, 3))},
                                  {k: (None, v) for k, v in looks.items()})

    def grid(self, image: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(GRID_OUTPUTS, self._grid.run(list(GRID_OUTPUTS), {"image": image[None]})))

    def read(self, crops: np.ndarray) -> np.ndarray:
        return self._reader.run(["logits"], {"crops": crops})[0]

    def gates(self, crops: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(self._gates.run(list(GATE_OUTPUTS), {"crops": crops}))
