"""Closed-loop checks of the cascaded velocity controller on both airframes, in free
space (no floor) unless a test says otherwise.

Measured with the default gains (both airframes respond identically because the gains
are natural frequencies and the controller knows the model exactly): hover error
0.0 mm over 10 s; 1 m/s forward step reaches 0.9 m/s at 0.35 s, peaks at 1.005 m/s
(0.5% overshoot) with < 6 mm altitude change.
"""

from __future__ import annotations

import math

import numpy as np
import pybullet as p
import pytest

from cognitivedrone.sim.control import VelocityController
from cognitivedrone.types import VelocityCommand

from .conftest import AIRFRAME_NAMES, DT

pytestmark = pytest.mark.parametrize("name", AIRFRAME_NAMES)


def test_hover_holds_altitude_and_position(make_sim, name):
    sim = make_sim(name, position=(0.0, 0.0, 1.0))
    tr = sim.fly(VelocityCommand.hover(), 10.0)
    assert np.max(np.abs(tr.pos[:, 2] - 1.0)) < 0.05
    assert np.max(np.hypot(tr.pos[:, 0], tr.pos[:, 1])) < 0.05
    assert np.max(np.abs(tr.rpy[:, :2])) < 0.02


def test_forward_step_response(make_sim, name):
    sim = make_sim(name)
    tr = sim.fly(VelocityCommand(vx=1.0), 3.0)
    vx = tr.body_vel[:, 0]
    reached = np.flatnonzero(vx >= 0.9)
    assert reached.size, f"never reached 0.9 m/s (max {vx.max():.3f})"
    assert tr.t[reached[0]] <= 1.5
    assert vx.max() <= 1.2
    assert vx[-1] == pytest.approx(1.0, abs=0.05)
    assert np.max(np.abs(tr.body_vel[:, 1])) < 0.05  # no sideways drift
    assert np.max(np.abs(tr.pos[:, 2] - 1.0)) < 0.10


def test_yaw_rate_tracking(make_sim, name):
    sim = make_sim(name)
    tr = sim.fly(VelocityCommand(yaw_rate=1.0), 3.0)
    i1 = int(round(1.0 / DT)) - 1  # the step ending at t = 1 s
    assert tr.ang_vel[i1, 2] == pytest.approx(1.0, rel=0.10)
    yaw = np.unwrap(np.concatenate(([0.0], tr.rpy[:, 2])))
    assert yaw[-1] == pytest.approx(3.0, abs=0.2)
    assert np.max(np.abs(tr.pos[:, 2] - 1.0)) < 0.05
    assert np.max(np.hypot(tr.pos[:, 0], tr.pos[:, 1])) < 0.05


def test_commands_are_body_frame_flu(make_sim, name):
    sim = make_sim(name)
    # Yaw 90 degrees left at 1 rad/s, then settle.
    sim.fly(VelocityCommand(yaw_rate=1.0), math.pi / 2)
    sim.fly(VelocityCommand.hover(), 1.0)
    s = sim.state()
    assert s.yaw == pytest.approx(math.pi / 2, abs=0.05)

    # Forward now means world +y.
    start = s.pos.copy()
    sim.fly(VelocityCommand(vx=1.0), 2.0)
    d = sim.state().pos - start
    assert d[1] > 1.2 and abs(d[0]) < 0.1 * d[1]

    # Left (+vy) of a drone facing +y is world -x.
    sim.fly(VelocityCommand.hover(), 1.0)
    start = sim.state().pos.copy()
    sim.fly(VelocityCommand(vy=1.0), 2.0)
    d = sim.state().pos - start
    assert d[0] < -1.2 and abs(d[1]) < 0.1 * abs(d[0])

    # Up is up whatever the heading.
    sim.fly(VelocityCommand.hover(), 1.0)
    start = sim.state().pos.copy()
    sim.fly(VelocityCommand(vz=0.5), 2.0)
    d = sim.state().pos - start
    assert d[2] > 0.7 and np.hypot(d[0], d[1]) < 0.2


