"""Gates: geometry of the opening, and what counts as a pass, a miss and a collision."""

import math

import pybullet as p
import pytest

from cognitivedrone.expert import ExpertPilot
from cognitivedrone.sim.env import DroneEnv, SimConfig
from cognitivedrone.sim.world import (
    BAR_THICKNESS,
    Gate,
    GateAppearance,
    GatePose,
    frame_bars,
    in_opening,
    reference_layout,
)
from cognitivedrone.tasks.gates import OPENING
from cognitivedrone.types import VelocityCommand

SHAPES = ("round", "square", "triangle")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", ("big", "small"))
def test_opening_contains_centre_not_frame(shape, size):
    r = OPENING[(shape, size)]
    assert in_opening(shape, size, 0.0, 0.0)
    # Just inside the inscribed circle is always inside; the bar's centre line never is.
    assert in_opening(shape, size, 0.0, 0.9 * r) or shape == "triangle" and in_opening(shape, size, 0.0, -0.9 * r)
    assert not in_opening(shape, size, 0.0, -(r + BAR_THICKNESS / 2))
    assert not in_opening(shape, size, r + 0.3, 0.0)


def test_triangle_points_up():
    r = OPENING[("triangle", "big")]
    # Apex up: a point 1.5 r above the centre is inside, 1.5 r below is not.
    assert in_opening("triangle", "big", 0.0, 1.5 * r)
    assert not in_opening("triangle", "big", 0.0, -1.5 * r)


def test_big_openings_are_bigger():
    for shape in SHAPES:
        assert OPENING[(shape, "big")] > OPENING[(shape, "small")]


def test_crossing_segments():
    c = p.connect(p.DIRECT)
    try:
        gate = Gate(c, 0, GatePose(5.0, 0.0, 1.0, 0.0), GateAppearance("square", "small", "red"))
        assert gate.crossing((4.9, 0.0, 1.0), (5.1, 0.0, 1.0)) is True
        assert gate.crossing((4.9, 0.6, 1.0), (5.1, 0.6, 1.0)) is False  # beside the opening
        assert gate.crossing((5.1, 0.0, 1.0), (4.9, 0.0, 1.0)) is None  # backwards
        assert gate.crossing((4.0, 0.0, 1.0), (4.5, 0.0, 1.0)) is None  # not reached yet
        # A rotated gate: yaw 90°, the flight direction is +y.
        g2 = Gate(c, 1, GatePose(0.0, 3.0, 1.0, math.pi / 2), GateAppearance("round", "big", "blue"))
        assert g2.crossing((0.0, 2.9, 1.0), (0.0, 3.1, 1.0)) is True
        assert g2.crossing((0.0, 3.1, 1.0), (0.0, 2.9, 1.0)) is None
        assert len(frame_bars("round", "big")) + 3 <= 16
    finally:
        p.disconnect(c)


def test_reference_layout_faces_start():
    poses = reference_layout()
    assert [(g.x, g.y) for g in poses] == [(4.0, 4.0), (5.0, 0.0), (4.0, -4.0)]
    for g in poses:
        # The flight direction points away from the nominal start (-1, 0).
        assert math.cos(g.yaw) * (g.x + 1) + math.sin(g.yaw) * g.y > 0


def _fly_line(env, target_gate, lateral=0.0, vertical=0.0, seconds=15.0):
    """Fly the expert along the gate's axis shifted by (lateral, vertical) metres."""
    g = env.world.gates[target_gate].pose
    shifted = GatePose(g.x - math.sin(g.yaw) * lateral, g.y + math.cos(g.yaw) * lateral, g.z + vertical, g.yaw)
    pilot = ExpertPilot()
    pilot.reset(shifted)
    obs = env._observation()
    info = {"event": None}
    while env.t < seconds:
        obs, _, term, trunc, info = env.step(pilot.act(obs["state"]))
        if term or trunc:
            break
    return info


LOOKS = [GateAppearance("round", "big", "red"), GateAppearance("square", "small", "green"),
         GateAppearance("triangle", "small", "blue")]


@pytest.fixture
def env():
    e = DroneEnv(SimConfig(render_images=False, time_limit_s=12.0))
    yield e
    e.close()


@pytest.mark.parametrize("gate", (0, 1, 2))
def test_flying_through_the_opening_counts(env, gate):
    env.reset(seed=11, options={"gates": LOOKS})
    info = _fly_line(env, gate)
    assert info["event"] == "gate" and info["gate_index"] == gate


def test_passing_beside_the_gate_does_not_count(env):
    env.reset(seed=12, options={"gates": LOOKS})
    g = env.world.gates[1]
    info = _fly_line(env, 1, lateral=g.half_width + 0.6, seconds=9.0)
    # It flew past the gate plane beside the frame: no pass, no collision.
    x, y, z = info["position"]
    assert g.to_local(x, y, z)[0] > 0.5, "the drone should have gone past the gate plane"
    assert info["event"] is None


@pytest.mark.parametrize("gate", (0, 1, 2))
def test_hitting_the_frame_is_a_collision(env, gate):
    env.reset(seed=13, options={"gates": LOOKS})
    g = env.world.gates[gate]
    # Aim at the middle of the bar below the opening.
    r = g.half_width
    info = _fly_line(env, gate, vertical=-(r + BAR_THICKNESS / 2))
    assert info["event"] == "collision"
    assert info["hit"].startswith(f"gate {gate + 1}")


def _hold(env, cmd, steps):
    """Hold one command until the episode ends (or `steps` decisions); the last info."""
    info = {}
    for _ in range(steps):
        _, _, term, _, info = env.step(cmd)
        if term:
            break
    return info


def test_floor_is_a_collision(env):
    env.reset(seed=14, options={"gates": LOOKS})
    info = _hold(env, VelocityCommand(vz=-0.75), 100)
    assert info["event"] == "collision" and info["hit"] == "floor"


def test_far_away_is_out_of_bounds():
    env = DroneEnv(SimConfig(render_images=False, out_of_bounds_m=6.5, time_limit_s=30))
    try:
        env.reset(seed=15, options={"gates": LOOKS})
        assert _hold(env, VelocityCommand(vx=-1.5), 300)["event"] == "out_of_bounds"
    finally:
        env.close()
