"""Open-loop checks of the airframes and the pybullet quadrotor model."""

from __future__ import annotations

import math

import numpy as np
import pybullet as p
import pybullet_data
import pytest

from cognitivedrone.sim.airframes import AIRFRAMES, get_airframe
from cognitivedrone.sim.dynamics import DroneState, Quadrotor

from .conftest import AIRFRAME_NAMES, DT


def _step(quad: Quadrotor, rpm, n: int = 1) -> DroneState:
    for _ in range(n):
        quad.apply_rpm(np.asarray(rpm, dtype=np.float64))
        p.stepSimulation(physicsClientId=quad.client)
    return quad.state()


def _zero_g(client: int) -> None:
    p.setGravity(0, 0, 0, physicsClientId=client)


# --- airframes -------------------------------------------------------------------


def test_cf2x_constants_and_hover_rpm():
    af = get_airframe("cf2x")
    assert af.mass == 0.027 and af.arm == 0.0397 and af.g == 9.8
    assert af.hover_rpm == pytest.approx(14468, rel=0.01)
    assert af.max_rpm > af.hover_rpm
    assert af.max_thrust == pytest.approx(af.thrust2weight * af.mass * af.g)
    assert (af.max_vxy, af.max_vz, af.max_yaw_rate) == (1.5, 0.75, 1.5)


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_airframe_properties_are_consistent(name):
    af = get_airframe(name)
    assert af.name == name
    assert 4 * af.kf * af.hover_rpm**2 == pytest.approx(af.mass * af.g)
    assert af.max_thrust / (af.mass * af.g) == pytest.approx(af.thrust2weight)


def test_known_airframes_and_unknown_name():
    assert {"cf2x", "racer"} <= set(AIRFRAMES)
    with pytest.raises(ValueError, match="cf2x.*racer"):
        get_airframe("x500")


# --- the pybullet body -----------------------------------------------------------


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_body_mass_and_inertia_match_airframe(client, name):
    af = get_airframe(name)
    quad = Quadrotor(client, af)
    info = p.getDynamicsInfo(quad.body_id, -1, physicsClientId=client)
    assert info[0] == pytest.approx(af.mass, rel=1e-9)
    assert info[2] == pytest.approx((af.ixx, af.iyy, af.izz), rel=1e-9)


def test_no_damping_besides_rotor_drag(client):
    """With the rotors stopped (no rotor drag) and no gravity, velocity is conserved:
    pybullet's default linear/angular damping must be off."""
    _zero_g(client)
    quad = Quadrotor(client, get_airframe("cf2x"), position=(0, 0, 1))
    p.resetBaseVelocity(quad.body_id, (1.0, -0.5, 0.3), (0.0, 0.0, 2.0), physicsClientId=client)
    s = _step(quad, (0, 0, 0, 0), n=240)
    np.testing.assert_allclose(s.vel, (1.0, -0.5, 0.3), atol=1e-9)
    np.testing.assert_allclose(s.ang_vel, (0.0, 0.0, 2.0), atol=1e-9)


def test_reset_and_state(client):
    af = get_airframe("cf2x")
    quad = Quadrotor(client, af, position=(1, 2, 3), yaw=0.3)
    s = quad.state()
    np.testing.assert_allclose(s.pos, (1, 2, 3))
    assert s.yaw == pytest.approx(0.3)
    assert s.pos.shape == (3,) and s.quat.shape == (4,) and s.rpy.shape == (3,)
    assert s.vel.shape == (3,) and s.ang_vel.shape == (3,)

    p.resetBaseVelocity(quad.body_id, (1, 1, 1), (1, 1, 1), physicsClientId=client)
    quad.reset((0, 0, 0.5), yaw=-1.0)
    s = quad.state()
    np.testing.assert_allclose(s.pos, (0, 0, 0.5))
    np.testing.assert_allclose(s.rpy, (0, 0, -1.0), atol=1e-12)
    np.testing.assert_allclose(s.vel, 0)
    np.testing.assert_allclose(s.ang_vel, 0)


def test_body_velocity_is_heading_frame_flu(client):
    quad = Quadrotor(client, get_airframe("cf2x"), yaw=math.pi / 2)  # nose along world +y
    p.resetBaseVelocity(quad.body_id, (0.0, 1.0, 0.2), (0, 0, 0), physicsClientId=client)
    np.testing.assert_allclose(quad.state().body_velocity(), (1.0, 0.0, 0.2), atol=1e-12)
    p.resetBaseVelocity(quad.body_id, (1.0, 0.0, 0.0), (0, 0, 0), physicsClientId=client)
    # World +x is on the right of a drone facing +y: negative body y (FLU).
    np.testing.assert_allclose(quad.state().body_velocity(), (0.0, -1.0, 0.0), atol=1e-12)


