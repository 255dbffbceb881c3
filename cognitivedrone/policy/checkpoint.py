"""The user-facing VLA policy and its checkpoint directory (docs/design.md, Interfaces).

A checkpoint is a directory:
    config.json          FilmCnnConfig.to_dict()
    model.safetensors    the network's state dict (never a pickle)
    normalization.json   q01/q99 of the actions + their names, units and frame
(+ model.onnx once exported by the runtime). Every way a checkpoint can be broken raises
PolicyCheckpointError naming the file and the problem, so a bad path or a half-copied
directory is diagnosed in one line instead of a torch stack trace.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cognitivedrone.bounded_json import JsonInputError, load_file
from cognitivedrone.policy.filmcnn.configuration import FilmCnnConfig
from cognitivedrone.policy.filmcnn.modeling import FilmCnnPolicy
from cognitivedrone.policy.filmcnn.processing import ActionNormalizer
from cognitivedrone.policy.graph import PolicyGraph
from cognitivedrone.policy.inputs import check_embedding, check_image
from cognitivedrone.policy.text_encoder import TextEncoder
from cognitivedrone.types import VelocityCommand

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
NORMALIZATION_NAME = "normalization.json"


class PolicyCheckpointError(ValueError):
    """A checkpoint file is missing or unusable. `file` is the offending path."""

    def __init__(self, file: str | Path, problem: str):
        self.file = Path(file)
        self.problem = problem
        super().__init__(f"{self.file}: {problem}")


class FilmCnnVLA:
    """The policy contract (docs/design.md, Interfaces) over a FilmCnnPolicy:

    embed(instruction) -> float32[embed_dim]   once per instruction (cached); runs the frozen
                                               text encoder and the learned text head
    act(image, embedding) -> VelocityCommand   every frame; physical units, body frame FLU

    The model is kept in eval mode. `act` sets no thread count: the host decides (the
    benchmark and the latency figures use torch.set_num_threads(1)).
    """

    def __init__(
        self,
        config: FilmCnnConfig,
        normalizer: ActionNormalizer,
        model: FilmCnnPolicy | None = None,
        text_encoder: TextEncoder | None = None,
    ):
        if model is not None and model.config != config:
            raise ValueError("model.config differs from the config given")
        if normalizer.dim != config.action_dim:
            raise ValueError(f"normalizer has {normalizer.dim} dimensions, config.action_dim is {config.action_dim}")
        self.config = config
        self.normalizer = normalizer
        self.model = (model if model is not None else FilmCnnPolicy(config)).eval()
        self._text = None
        if text_encoder is not None:
            self._check_text_encoder(text_encoder)
            self._text = text_encoder
        self._embeddings: dict[str, np.ndarray] = {}
        self._graph: PolicyGraph | None = None

    # -- instruction side (slow, cached) ------------------------------------------------------

    @property
    def text(self) -> TextEncoder:
        """The frozen sentence encoder, loaded on first use (~2 s): `act` never needs it."""
        if self._text is None:
            self._text = TextEncoder(max_tokens=self.config.text_tokens)
            self._check_text_encoder(self._text)
        return self._text

    def _check_text_encoder(self, enc: TextEncoder) -> None:
        if enc.dim != self.config.text_dim or enc.max_tokens != self.config.text_tokens:
            raise ValueError(
                f"text encoder gives [{enc.max_tokens}, {enc.dim}] token states, the policy was built for "
                f"[{self.config.text_tokens}, {self.config.text_dim}]"
            )

    def embed(self, instruction: str) -> np.ndarray:
        """float32 [embed_dim], read-only; computed once per distinct instruction."""
        hit = self._embeddings.get(instruction)
        if hit is not None:
            return hit
        tokens, mask, pooled = self.text.encode([instruction])
        self._ensure_eval()
        with torch.inference_mode():
            emb = self.model.text_head(torch.from_numpy(tokens), torch.from_numpy(mask), torch.from_numpy(pooled))
        out = emb[0].numpy().astype(np.float32, copy=True)
        out.setflags(write=False)
        self._embeddings[instruction] = out
        return out

    def clear_embedding_cache(self) -> None:
        """Call after changing the weights in place (e.g. evaluating during training)."""
        self._embeddings.clear()

    # -- fast loop ------------------------------------------------------------------------------

    def act(self, image: np.ndarray, embedding: np.ndarray) -> VelocityCommand:
        image = check_image(image, self.config.image_size)
        emb = check_embedding(embedding, self.config.embed_dim)
        return VelocityCommand.from_array(self.infer(image[None], emb[None])[0])

    def infer(self, images: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """The deployed function (PolicyGraph, the one exported to ONNX) on checked arrays:
        uint8 [B, H, W, 3] + float32 [B, D] -> float32 [B, 4] in physical units."""
        return self.infer_view(images, embeddings)[0]

    def infer_view(self, images: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`infer` and the not-in-view probability float32 [B, 1] (graph.py), from one pass."""
        self._ensure_eval()
        with torch.inference_mode():
            command, not_in_view = self.graph(torch.from_numpy(images), torch.from_numpy(embeddings))
        return command.numpy(), not_in_view.numpy()

    @property
    def graph(self) -> PolicyGraph:
        if self._graph is None:
            self._graph = PolicyGraph(self.model, self.normalizer).eval()
        return self._graph

    def _ensure_eval(self) -> None:
        if self.model.training:  # e.g. a training loop shares the model: act must not run dropout/BN stats
            self.model.eval()

    # -- persistence ----------------------------------------------------------------------------

    def save_pretrained(self, path: str | Path) -> None:
        """Write the checkpoint directory. A new directory appears complete or not at all
        (written to a temporary sibling, then renamed); in an existing one each file is
        replaced atomically, config.json last. Other files there (model.onnx) are left alone."""
        path = Path(path)
        files = {
            WEIGHTS_NAME: self._weights_bytes(),
            NORMALIZATION_NAME: _json_bytes(self.normalizer.to_dict()),
            CONFIG_NAME: _json_bytes(self.config.to_dict()),
        }
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
            try:
                tmp.chmod(0o755)  # mkdtemp makes it private (0700); a checkpoint is meant to be shared
                for name, data in files.items():
                    (tmp / name).write_bytes(data)
                os.replace(tmp, path)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return
        if not path.is_dir():
            raise NotADirectoryError(f"{path} exists and is not a directory")
        for name, data in files.items():
            _atomic_write(path / name, data)

    def _weights_bytes(self) -> bytes:
        from safetensors.torch import save

        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        return save(state, metadata={"format": "pt", "policy": self.config.type})

    @classmethod
    def from_pretrained(cls, path: str | Path, text_encoder: TextEncoder | None = None) -> "FilmCnnVLA":
        from cognitivedrone.resources import resolve_checkpoint

        path = resolve_checkpoint(path)
        if not path.is_dir():
            raise PolicyCheckpointError(path, "no such checkpoint directory" if not path.exists() else "not a directory")

        config = _parse_json(path / CONFIG_NAME, FilmCnnConfig.from_dict, "invalid policy config")
        norm_file = path / NORMALIZATION_NAME
        normalizer = _parse_json(norm_file, ActionNormalizer.from_dict, "invalid action normalisation")
        if normalizer.dim != config.action_dim:
            raise PolicyCheckpointError(
                norm_file, f"has {normalizer.dim} action dimensions, {CONFIG_NAME} says action_dim={config.action_dim}"
            )

        model = FilmCnnPolicy(config)
        _load_weights(model, path / WEIGHTS_NAME)
        return cls(config, normalizer, model=model, text_encoder=text_encoder)

    def __repr__(self) -> str:
        c = self.config
        return (f"FilmCnnVLA(head={c.head}, image_size={c.image_size}, embed_dim={c.embed_dim}, "
                f"params={self.model.num_parameters():,})")


