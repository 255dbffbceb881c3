"""From recorded streams to training samples: which command labels which camera frame, in which
frame of reference, and where one episode ends (docs/design.md, Recorded flights: the timing and
geometry of `cognitivedrone data from-bag`, apart from reading bags).

A flight's bag holds streams at their own rates: camera frames (10-30 Hz), the pilot's velocity
commands (teleop at 10-50 Hz, or MAVROS set-points), the vehicle's pose, the instruction. Each
frame is labelled with the command *in force* at its stamp (the newest one at or before it, if
not older than `max_command_age_s`): what the pilot was asking for while the camera saw that
view. A command in the world frame (ENU, as MAVROS set-points are) is turned into the body frame
(FLU, what the policy outputs) by the vehicle's heading at that stamp, from the newest pose not
older than `max_pose_age_s`. A frame without a fresh command, or an ENU command without a fresh
pose, is dropped and counted by reason: nothing is guessed.

An instruction holds from when it was heard until the next; the first one from the start of the
bag (it may have been given, latched, before recording began). Episodes end where the instruction changes, where the stream has a gap longer than `gap_s`
(the recorder stopped, the drone landed), and at the end of each bag.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Stamped:
    """One message's content at its stamp (s)."""

    t: float
    value: object


@dataclass(frozen=True)
class Sample:
    """One camera frame with its label: the command in force (body FLU: vx, vy, vz m/s, yaw rate
    rad/s), the pose then (x, y, z, roll, pitch, yaw; None if none was recorded) and the
    instruction then."""

    t: float
    frame: object
    action: np.ndarray
    pose: np.ndarray | None
    instruction: str


@dataclass
class Drops:
    """Frames left out, by reason (one line each for the converter's report)."""

    counts: Counter = field(default_factory=Counter)

    def add(self, reason: str) -> None:
        self.counts[reason] += 1

    def lines(self) -> list[str]:
        return [f"{n} frame(s): {reason}" for reason, n in self.counts.most_common()]


def enu_to_body(command: np.ndarray, yaw: float) -> np.ndarray:
    """(v_east, v_north, v_up, yaw rate) -> (forward, left, up, yaw rate) for a vehicle heading
    `yaw` (rad, ENU: 0 = east, counter-clockwise). The inverse of mavros_bridge's rotation."""
    c, s = math.cos(yaw), math.sin(yaw)
    ve, vn, vu, wz = (float(v) for v in command)
    return np.array([c * ve + s * vn, -s * ve + c * vn, vu, wz], np.float32)


def _newest_before(stream: list[Stamped], times: list[float], t: float, max_age_s: float) -> Stamped | None:
    i = bisect.bisect_right(times, t) - 1
    if i < 0 or t - stream[i].t > max_age_s:
        return None
    return stream[i]


def label_frames(frames: list[Stamped], commands: list[Stamped], poses: list[Stamped] | None = None,
                 instructions: list[Stamped] | None = None, *, command_frame: str = "body",
                 default_instruction: str = "", max_command_age_s: float = 0.5, max_pose_age_s: float = 0.2,
                 ) -> tuple[list[Sample], Drops]:
    """Each frame with the command in force at its stamp. `commands` hold 4-vectors (body FLU, or
    ENU with `command_frame="enu"`); `poses` 6-vectors (x, y, z, roll, pitch, yaw); `instructions`
    strings. All streams sorted by time."""
    if command_frame not in ("body", "enu"):
        raise ValueError(f"command_frame is body or enu, not {command_frame!r}")
    drops = Drops()
    c_times, p_times = [c.t for c in commands], [p.t for p in poses or []]
    i_times = [i.t for i in instructions or []]
    samples = []
    for f in frames:
        cmd = _newest_before(commands, c_times, f.t, max_command_age_s)
        if cmd is None:
            drops.add("no command yet" if not c_times or f.t < c_times[0] else
                      f"no command in the last {max_command_age_s:g} s")
            continue
        pose = _newest_before(poses, p_times, f.t, max_pose_age_s) if poses else None
        action = np.asarray(cmd.value, np.float32).reshape(4)
        if not np.isfinite(action).all():
            drops.add("non-finite command")
            continue
        if command_frame == "enu":
            if pose is None:
                drops.add(f"world-frame command without a pose in the last {max_pose_age_s:g} s")
                continue
            action = enu_to_body(action, float(np.asarray(pose.value)[5]))
        said = _newest_before(instructions, i_times, f.t, math.inf) if instructions else None
        if said is None and instructions:
            # An instruction has no stamp of its own (std_msgs/String): its time is when the
            # recorder heard it, and a latched one is heard after recording starts. The first one
            # is taken to hold from the start.
            said = instructions[0]
        text = str(said.value) if said is not None else default_instruction
        if not text.strip():
            drops.add("no instruction yet (give --instruction)")
            continue
        samples.append(Sample(f.t, f.value, action, None if pose is None else np.asarray(pose.value, np.float32),
                              text))
    return samples, drops


def split_episodes(samples: list[Sample], gap_s: float = 1.0) -> list[list[Sample]]:
    """Runs of samples with one instruction and no gap longer than `gap_s` between frames."""
    episodes: list[list[Sample]] = []
    for s in samples:
        if episodes and s.instruction == episodes[-1][-1].instruction and s.t - episodes[-1][-1].t <= gap_s:
            episodes[-1].append(s)
        else:
            episodes.append([s])
    return episodes