# --- rotor forces ----------------------------------------------------------------


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_hover_rpm_balances_gravity(client, name):
    af = get_airframe(name)
    p.setGravity(0, 0, -af.g, physicsClientId=client)
    quad = Quadrotor(client, af, position=(0, 0, 1))
    s = _step(quad, [af.hover_rpm] * 4, n=240)
    np.testing.assert_allclose(s.pos, (0, 0, 1), atol=1e-6)
    np.testing.assert_allclose(s.rpy, 0, atol=1e-9)


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_thrust_and_torque_magnitudes(client, name):
    """One step in zero g from rest: dv = F/m dt, dw = tau/I dt for each axis."""
    af = get_airframe(name)
    _zero_g(client)
    quad = Quadrotor(client, af, position=(0, 0, 1))
    w, dw = af.hover_rpm, 0.1 * af.hover_rpm
    d = af.arm / math.sqrt(2)

    s = _step(quad, [w] * 4)
    assert s.vel[2] == pytest.approx(4 * af.kf * w**2 / af.mass * DT, rel=1e-6)

    # Left rotors (M2, M3) faster: roll right-side-down, i.e. positive roll rate.
    quad.reset((0, 0, 1))
    s = _step(quad, [w, w, w + dw, w + dw])
    expected = 2 * af.kf * d * ((w + dw) ** 2 - w**2) / af.ixx * DT
    np.testing.assert_allclose(s.ang_vel, (expected, 0, 0), rtol=1e-6, atol=1e-12)

    # Front rotors (M0, M3) faster: nose up, i.e. negative pitch rate (about +y).
    quad.reset((0, 0, 1))
    s = _step(quad, [w + dw, w, w, w + dw])
    expected = -2 * af.kf * d * ((w + dw) ** 2 - w**2) / af.iyy * DT
    np.testing.assert_allclose(s.ang_vel, (0, expected, 0), rtol=1e-6, atol=1e-12)

    # Clockwise rotors (M1, M3) faster: their reaction torque turns the body CCW.
    quad.reset((0, 0, 1))
    s = _step(quad, [w, w + dw, w, w + dw])
    expected = 2 * af.km * ((w + dw) ** 2 - w**2) / af.izz * DT
    np.testing.assert_allclose(s.ang_vel, (0, 0, expected), rtol=1e-6, atol=1e-12)
    assert expected > 0

    # Torques are in the body frame: yawed 90 degrees left, the roll axis is world +y
    # (guards against pybullet versions where LINK_FRAME torques act in world axes).
    quad.reset((0, 0, 1), yaw=math.pi / 2)
    s = _step(quad, [w, w, w + dw, w + dw])
    expected = 2 * af.kf * d * ((w + dw) ** 2 - w**2) / af.ixx * DT
    np.testing.assert_allclose(s.ang_vel, (0, expected, 0), rtol=1e-6, atol=1e-9 * expected)


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_rpm_is_clipped(client, name):
    af = get_airframe(name)
    _zero_g(client)
    quad = Quadrotor(client, af, position=(0, 0, 1))
    s = _step(quad, [10 * af.max_rpm, 10 * af.max_rpm, 10 * af.max_rpm, 10 * af.max_rpm])
    assert s.vel[2] == pytest.approx(af.max_thrust / af.mass * DT, rel=1e-6)
    quad.reset((0, 0, 1))
    s = _step(quad, [-af.hover_rpm, float("nan"), 0.0, -1.0])
    np.testing.assert_allclose(s.vel, 0, atol=1e-12)
    np.testing.assert_allclose(s.ang_vel, 0, atol=1e-12)


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_rotor_drag_opposes_body_velocity(client, name):
    af = get_airframe(name)
    _zero_g(client)
    w = af.hover_rpm
    rotor_sum = 4 * w * 2 * math.pi / 60  # rad/s
    # Facing world +y and moving along it: the drag is along -y, sized by drag_xy.
    quad = Quadrotor(client, af, position=(0, 0, 1), yaw=math.pi / 2)
    p.resetBaseVelocity(quad.body_id, (0, 1.0, 0), (0, 0, 0), physicsClientId=client)
    s = _step(quad, [w] * 4)
    dv = -af.drag_xy * rotor_sum * 1.0 / af.mass * DT
    assert s.vel[1] - 1.0 == pytest.approx(dv, rel=1e-6)
    assert abs(s.vel[0]) < 1e-9
    # Climbing: drag_z reduces the net upward force.
    quad.reset((0, 0, 1))
    p.resetBaseVelocity(quad.body_id, (0, 0, 1.0), (0, 0, 0), physicsClientId=client)
    s = _step(quad, [w] * 4)
    expected = (4 * af.kf * w**2 - af.drag_z * rotor_sum * 1.0) / af.mass * DT
    assert s.vel[2] - 1.0 == pytest.approx(expected, rel=1e-6)
    # Rotors stopped: no drag at all (the model scales with rotor speed).
    quad.reset((0, 0, 1))
    p.resetBaseVelocity(quad.body_id, (2.0, 0, 0), (0, 0, 0), physicsClientId=client)
    s = _step(quad, [0, 0, 0, 0])
    assert s.vel[0] == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("name", AIRFRAME_NAMES)
def test_drop_onto_plane_makes_contact(client, name):
    af = get_airframe(name)
    p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
    plane = p.loadURDF("plane.urdf", physicsClientId=client)
    quad = Quadrotor(client, af, position=(0, 0, 0.5))
    assert not p.getContactPoints(bodyA=quad.body_id, physicsClientId=client)
    touched_at = None
    for k in range(480):
        _step(quad, [0, 0, 0, 0])
        contacts = p.getContactPoints(bodyA=quad.body_id, physicsClientId=client)
        if contacts:
            touched_at = k
            assert any(c[2] == plane for c in contacts)
            break
    assert touched_at is not None, "the drone fell through the plane or never reached it"
    # Free fall from 0.5 m takes ~0.32 s (76 steps), minus half the body height.
    assert 60 <= touched_at <= 90
    # It comes to rest on the plane rather than sinking in.
    s = _step(quad, [0, 0, 0, 0], n=240)
    assert s.pos[2] == pytest.approx(af.body_height / 2, abs=0.01)
