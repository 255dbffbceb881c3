"""What one flown episode produced: its outcome (for results.json) and, optionally, a recording
(for videos). Plain dataclasses so they cross process boundaries cheaply."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

OUTCOMES = ("success", "wrong_gate", "collision", "out_of_bounds", "timeout")
FAILURES = OUTCOMES[1:]


#: The keys of EpisodeResult.faults, in the report's order.
FAULTS = ("reasoner_calls", "reasoner_answers", "reasoner_failures", "rewrites_ignored", "policy_errors",
          "safety_interventions")


@dataclass
class EpisodeResult:
    episode_id: str
    category: str
    family: str
    outcome: str  # one of OUTCOMES
    gate_passed: int | None  # 1-based (as the suite's `correct`) gate flown through, None if none
    time_s: float  # simulated time when the episode ended
    path_length_m: float
    steps: int  # policy decisions taken
    latency_ms_mean: float  # mean wall time of one policy decision
    latency_ms_p99: float
    prompt: str = ""  # the instruction the policy was given
    rewrite_correct: bool | None = None  # set when a reasoner ran
    rewrite: str = ""  # the reasoner's rewrite the policy acted on at the end (when one ran)
    reasoner_latency_ms_mean: float | None = None  # mean wall time of one reasoner call
    detail: str = ""  # e.g. which body was hit
    # Decisions on which the Pilot did not fly the policy's command, and why (checkpoint agents):
    # {"unflyable": frames the guard refused, "searching": frames turning to find the gate,
    #  "gate_lost": frames hovering after a search, "last": the last such reason, "" if none}
    doubt: dict | None = None
    # What went wrong in the parts this episode (checkpoint agents; FAULTS): reasoner calls and
    # how many failed (an exception or a timeout), rewrites ignored (not the simple form), policy
    # errors, and the safety filter's interventions (stale frames, bad inputs, non-finite or
    # out-of-limit commands, altitude bounds, e-stop).
    faults: dict | None = None
    look: str = "classic"  # the named look the episode was flown in (cognitivedrone.sim.look)
    look_seed: int = 0  # with `look`, reproduces the episode's look: sample_look(look, look_seed)

    @property
    def success(self) -> bool:
        return self.outcome == "success"

    @property
    def time_to_goal_s(self) -> float | None:
        return self.time_s if self.success else None

    def to_json(self) -> dict:
        d = asdict(self)
        d["success"] = self.success
        d["time_to_goal_s"] = self.time_to_goal_s
        return d


@dataclass(frozen=True)
class GateMarker:
    """A gate as drawn in the top view: centre of its opening, facing yaw (rad, world frame,
    the direction a drone flies through it), how it looks, and its opening half-width (m)."""

    x: float
    y: float
    z: float
    yaw: float
    size: str
    shape: str
    color: str
    half_width: float


@dataclass
class EpisodeRecording:
    """Everything needed to draw the video of one episode."""

    episode_id: str
    prompt: str
    outcome: str
    target_index: int  # 0-based
    gates: list[GateMarker]
    control_hz: float
    fpv: list[np.ndarray] = field(default_factory=list)  # uint8 HxWx3, one per decision
    positions: list[tuple[float, float, float]] = field(default_factory=list)  # world, per decision
    yaws: list[float] = field(default_factory=list)  # rad, per decision
    captions: list[str] = field(default_factory=list)  # optional per-frame text (e.g. current instruction)


def json_safe(value):
    """JSON-safe copy: NaN/inf -> None, numpy scalars/arrays -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value
