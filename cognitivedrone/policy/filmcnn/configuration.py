"""Configuration of the "filmcnn" policy (a dataclass, serialised as config.json)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

HEADS = ("chunk_l1", "tokens256")
NORMS = ("batch", "group")


@dataclass
class FilmCnnConfig:
    """A small RT-1-style policy: a FiLM-conditioned CNN on the image, a learned head over the
    frozen sentence encoder's token states for the instruction, and an action head.

    Shapes: image [image_size, image_size, 3] -> `len(channels)` stride-2 stages, so the last
    feature map is image_size / 2**len(channels) on a side (4x4 at 128 px with 5 stages).
    """

    type: str = "filmcnn"
    image_size: int = 128
    # One stage per entry: conv3x3 stride 2 + conv3x3, each with norm + ReLU. The first two
    # stages run at 64x64 and 32x32 (at 128 px) and dominate the cost: measured with
    # onnxruntime, 1 thread, batch 1, 128 px on this 2-core EPYC, (16, 32, 64, 96, 128) runs in
    # ~1.0 ms p50, (32, 48, 64, 96, 128) in ~2.0-2.4 ms (over the 2 ms budget).
    channels: tuple[int, ...] = (16, 32, 64, 96, 128)
    # Stages (0-based indices into `channels`) whose second conv is FiLM-modulated by the
    # instruction embedding. Stage 0 is left out: its features are colours and edges, and it
    # runs at the highest resolution, where FiLM costs the most.
    film_stages: tuple[int, ...] = (1, 2, 3, 4)
    norm: str = "batch"  # "batch" folds into the convs at export (free at inference); "group" for tiny batches

    # Text head: attention pooling with `text_queries` learned queries over the frozen token
    # states (width `text_hidden`), plus the mean-pooled sentence vector, MLP -> `embed_dim`.
    text_tokens: int = 32
    text_dim: int = 384
    text_queries: int = 4
    text_hidden: int = 128
    embed_dim: int = 256

    # Visual read-out: global average pool of the last stage + a 1x1 conv to `spatial_channels`
    # flattened over the last map (keeps *where* things are: which gate is left or right).
    spatial_channels: int = 32
    head_hidden: int = 256

    action_dim: int = 4
    # "chunk_l1": continuous, predicts `chunk_size` future actions, L1 loss (OpenVLA-OFT style);
    # the first action of the chunk is executed. "tokens256": one action, `n_bins` bins per
    # dimension over [-1, 1], cross-entropy (OpenVLA style).
    head: str = "chunk_l1"
    chunk_size: int = 4
    n_bins: int = 256
    dropout: float = 0.1
    # Pointer: the instruction embedding is a query scored against every cell of the
    # second-to-last feature map (8x8 at 128 px); a softmax over the cells (plus a "not in view"
    # slot) says where the instructed gate is. Its expected position, the features it attends
    # to and the "not in view" probability go to the action head. Trained with the gate's
    # projected position as target. Without this explicit text x image product the policy
    # ignored the instruction and flew to the centre gate: measured on 8,000 start frames, a
    # gate classifier on concatenated features stayed at chance (loss ln 3) for 1,000 steps,
    # the pointer named the right gate in 99% of held-out frames after 200.
    pointer_dim: int = 64
    pointer_value_dim: int = 32
    pointer_loss_weight: float = 1.0
    # Perception targets read from the same map at each gate's projected position during
    # training only: the picture on the billboard (`n_assets` classes, the vocabulary's order)
    # and the gate's colour, shape and size. They teach the map *what* is where, which the
    # pointer then matches against the instruction (original prompts: 0.35 -> 0.54 accuracy
    # after 400 steps with them).
    n_assets: int = 229
    perception_loss_weight: float = 0.5
    # "Is a gate in view at all?": a small MLP (this many hidden units; 0: none, and the
    # pointer's "not in view" slot answers instead) over the pooled features, the embedding and
    # the pointer's summary. Fitted after training on frozen features, on rendered views that
    # include ones facing away from every gate, which demonstrations never show (the pointer's
    # slot gave 0.2-0.4 there): cognitivedrone.training.view_head. The Pilot searches on it.
    view_hidden: int = 0

    def __post_init__(self) -> None:
        # JSON has no tuples: accept lists and store tuples, so configs compare equal.
        if isinstance(self.channels, list):
            self.channels = tuple(self.channels)
        if isinstance(self.film_stages, list):
            self.film_stages = tuple(self.film_stages)
        self.validate()

    # -- derived sizes ------------------------------------------------------------------------

    @property
    def feature_map_size(self) -> int:
        return self.image_size // (2 ** len(self.channels))

    @property
    def pointer_map_size(self) -> int:
        return self.image_size // (2 ** (len(self.channels) - 1))

    @property
    def head_outputs(self) -> int:
        if self.head == "chunk_l1":
            return self.chunk_size * self.action_dim
        return self.n_bins * self.action_dim

    # -- validation and (de)serialisation -----------------------------------------------------

    def validate(self) -> None:
        _check_types(self)
        if self.type != "filmcnn":
            raise ValueError(f"type must be 'filmcnn', got {self.type!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {self.norm!r}")
        if not self.channels or any(c <= 0 for c in self.channels):
            raise ValueError(f"channels must be a non-empty list of positive ints, got {list(self.channels)}")
        if self.norm == "group" and any(c % 8 for c in self.channels):
            raise ValueError(f"norm 'group' uses 8 groups: every channel count must be a multiple of 8, got {list(self.channels)}")
        stride = 2 ** len(self.channels)
        if self.image_size < stride or self.image_size % stride:
            raise ValueError(
                f"image_size {self.image_size} must be a positive multiple of 2**len(channels) = {stride}"
            )
        bad = [s for s in self.film_stages if not 0 <= s < len(self.channels)]
        if bad or len(set(self.film_stages)) != len(self.film_stages):
            raise ValueError(
                f"film_stages must be distinct stage indices in [0, {len(self.channels) - 1}], got {list(self.film_stages)}"
            )
        for name in ("text_tokens", "text_dim", "text_queries", "text_hidden", "embed_dim",
                     "spatial_channels", "head_hidden", "action_dim", "chunk_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.text_hidden % 4:
            raise ValueError(f"text_hidden must be a multiple of 4 (4 attention heads), got {self.text_hidden}")
        for name in ("pointer_dim", "pointer_value_dim", "n_assets"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if len(self.channels) < 2:
            raise ValueError(f"the pointer reads the second-to-last stage: channels needs at least 2 entries, got {list(self.channels)}")
        if self.view_hidden < 0:
            raise ValueError(f"view_hidden must be >= 0 (0: no view head), got {self.view_hidden}")
        if self.n_bins < 2:
            raise ValueError(f"n_bins must be >= 2, got {self.n_bins}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FilmCnnConfig":
        """Strict: unknown keys and wrong types are errors (a typo must not silently fall back
        to a default and build a different network than the one the weights came from)."""
        if not isinstance(d, dict):
            raise TypeError(f"a filmcnn config is a JSON object, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; known keys: {sorted(known)}")
        return cls(**d)


def _check_types(cfg: FilmCnnConfig) -> None:
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        hint = hints[f.name]
        if hint is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif hint is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif hint is str:
            ok = isinstance(value, str)
        else:  # tuple[int, ...]
            ok = isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        if not ok:
            raise TypeError(f"config field {f.name!r} must be {_hint_name(hint)}, got {value!r}")


def _hint_name(hint) -> str:
    return getattr(hint, "__name__", None) if hint in (int, float, str) else "a list of ints"
