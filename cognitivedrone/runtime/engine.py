"""The PolicyEngine contract (what every engine does) and the files an export writes; the
factory that builds an engine by name is factory.py, so no engine imports the others."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from cognitivedrone.policy.inputs import check_embedding, check_image
from cognitivedrone.types import VelocityCommand

# What `cognitivedrone export` writes into a checkpoint directory.
POLICY_ONNX = "model.onnx"
INSTRUCTION_ONNX = "instruction_encoder.onnx"
TOKENIZER_JSON = "tokenizer.json"
# model.onnx's outputs: the command [1, 4] and the probability that no gate is in view [1, 1].
POLICY_OUTPUTS = ("command", "not_in_view")
# Bumped when what an export computes changes, so an older export is redone (or refused).
EXPORT_FORMAT_KEY = "cognitivedrone.export_format"
EXPORT_FORMAT = "2"
EXPORT_HINT = "run `cognitivedrone export {ckpt} --format onnx` (on a machine with torch) and copy the directory over"


class EngineError(RuntimeError):
    """An engine cannot be built or run. The message says what to do about it."""


class PolicyEngine(ABC):
    """The policy over one backend (docs/design.md, Interfaces).

    embed(instruction) -> float32 [embed_dim]   slow path, cached per instruction
    act(image, embedding) -> VelocityCommand    fast path: uint8 [S, S, 3] RGB frame, body FLU, SI units
    act_with_view(image, embedding) -> (VelocityCommand, p)  the same pass, and the probability
                                                that the gate is not in view (graph.py)
    infer_view(images, embeddings) -> (float32 [1, 4], float32 [1, 1])  the raw graph call on
                                                checked arrays; infer() is its command (what perf times)
    """

    name: str = "?"

    def __init__(self, image_size: int, embed_dim: int, threads: int):
        self.image_size = int(image_size)
        self.embed_dim = int(embed_dim)
        self.threads = int(threads)

    @abstractmethod
    def embed(self, instruction: str) -> np.ndarray: ...

    @abstractmethod
    def infer_view(self, images: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def infer(self, images: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        return self.infer_view(images, embeddings)[0]

    def act(self, image: np.ndarray, embedding: np.ndarray) -> VelocityCommand:
        return self.act_with_view(image, embedding)[0]

    def act_with_view(self, image: np.ndarray, embedding: np.ndarray) -> tuple[VelocityCommand, float]:
        image = check_image(image, self.image_size)
        emb = check_embedding(embedding, self.embed_dim)
        command, not_in_view = self.infer_view(image[None], emb[None])
        return VelocityCommand.from_array(command[0]), float(np.asarray(not_in_view).reshape(-1)[0])

    def describe(self) -> dict:
        """What a report should say about this engine (name, threads, providers, precision...)."""
        return {"engine": self.name, "threads": self.threads}


def file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
