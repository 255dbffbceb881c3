"""`offline`: the default reasoner. No downloaded weights: the perception model shipped in
cognitivedrone/checkpoints/perception (trained here on rendered scenes) reads the billboards and gates, and the
solver answers the question over the vocabulary's facts. Its networks run on torch or, without
torch (the drone), on onnxruntime from their ONNX export (engines.py)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cognitivedrone.reasoning.base import Reasoner, Rewrite
from cognitivedrone.reasoning.offline.boards import (
    Billboard,
    crop_boards,
    crop_gates,
    decode,
    gate_in_frame,
    gate_looks,
    softmax,
)
from cognitivedrone.reasoning.offline.memory import SAME_PICTURE_P, BoardMemory, Sighting
from cognitivedrone.resources import DEFAULT_PERCEPTION, resolve_checkpoint
from cognitivedrone.tasks.simple_form import Target


class _Answer(NamedTuple):
    """The best answer to an instruction yet (`OfflineReasoner.rewrite`)."""

    boards: int  # billboards counted when it was made
    margin: float
    rewrite: Rewrite
    entry: Sighting  # the memory's entry of the billboard it names
    weak: bool  # no reading fitted well (solver.Choice.weak)


# A rewrite names the gate's size only when the gate reader is at least this sure of it; shape and
# colour it always names (the policy, given the colour alone, flew 96.3 % on classic against 99.7 %
# with shape and colour). Size tells no two gates of our suites apart, and a wrong one makes a
# rewrite that names no gate in view: on held-out randomized scenes the gate reader was this sure
# of 84 % of sizes, and right about 98.9 % of those (95.0 % of all; gate_reader_eval.json).
SIZE_NAMED_ABOVE = 0.9


class OfflineReasoner(Reasoner):
    name = "offline"

    def __init__(self, perception: str | Path | None = None, threshold: float = 0.5, engine: str = "auto"):
        from cognitivedrone.reasoning.offline.engines import open_perception
        from cognitivedrone.reasoning.offline.solver import Solver

        folder = resolve_checkpoint(perception) if perception else DEFAULT_PERCEPTION
        # The grid finds the billboards; the billboard reader, when the folder has one, names the
        # pictures (reader.py), and the gate reader tells each gate's looks (gate_reader.py).
        self.engine = open_perception(folder, engine)
        cfg = self.engine.config
        if self.engine.reader is not None and self.engine.reader.assets != cfg.assets:
            raise ValueError(f"{folder}: the reader's pictures are not the perception model's; retrain the reader")
        self.assets = cfg.assets
        self.image_size = cfg.image_size
        self.solver = Solver(self.assets)
        self.threshold = threshold
        # Per instruction, the billboards its views have shown (memory.py), and the answer made
        # when the most were known: once the drone is close and sees fewer of them, "the largest
        # number" must not become the larger of two.
        self._seen: dict[str, BoardMemory] = {}
        self._best: dict[str, _Answer] = {}

    def describe(self) -> str:
        return f"offline, its networks on {self.engine.name}"

    def reset(self) -> None:
        # New dicts, not clear(): a call still running on the old task writes into the old ones.
        self._seen, self._best = {}, {}

    def perceive(self, image: np.ndarray) -> list[Billboard]:
        from cognitivedrone.policy.inputs import fit_image

        eng, size = self.engine, self.image_size
        if image.shape != (size, size, 3):
            image = fit_image(image, size)
        image = np.array(image, np.uint8)
        boards = decode(eng.grid(image), eng.config, self.threshold)[0]
        if not boards:
            return boards
        uv, width = np.array([[b.u, b.v] for b in boards]), np.array([b.scale for b in boards])
        if eng.reader is not None:
            crops = crop_boards(image, uv, width, eng.reader.crop, eng.reader.margin)
            for board, probs in zip(boards, softmax(eng.read(crops))):
                board.asset_probs = probs
        if eng.gate_reader is not None:
            looks = gate_looks(eng.gates(crop_gates(image, uv, width, eng.gate_reader)))
            for board, seen in zip(boards, looks):
                (board.size, p_size), (board.shape, p_shape), (board.color, p_color) = seen.size, seen.shape, seen.color
                board.looks_p = (p_size, p_shape, p_color)
                board.gate_seen = gate_in_frame(board.u, board.v, board.scale, eng.gate_reader)
        return boards

    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite:
        t0 = time.perf_counter()
        memory, seen_before = self._best, self._seen.setdefault(instruction, BoardMemory())
        in_view = self.perceive(image)
        seen_before.add(in_view)
        entries = seen_before.sightings()
        boards = [e.board for e in entries]
        best = memory.get(instruction)

        def kept(why: str) -> Rewrite:  # the best answer yet, with where its billboard is now
            rw, entry = best.rewrite, best.entry
            return replace(rw, rationale=why, latency_s=time.perf_counter() - t0, target_u=self._u(seen_before, entry))

        if best is not None and len(boards) < best.boards and not best.weak:
            return kept(best.rewrite.rationale + " (kept: fewer billboards in view now)")
        choice = self.solver.choose(instruction, [b.asset_probs for b in boards], [b.partly_seen for b in boards])
        if (choice is None or choice.weak) and self.solver.fit(instruction)[1] is None:
            # Nothing counted fits well: a billboard seen too rarely to count (the third one, shown
            # once by a narrow camera's look-around) may show what is asked for, read surely.
            # (Not for "the largest": there every billboard counts, and a rare one may be a ghost.)
            everything = seen_before.sightings(rare_too=True)
            rescue = self.solver.choose(instruction, [e.board.asset_probs for e in everything],
                                        [e.board.partly_seen for e in everything])
            if (rescue is not None and rescue.fit >= SAME_PICTURE_P
                    and all(everything[rescue.index] is not e for e in entries)):
                entries, boards, choice = everything, [e.board for e in everything], rescue
        seen = ", ".join(f"{b.color} {b.shape} gate: {self._label(b.asset_probs.argmax())}" for b in boards)
        if choice is None:
            why = f"no confident answer ({len(in_view)} billboard(s) in view, {len(boards)} seen: {seen or 'none'})"
            if best is not None:
                return kept(why)
            # A picture the words name ("the pilot", "7 - 5") is known without seeing it: ask for it
            # by the picture alone, and the policy looks for it (with a narrow camera it may be out
            # of view). Not kept as the best answer: the first confident one from a view replaces it.
            named = self.solver.named_picture(instruction)
            if named is None:
                return Rewrite("", why, time.perf_counter() - t0)
            return Rewrite(Target(asset=self.assets[named]).sentence(), f"{why}; the words name the picture",
                           time.perf_counter() - t0)
        b = boards[choice.index]
        size = b.size if b.looks_p[0] >= SIZE_NAMED_ABOVE else None
        text = Target(size, b.shape, b.color, self.assets[choice.asset]).sentence()
        rw = Rewrite(text, f"{choice.rationale}; seen {seen}", time.perf_counter() - t0)
        # A weak answer (no reading fits well) gives way to any answer that is not; never the reverse.
        if (best is None or (best.weak and not choice.weak)
                or (best.weak or not choice.weak) and (len(boards) > best.boards or choice.margin >= best.margin)):
            best = memory[instruction] = _Answer(len(boards), choice.margin, rw, entries[choice.index], choice.weak)
        return kept(best.rewrite.rationale)

    @staticmethod
    def _u(memory: BoardMemory, entry) -> float | None:
        """Where `entry`'s billboard is across this view (Rewrite.target_u); None if out of it or cut
        by its left or right edge (its centre would be a guess)."""
        b = memory.in_view(entry)
        return None if b is None or abs(b.u) + b.scale > 1.0 else float(b.u)

    def _label(self, index: int) -> str:
        from cognitivedrone.tasks.simple_form import asset_label

        return asset_label(self.assets[int(index)])