def test_command_limits(make_sim, name):
    sim = make_sim(name)
    af = sim.airframe
    tr = sim.fly(VelocityCommand(vx=10.0), 4.0)
    assert tr.body_vel[-1, 0] == pytest.approx(af.max_vxy, rel=0.10)
    assert np.max(np.degrees(np.abs(tr.rpy[:, 1]))) < 40.0  # tilt is limited
    tr = sim.fly(VelocityCommand(vy=-10.0), 4.0)
    assert tr.body_vel[-1, 1] == pytest.approx(-af.max_vxy, rel=0.10)
    tr = sim.fly(VelocityCommand(vz=10.0), 2.0)
    assert tr.vel[-1, 2] == pytest.approx(af.max_vz, rel=0.10)
    tr = sim.fly(VelocityCommand(yaw_rate=-10.0), 2.0)
    assert tr.ang_vel[-1, 2] == pytest.approx(-af.max_yaw_rate, rel=0.10)


def test_coordinated_turn(make_sim, name):
    """Forward flight while yawing keeps the speed along the nose (the set-point's
    rotation is fed forward) and holds altitude."""
    sim = make_sim(name)
    tr = sim.fly(VelocityCommand(vx=1.0, yaw_rate=1.0), 4.0)
    late = tr.body_vel[int(2.0 / DT) :]
    np.testing.assert_allclose(late[:, 0], 1.0, atol=0.05)
    np.testing.assert_allclose(late[:, 1], 0.0, atol=0.05)
    assert np.max(np.abs(tr.pos[:, 2] - 1.0)) < 0.10


def test_rpm_bounds_and_bad_commands(make_sim, name):
    sim = make_sim(name)
    af = sim.airframe
    tr = sim.fly(lambda t: VelocityCommand(vx=10 * math.sin(8 * t), vz=5 * math.cos(5 * t), yaw_rate=3.0), 2.0)
    assert np.all(tr.rpm >= 0.0) and np.all(tr.rpm <= af.max_rpm + 1e-6)
    rpm = sim.ctl.compute(sim.state(), VelocityCommand(vx=float("nan"), yaw_rate=float("inf")))
    assert rpm.shape == (4,) and np.all(np.isfinite(rpm))


def test_reset_clears_state(make_sim, name):
    sim = make_sim(name, yaw=0.5)
    ctl = VelocityController(sim.airframe)
    assert ctl.yaw_setpoint is None
    ctl.reset(sim.state())
    assert ctl.yaw_setpoint == pytest.approx(0.5)
    # Hover rpm from a level, still state with fresh integrators.
    rpm = ctl.compute(sim.state(), VelocityCommand.hover())
    np.testing.assert_allclose(rpm, sim.airframe.hover_rpm, rtol=1e-6)
    for _ in range(100):
        ctl.compute(sim.state(), VelocityCommand(vx=0.1, yaw_rate=1.0))
    ctl.reset(sim.state())
    assert ctl.yaw_setpoint == pytest.approx(0.5)
    np.testing.assert_allclose(ctl.compute(sim.state(), VelocityCommand.hover()), sim.airframe.hover_rpm, rtol=1e-6)


def test_takeoff_from_floor(make_sim, client, name):
    import pybullet_data

    p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
    p.loadURDF("plane.urdf", physicsClientId=client)
    sim = make_sim(name, position=(0.0, 0.0, 0.2))
    sim.fly(VelocityCommand(vz=-0.5), 2.0)  # land
    assert p.getContactPoints(bodyA=sim.quad.body_id, physicsClientId=client)
    sim.fly(VelocityCommand(vz=0.5), 2.0)  # and take off again
    s = sim.state()
    assert s.pos[2] > 0.7 and abs(s.vel[2] - 0.5) < 0.1
    assert np.max(np.abs(s.rpy[:2])) < 0.05
