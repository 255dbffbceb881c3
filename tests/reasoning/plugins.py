"""Reasoner plug-ins for the tests (loaded by `module:Class`)."""

from cognitivedrone.reasoning.base import Reasoner, Rewrite


class RedGate(Reasoner):
    """Always says: the red gate."""

    name = "red"

    def rewrite(self, instruction, image):
        return Rewrite("Fly through the red gate", "always red")


class NotAReasoner:
    pass


class SuiteOracle(Reasoner):
    """Answers with the smoke suite's own simple form of the instruction (tests the plumbing with
    a rewrite the policy is known to fly)."""

    name = "oracle"

    def __init__(self):
        from cognitivedrone.tasks.suite import load_suite

        self.simple = {e.prompt: e.prompt_simpler for e in load_suite("smoke").episodes}

    def rewrite(self, instruction, image):
        return Rewrite(self.simple.get(instruction, ""), "the suite's simple form")
