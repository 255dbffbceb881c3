"""The reference engine: the checkpoint's network in torch eager mode, on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cognitivedrone.runtime.engine import EngineError, PolicyEngine


class TorchEngine(PolicyEngine):
    name = "torch"

    def __init__(self, checkpoint: Path, threads: int = 1):
        try:
            import torch

            from cognitivedrone.policy.checkpoint import FilmCnnVLA
        except ImportError as exc:
            raise EngineError(f"the torch engine needs torch and transformers ({exc}): pip install -e '.[learn]'") from None
        torch.set_num_threads(threads)  # process-wide: the host chose this number
        self.vla = FilmCnnVLA.from_pretrained(checkpoint)
        super().__init__(self.vla.config.image_size, self.vla.config.embed_dim, threads)
        self.checkpoint = Path(checkpoint)

    def embed(self, instruction: str) -> np.ndarray:
        return self.vla.embed(instruction)

    def infer_view(self, images: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.vla.infer_view(images, embeddings)

    def describe(self) -> dict:
        import torch

        return {**super().describe(), "torch": torch.__version__, "device": "cpu", "precision": "fp32"}
