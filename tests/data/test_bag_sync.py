"""Labelling recorded camera frames with the command in force, and cutting flights into episodes
(cognitivedrone/data/bag_sync.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cognitivedrone.data.bag_sync import Stamped, enu_to_body, label_frames, split_episodes


def _cmd(t, *v):
    return Stamped(t, np.array(v, np.float32))


def test_each_frame_gets_the_newest_command_at_or_before_it_and_nothing_is_guessed():
    frames = [Stamped(t, f"frame@{t}") for t in (0.0, 0.1, 0.2, 0.3, 1.5, 1.6)]
    commands = [_cmd(0.05, 1, 0, 0, 0), _cmd(0.2, 2, 0, 0, 0), _cmd(1.58, 3, 0, 0, float("nan"))]
    samples, drops = label_frames(frames, commands, default_instruction="fly through the red gate",
                                  max_command_age_s=0.5)
    assert [(s.frame, float(s.action[0])) for s in samples] == [("frame@0.1", 1.0), ("frame@0.2", 2.0),
                                                                ("frame@0.3", 2.0)]
    assert drops.counts == {"no command yet": 1, "no command in the last 0.5 s": 1, "non-finite command": 1}
    assert all(s.instruction == "fly through the red gate" and s.pose is None for s in samples)


def test_world_frame_commands_turn_into_the_body_frame_by_the_heading_then():
    # Facing north (yaw 90 deg): a set-point north is forward, one east is to the right.
    assert enu_to_body(np.array([0, 1, 0.2, 0.3]), math.pi / 2) == pytest.approx([1, 0, 0.2, 0.3], abs=1e-6)
    assert enu_to_body(np.array([1, 0, 0, 0]), math.pi / 2) == pytest.approx([0, -1, 0, 0], abs=1e-6)
    frames = [Stamped(1.0, "a"), Stamped(2.0, "b")]
    commands = [_cmd(0.9, 0, 1, 0, 0), _cmd(1.9, 0, 1, 0, 0)]
    poses = [Stamped(0.95, np.array([0, 0, 1, 0, 0, math.pi / 2]))]  # and none near t = 2
    samples, drops = label_frames(frames, commands, poses, command_frame="enu", default_instruction="x")
    assert len(samples) == 1 and samples[0].action == pytest.approx([1, 0, 0, 0], abs=1e-6)
    assert drops.counts == {"world-frame command without a pose in the last 0.2 s": 1}


def test_episodes_end_where_the_instruction_changes_or_the_stream_stops():
    frames = [Stamped(t, t) for t in (0.0, 0.1, 0.2, 0.3, 2.0, 2.1)]
    commands = [_cmd(t, 1, 0, 0, 0) for t in (0.0, 0.1, 0.2, 0.3, 2.0, 2.1)]
    instructions = [Stamped(0.05, "fly through the red gate"), Stamped(0.15, "fly through the blue gate")]
    # (the first instruction holds from the start: a latched one is heard after recording starts)
    samples, drops = label_frames(frames, commands, instructions=instructions)
    episodes = split_episodes(samples, gap_s=1.0)
    assert [[s.frame for s in e] for e in episodes] == [[0.0, 0.1], [0.2, 0.3], [2.0, 2.1]]
    assert [e[0].instruction for e in episodes] == ["fly through the red gate"] + ["fly through the blue gate"] * 2
    _, drops = label_frames(frames, commands)  # no instruction anywhere, none given
    assert drops.counts == {"no instruction yet (give --instruction)": 6}