# -- helpers -------------------------------------------------------------------------------------


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode()


def _atomic_write(file: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private (0600)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse_json(file: Path, parse, what: str):
    """Read a JSON file and build an object from it; any problem names the file."""
    try:
        return parse(_read_json(file))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, PolicyCheckpointError):
            raise
        raise PolicyCheckpointError(file, f"{what}: {exc}") from None


def _read_json(file: Path) -> Any:
    if not file.is_file():
        raise PolicyCheckpointError(file, "missing")
    try:
        return load_file(file)  # bounded: size, depth, no NaN
    except JsonInputError as exc:
        raise PolicyCheckpointError(file, str(exc).removeprefix(f"{file}: ")) from None
    except OSError as exc:
        raise PolicyCheckpointError(file, f"unreadable ({exc.strerror or exc})") from None


def _load_weights(model: FilmCnnPolicy, file: Path) -> None:
    from safetensors.torch import load_file

    if not file.is_file():
        raise PolicyCheckpointError(file, "missing")
    try:
        state = load_file(str(file))  # safetensors: a header + raw buffers, no code is unpickled
    except Exception as exc:  # safetensors raises its own error type for truncated/corrupt files
        raise PolicyCheckpointError(file, f"truncated or corrupt safetensors file ({exc})") from None

    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise PolicyCheckpointError(
            file,
            f"tensors do not match the network that {CONFIG_NAME} describes: "
            f"missing {_few(missing)}, unexpected {_few(unexpected)}",
        )
    wrong = [
        f"'{k}' has shape {tuple(state[k].shape)}, {CONFIG_NAME} needs {tuple(v.shape)}"
        for k, v in expected.items()
        if tuple(state[k].shape) != tuple(v.shape)
    ]
    if wrong:
        raise PolicyCheckpointError(
            file, f"tensor shape mismatch with {CONFIG_NAME} ({len(wrong)} tensors): " + "; ".join(wrong[:3])
        )
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise PolicyCheckpointError(file, f"tensor '{k}' holds NaN or inf values")
        if v.is_floating_point() != expected[k].is_floating_point():
            raise PolicyCheckpointError(file, f"tensor '{k}' has dtype {v.dtype}, expected {expected[k].dtype}")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # pragma: no cover - the checks above should catch everything first
        raise PolicyCheckpointError(file, f"cannot load into the network of {CONFIG_NAME}: {exc}") from None


def _few(names: list[str], n: int = 5) -> str:
    if not names:
        return "none"
    more = f" (+{len(names) - n} more)" if len(names) > n else ""
    return "[" + ", ".join(names[:n]) + "]" + more
