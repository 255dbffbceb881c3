"""ONNX Runtime engine: the exported PolicyGraph (model.onnx), CPU by default; the CUDA and
TensorRT execution providers are used when this onnxruntime build has them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cognitivedrone.runtime.engine import POLICY_ONNX, POLICY_OUTPUTS, PolicyEngine
from cognitivedrone.runtime.instruction import OnnxInstructionEncoder, read_export_info
from cognitivedrone.runtime.onnx_session import check_io, check_source, open_session


class OnnxRuntimeEngine(PolicyEngine):
    name = "onnxruntime"

    def __init__(self, checkpoint: Path, threads: int = 1, providers: list[str] | None = None):
        checkpoint = Path(checkpoint)
        info = read_export_info(checkpoint)
        super().__init__(info["image_size"], info["embed_dim"], threads)
        path = checkpoint / POLICY_ONNX
        self.session = open_session(path, threads, providers)
        s, d = self.image_size, self.embed_dim
        check_io(self.session, path, {"image": ("tensor(uint8)", (1, s, s, 3)), "embedding": ("tensor(float)", (1, d))},
                 {"command": (1, 4), "not_in_view": (1, 1)})
        check_source(self.session, path)
        self.checkpoint = checkpoint
        self._text: OnnxInstructionEncoder | None = None

    def embed(self, instruction: str) -> np.ndarray:
        if self._text is None:  # loaded on first use: the fast loop alone never needs it
            self._text = OnnxInstructionEncoder(self.checkpoint, self.embed_dim)
        return self._text.embed(instruction)

    def infer_view(self, images: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        command, not_in_view = self.session.run(POLICY_OUTPUTS, {"image": images, "embedding": embeddings})
        return command, not_in_view

    def describe(self) -> dict:
        import onnxruntime

        return {**super().describe(), "onnxruntime": onnxruntime.__version__,
                "providers": self.session.get_providers(), "precision": "fp32"}
