"""Fixtures for the physics and control tests: a fresh pybullet client per test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pybullet as p
import pytest

from cognitivedrone.sim.airframes import AIRFRAMES, Airframe, get_airframe
from cognitivedrone.sim.control import VelocityController
from cognitivedrone.sim.dynamics import DroneState, Quadrotor
from cognitivedrone.types import VelocityCommand

DT = 1.0 / 240.0
AIRFRAME_NAMES = sorted(AIRFRAMES)


@pytest.fixture
def client():
    """A DIRECT pybullet client with the environment's settings (cf2x gravity)."""
    cid = p.connect(p.DIRECT)
    p.setGravity(0, 0, -9.8, physicsClientId=cid)
    p.setTimeStep(DT, physicsClientId=cid)
    yield cid
    p.disconnect(cid)


@dataclass
class Trace:
    """States after each physics step of a flight, as arrays over time."""

    t: np.ndarray  # (n,) s, time at the end of each step
    pos: np.ndarray  # (n, 3)
    rpy: np.ndarray  # (n, 3)
    vel: np.ndarray  # (n, 3) world
    ang_vel: np.ndarray  # (n, 3) world
    body_vel: np.ndarray  # (n, 3) heading frame FLU
    rpm: np.ndarray  # (n, 4) commanded


@dataclass
class Sim:
    """One drone under the velocity controller, stepped like the environment does."""

    client: int
    airframe: Airframe
    quad: Quadrotor
    ctl: VelocityController
    time: float = 0.0

    def state(self) -> DroneState:
        return self.quad.state()

    def fly(self, cmd: VelocityCommand | Callable[[float], VelocityCommand], seconds: float) -> Trace:
        """Fly ``cmd`` (or ``cmd(t)``, t from the start of this call) for ``seconds``."""
        rows = []
        n = int(round(seconds / DT))
        for k in range(n):
            c = cmd(k * DT) if callable(cmd) else cmd
            s = self.quad.state()
            rpm = self.ctl.compute(s, c)
            self.quad.apply_rpm(rpm)
            p.stepSimulation(physicsClientId=self.client)
            self.time += DT
            s = self.quad.state()
            rows.append((self.time, *s.pos, *s.rpy, *s.vel, *s.ang_vel, *s.body_velocity(), *rpm))
        a = np.array(rows)
        return Trace(
            t=a[:, 0],
            pos=a[:, 1:4],
            rpy=a[:, 4:7],
            vel=a[:, 7:10],
            ang_vel=a[:, 10:13],
            body_vel=a[:, 13:16],
            rpm=a[:, 16:20],
        )


@pytest.fixture
def make_sim(client) -> Callable[..., Sim]:
    """``make_sim(name, position=(0, 0, 1), yaw=0)`` -> a Sim in this test's client."""

    def make(name: str, position=(0.0, 0.0, 1.0), yaw: float = 0.0) -> Sim:
        af = get_airframe(name)
        p.setGravity(0, 0, -af.g, physicsClientId=client)
        quad = Quadrotor(client, af, position=position, yaw=yaw)
        ctl = VelocityController(af, dt=DT)
        ctl.reset(quad.state())
        return Sim(client=client, airframe=af, quad=quad, ctl=ctl)

    return make
