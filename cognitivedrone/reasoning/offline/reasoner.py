"""`offline`: the default reasoner. No downloaded weights: the perception model shipped in
checkpoints/perception (trained here on rendered scenes) reads the billboards and gates, and the
solver answers the question over the vocabulary's facts."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cognitivedrone.reasoning.base import Reasoner, Rewrite

DEFAULT_PERCEPTION = Path(__file__).resolve().parents[3] / "checkpoints" / "perception"


class OfflineReasoner(Reasoner):
    name = "offline"

    def __init__(self, perception: str | Path | None = None, threshold: float = 0.5):
        import torch

        from cognitivedrone.reasoning.offline.perception import load_perception
        from cognitivedrone.reasoning.offline.reader import has_reader, load_reader
        from cognitivedrone.reasoning.offline.solver import Solver

        self._torch = torch
        folder = Path(perception or DEFAULT_PERCEPTION)
        self.model = load_perception(folder)
        # The billboard reader, when the folder has one, names the pictures (reader.py); else the grid does.
        self.reader = load_reader(folder) if has_reader(folder) else None
        if self.reader is not None and self.reader.config.assets != self.model.config.assets:
            raise ValueError(f"{folder}: the reader's pictures are not the perception model's; retrain the reader")
        self.assets = self.model.config.assets
        self.image_size = self.model.config.image_size
        self.solver = Solver(self.assets)
        self.threshold = threshold
        # Per instruction, the answer made from the view with the most billboards: once the drone
        # is close and sees fewer of them, "the largest number" must not become the larger of two.
        self._best: dict[str, tuple[int, float, Rewrite]] = {}

    def reset(self) -> None:
        # A new dict, not clear(): a call still running on the old task writes into the old one.
        self._best = {}

    def perceive(self, image: np.ndarray):
        from cognitivedrone.reasoning.offline.perception import decode
        from cognitivedrone.reasoning.offline.reader import read_boards

        from cognitivedrone.policy.inputs import fit_image

        size = self.model.config.image_size
        if image.shape != (size, size, 3):
            image = fit_image(image, size)
        image = np.array(image, np.uint8)
        with self._torch.inference_mode():
            boards = decode(self.model(self._torch.from_numpy(image)[None]), self.model.config, self.threshold)[0]
            if self.reader is not None:
                for board, probs in zip(boards, read_boards(self.reader, image, boards)):
                    board.asset_probs = probs
        return boards

    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite:
        t0 = time.perf_counter()
        memory = self._best
        boards = self.perceive(image)
        best = memory.get(instruction)
        if best is not None and len(boards) < best[0]:
            return Rewrite(best[2].text, best[2].rationale + " (kept: fewer billboards in view now)", time.perf_counter() - t0)
        seen = ", ".join(f"{b.color} {b.shape} gate: {self._label(b.asset_probs.argmax())}" for b in boards)
        choice = self.solver.choose(instruction, [b.asset_probs for b in boards], [b.partly_seen for b in boards])
        if choice is None:
            why = f"no confident answer ({len(boards)} billboard(s) in view: {seen or 'none'})"
            return Rewrite(best[2].text if best else "", why, time.perf_counter() - t0)
        b = boards[choice.index]
        text = f"Fly through the {b.size} {b.shape} {b.color} gate with {self._label(choice.asset)}"
        rw = Rewrite(text, f"{choice.rationale}; seen {seen}", time.perf_counter() - t0)
        if best is None or len(boards) > best[0] or choice.margin >= best[1]:
            best = memory[instruction] = (len(boards), choice.margin, rw)
        return best[2]

    def _label(self, index: int) -> str:
        from cognitivedrone.reasoning.simple_form import asset_label

        return asset_label(self.assets[int(index)])

