"""Reasoner plug-ins for the tests (loaded by `module:Class`)."""

from cognitivedrone.reasoning.base import Reasoner, Rewrite


class RedGate(Reasoner):
    """Always says: the red gate."""

    name = "red"

    def rewrite(self, instruction, image):
        return Rewrite("Fly through the red gate", "always red")


class NotAReasoner:
    pass
