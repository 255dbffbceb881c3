"""Who flies a benchmark episode. Every agent gets the same observation (image, state,
instruction) and answers with a body-frame `VelocityCommand`; privileged agents (the expert)
may also read the episode's ground truth from the context, which learned policies never do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from cognitivedrone.expert import ExpertPilot
from cognitivedrone.resources import resolve_checkpoint
from cognitivedrone.tasks.suite import Episode
from cognitivedrone.types import VelocityCommand


@dataclass
class EpisodeContext:
    episode: Episode
    instruction: str  # the prompt actually given (original or simple)
    gate_poses: list  # world GatePose of each gate, privileged
    limits: tuple[float, float, float, float]  # airframe command limits: vxy, vxy, vz, yaw_rate
    airframe: str = "cf2x"
    control_hz: float = 10.0
    camera: Callable[[int], np.ndarray] | None = None  # the FPV at another resolution (a reasoner's camera)
    view_camera: object | None = None  # the look's CameraConfig when not classic (privileged pilots look for the gate)
    camera_fov_deg: float | None = None  # the FPV camera's field of view (a drone's camera calibration says it)


class Agent(Protocol):
    """What the episode loop (episode.py) asks of whoever flies. `BaseAgent` gives the defaults
    of an agent without a Pilot: no time off the policy, no doubt, no rewrite."""

    name: str

    def reset(self, ctx: EpisodeContext) -> None: ...

    def act(self, obs: dict) -> VelocityCommand: ...

    @property
    def slow_path_s(self) -> float:
        """Seconds the last act() spent off the policy (a reasoner run in step): not policy latency."""

    def acting_on(self) -> str | None:
        """The instruction being flown now (a reasoner's rewrite), or None for the episode's own."""

    def doubt(self) -> dict | None:
        """What the Pilot did instead of the policy this episode (results.json `doubt`), or None."""

    def rewrite_outcome(self) -> tuple[str, bool | None, list[float]] | None:
        """(the rewrite acted on at the end, whether it names the correct gate, the reasoner's call
        latencies in s), or None when no reasoner runs."""

    def faults(self) -> dict | None:
        """What went wrong in the parts this episode (results.json `faults`, results.FAULTS), or None."""


class BaseAgent:
    """Defaults for the hooks of `Agent` that only a Pilot-backed agent fills in."""

    name = "agent"
    slow_path_s = 0.0

    def acting_on(self) -> str | None:
        return None

    def doubt(self) -> dict | None:
        return None

    def rewrite_outcome(self) -> tuple[str, bool | None, list[float]] | None:
        return None

    def faults(self) -> dict | None:
        return None


class HoverAgent(BaseAgent):
    """Always commands zero velocity: the floor any pilot must beat (0% success)."""

    name = "hover"

    def reset(self, ctx: EpisodeContext) -> None:
        pass

    def act(self, obs: dict) -> VelocityCommand:
        return VelocityCommand.hover()


class RandomAgent(BaseAgent):
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


class ExpertAgent(BaseAgent):
    """The privileged expert pilot, told the target gate's pose."""

    name = "expert"

    def __init__(self):
        self.pilot = ExpertPilot()

    def reset(self, ctx: EpisodeContext) -> None:
        self.pilot.reset(ctx.gate_poses[ctx.episode.target_index], camera=ctx.view_camera)

    def act(self, obs: dict) -> VelocityCommand:
        return self.pilot.act(obs["state"])


class CheckpointAgent(BaseAgent):
    """A learned VLA loaded from a checkpoint directory, run by an inference engine inside a Pilot
    (safety filter, and the reasoner when one is given), as on the drone. It sees what a real drone
    would: the camera image and the instruction."""

    def __init__(self, path: str | Path, engine: str = "torch", reasoner: str = "none"):
        from cognitivedrone.reasoning import make_reasoner
        from cognitivedrone.runtime import make_engine

        self.name = str(path)
        # One thread per bench worker: the workers are the parallelism.
        self.engine = make_engine(engine, path, threads=1)
        self.reasoner_spec = reasoner
        # The offline reasoner's networks run where the policy does: torch, or onnxruntime for the
        # ONNX engines (TensorRT builds plans for the policy alone).
        self.reasoner = make_reasoner(reasoner, engine="torch" if engine == "torch" else "onnxruntime")
        self.pilot = None

    def reset(self, ctx: EpisodeContext) -> None:
        from cognitivedrone.pilot import Pilot, PilotConfig
        from cognitivedrone.safety import SafetyConfig, SafetyFilter

        if self.pilot is not None:
            self.pilot.reasoner = None  # the reasoner lives on across episodes; close only the loop
            self.pilot.close()
        self.ctx = ctx
        self.k = 0
        safety = SafetyFilter(SafetyConfig.for_airframe(ctx.airframe))
        self.pilot = Pilot(self.engine, self.reasoner, safety, PilotConfig(mode="sim", camera_hfov_deg=ctx.camera_fov_deg))
        self.pilot.set_instruction(ctx.instruction)
        self.last_doubt = ""
        # The reasoner's own camera, rendered only when the reasoner runs (made once per episode).
        size = getattr(self.reasoner, "image_size", None)
        camera = ctx.camera
        self.reasoner_frame = (lambda: camera(size)) if size and camera is not None else None

    def act(self, obs: dict) -> VelocityCommand:
        t = self.k / self.ctx.control_hz
        self.k += 1
        cmd = self.pilot.on_frame(obs["image"], t, altitude_m=float(obs["state"][2]), reasoner_image=self.reasoner_frame)
        self.last_doubt = self.pilot.doubt or self.last_doubt
        return cmd

    def doubt(self) -> dict | None:
        """What the Pilot did instead of the policy this episode, and the last reason why."""
        s = self.pilot.stats
        return {"unflyable": s.unflyable_frames, "searching": s.search_frames, "gate_lost": s.gate_lost_frames,
                "last": self.last_doubt}

    def faults(self) -> dict | None:
        """The Pilot's and its safety filter's counts for this episode (results.FAULTS)."""
        s, e = self.pilot.stats, self.pilot.safety.events
        return {"reasoner_calls": s.reasoner_calls, "reasoner_answers": s.reasoner_answers,
                "reasoner_failures": s.reasoner_errors + s.reasoner_timeouts,
                "rewrites_ignored": s.rewrites_rejected, "policy_errors": s.policy_errors,
                "safety_interventions": e.estop + e.stale + e.non_finite + e.bad_input + e.clamped + e.altitude}

    @property
    def slow_path_s(self) -> float:
        """Seconds the last act() spent in the reasoner (sim mode runs it in step): not policy latency."""
        return self.pilot.last_slow_s if self.pilot is not None else 0.0

    def acting_on(self) -> str | None:
        return self.pilot.instruction if self.pilot is not None else None

    def rewrite_outcome(self) -> tuple[str, bool | None, list[float]] | None:
        """(the rewrite acted on at the end, whether it names the correct gate, the reasoner's call
        latencies); None without a reasoner."""
        if self.reasoner is None:
            return None
        calls = list(self.pilot.stats.reasoner_latency_s)
        target = self.pilot.rewrite_target
        if target is None:
            return "", False, calls
        ep = self.ctx.episode
        gate = ep.gates[ep.target_index]
        looks_ok = all(w is None or w == getattr(gate, a) for w, a in
                       ((target.size, "size"), (target.shape, "shape"), (target.color, "color")))
        asset_ok = target.asset is None or target.asset == ep.options[ep.target_index]
        return self.pilot.instruction, looks_ok and asset_ok, calls


BUILTIN_AGENTS = {"expert": ExpertAgent, "hover": HoverAgent, "random": RandomAgent}


def make_agent(spec: str, engine: str = "torch", reasoner: str = "none") -> Agent:
    """`spec` is a built-in name (expert, hover, random) or a checkpoint directory, run by `engine`
    with `reasoner` in front of it."""
    if spec in BUILTIN_AGENTS:
        if reasoner != "none":
            raise ValueError(f"--reasoner needs a checkpoint policy; {spec!r} does not read instructions")
        return BUILTIN_AGENTS[spec]()
    if resolve_checkpoint(spec).is_dir():
        return CheckpointAgent(spec, engine, reasoner)
    raise ValueError(f"unknown policy {spec!r}; choose one of {', '.join(BUILTIN_AGENTS)} or a checkpoint directory")
