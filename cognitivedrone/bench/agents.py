"""Who flies a benchmark episode. Every agent gets the same observation (image, state,
instruction) and answers with a body-frame `VelocityCommand`; privileged agents (the expert)
may also read the episode's ground truth from the context, which learned policies never do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cognitivedrone.bench.suite import Episode
from cognitivedrone.expert import ExpertPilot
from cognitivedrone.types import VelocityCommand


@dataclass
class EpisodeContext:
    episode: Episode
    instruction: str  # the prompt actually given (original or simple)
    gate_poses: list  # world GatePose of each gate, privileged
    limits: tuple[float, float, float, float]  # airframe command limits: vxy, vxy, vz, yaw_rate


class Agent(Protocol):
    name: str

    def reset(self, ctx: EpisodeContext) -> None: ...

    def act(self, obs: dict) -> VelocityCommand: ...


class HoverAgent:
    """Always commands zero velocity: the floor any pilot must beat (0% success)."""

    name = "hover"

    def reset(self, ctx: EpisodeContext) -> None:
        pass

    def act(self, obs: dict) -> VelocityCommand:
        return VelocityCommand.hover()


class RandomAgent:
    """Uniform random commands within the limits, each held for `hold_steps` decisions;
    seeded by the episode so runs are repeatable."""

    name = "random"

    def __init__(self, hold_steps: int = 10):
        self.hold_steps = hold_steps

    def reset(self, ctx: EpisodeContext) -> None:
        self.rng = np.random.default_rng(ctx.episode.seed + 7919)
        self.limits = np.asarray(ctx.limits, dtype=np.float64)
        self.k = 0
        self.cmd = VelocityCommand.hover()

    def act(self, obs: dict) -> VelocityCommand:
        if self.k % self.hold_steps == 0:
            self.cmd = VelocityCommand.from_array(self.rng.uniform(-self.limits, self.limits))
        self.k += 1
        return self.cmd


class ExpertAgent:
    """The privileged expert pilot, told the target gate's pose."""

    name = "expert"

    def __init__(self):
        self.pilot = ExpertPilot()

    def reset(self, ctx: EpisodeContext) -> None:
        self.pilot.reset(ctx.gate_poses[ctx.episode.target_index])

    def act(self, obs: dict) -> VelocityCommand:
        return self.pilot.act(obs["state"])


class CheckpointAgent:
    """A learned VLA loaded from a checkpoint directory and run by an inference engine. It sees
    what a real drone would: the camera image and the instruction, embedded once per episode
    (never in the fast loop)."""

    def __init__(self, path: str | Path, engine: str = "torch"):
        from cognitivedrone.runtime import make_engine

        self.name = str(path)
        # One thread per bench worker: the workers are the parallelism.
        self.policy = make_engine(engine, path, threads=1)
        self.embedding = None

    def reset(self, ctx: EpisodeContext) -> None:
        self.embedding = self.policy.embed(ctx.instruction)

    def act(self, obs: dict) -> VelocityCommand:
        return self.policy.act(obs["image"], self.embedding)


BUILTIN_AGENTS = {"expert": ExpertAgent, "hover": HoverAgent, "random": RandomAgent}


def make_agent(spec: str, engine: str = "torch") -> Agent:
    """`spec` is a built-in name (expert, hover, random) or a checkpoint directory, run by `engine`."""
    if spec in BUILTIN_AGENTS:
        return BUILTIN_AGENTS[spec]()
    if Path(spec).is_dir():
        return CheckpointAgent(spec, engine)
    raise ValueError(f"unknown policy {spec!r}; choose one of {', '.join(BUILTIN_AGENTS)} or a checkpoint directory")
