"""The Reasoner contract (docs/design.md, One instruction): rewrite a hard instruction into the simple form."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rewrite:
    text: str  # the backend's answer, as it gave it (Pilot parses and checks it before use)
    rationale: str = ""
    latency_s: float = 0.0
    # Where the billboard of the gate named stood across the frame the answer was made from: -1 the
    # left edge, 1 the right; None where it is not in that frame or the backend does not say. The
    # Pilot turns to face it before flying (PilotConfig.face_answer).
    target_u: float | None = None


class ReasonerError(RuntimeError):
    """A backend could not answer (server down, timeout, unusable output)."""


class Reasoner(ABC):
    """`rewrite(instruction, image)` may be slow (a VLM: ~0.5 s); Pilot calls it off the fast loop."""

    name: str = "?"
    # The camera resolution the backend reads best (square, px); None: the policy's frame will do.
    image_size: int | None = None

    @abstractmethod
    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite: ...

    def reset(self) -> None:
        """A new instruction (Pilot.set_instruction): forget what earlier frames suggested. A
        backend that remembers across calls must not carry an answer into the next task, even
        when the words are the same."""

    def close(self) -> None:
        """Release what the backend holds (HTTP sessions, models)."""

    def describe(self) -> str:
        """The backend and what runs it, for a log line."""
        return self.name


class NoReasoner(Reasoner):
    """`none`: the instruction goes to the policy as the user gave it."""

    name = "none"

    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite:
        return Rewrite(instruction, "no reasoner", 0.0)
