"""A reasoner plug-in for reasoner_node in the fuzz (loaded by `tests.fuzz.plugins:Scripted`)."""

from __future__ import annotations

import numpy as np

from cognitivedrone.reasoning.base import Reasoner, Rewrite


class Scripted(Reasoner):
    """Answers what the test queued (a Rewrite's text, another object, or an exception to raise);
    records the frames it was given that are not uint8 HxWx3 arrays."""

    name = "scripted"
    answers: list = []
    bad_frames: list = []

    def rewrite(self, instruction, image):
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
                and image.shape[0] > 0 and image.shape[1] > 0):
            Scripted.bad_frames.append(f"{type(image).__name__} {getattr(image, 'dtype', '')} {getattr(image, 'shape', '')}")
        answer = Scripted.answers.pop(0) if Scripted.answers else "Fly through the red gate"
        if isinstance(answer, BaseException):
            raise answer
        return Rewrite(answer, "scripted") if isinstance(answer, str) else answer
