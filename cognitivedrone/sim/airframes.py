"""Physical constants and command limits of the quadrotors we simulate.

Units are SI except rotor speeds, which are in revolutions per minute (RPM), the same
convention gym-pybullet-drones uses: one rotor makes ``kf * rpm**2`` newtons of thrust
and ``km * rpm**2`` newton-metres of reaction (yaw) torque.

``cf2x`` is the Bitcraze Crazyflie 2.x in the X configuration (numbers from the
gym-pybullet-drones ``cf2x.urdf``); ``racer`` is a 5-inch-class FPV quadrotor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Airframe:
    """One quadrotor model: mass properties, rotor coefficients, drag and limits."""

    name: str
    mass: float  # kg
    arm: float  # m, from the centre of mass to each rotor axis
    kf: float  # N / rpm^2, thrust coefficient
    km: float  # N m / rpm^2, rotor drag-torque coefficient
    thrust2weight: float  # total max thrust / weight
    ixx: float  # kg m^2, principal moments of inertia (body frame)
    iyy: float
    izz: float
    # Rotor (blade-flapping / induced) drag as in gym-pybullet-drones' DRAG model: the
    # body-frame drag force is -diag(drag_xy, drag_xy, drag_z) * v_body * sum(omega_i),
    # with omega_i the rotor speeds in rad/s. Units: N s / (m rad).
    drag_xy: float
    drag_z: float
    max_vxy: float  # m/s, limit on |vx| and |vy| of a velocity command
    max_vz: float  # m/s, limit on |vz|
    max_yaw_rate: float  # rad/s, limit on |yaw_rate|
    body_radius: float  # m, radius of the collision cylinder (covers the rotors)
    body_height: float  # m, height of the collision cylinder
    g: float = 9.8  # m/s^2

    @property
    def weight(self) -> float:
        """Gravity force on the airframe, N."""
        return self.mass * self.g

    @property
    def hover_rpm(self) -> float:
        """Rotor speed at which the four rotors together carry the weight, RPM."""
        return math.sqrt(self.weight / (4.0 * self.kf))

    @property
    def max_rpm(self) -> float:
        """Rotor speed that gives ``thrust2weight`` times the weight in total, RPM."""
        return math.sqrt(self.thrust2weight * self.weight / (4.0 * self.kf))

    @property
    def max_thrust(self) -> float:
        """Total thrust of the four rotors at ``max_rpm``, N."""
        return 4.0 * self.kf * self.max_rpm**2


CF2X = Airframe(
    name="cf2x",
    mass=0.027,
    arm=0.0397,
    kf=3.16e-10,
    km=7.94e-12,
    thrust2weight=2.25,
    ixx=1.4e-5,
    iyy=1.4e-5,
    izz=2.17e-5,
    drag_xy=9.1785e-7,
    drag_z=10.311e-7,
    max_vxy=1.5,
    max_vz=0.75,
    max_yaw_rate=1.5,
    body_radius=0.06,
    body_height=0.025,
)

# Rotor drag grows with the thrust the rotors make, so we scale the Crazyflie's
# coefficients to give the racer the same drag deceleration per m/s at hover:
# x (mass ratio) x (cf2x hover rpm / racer hover rpm) = 30.74 x 0.934 ~= 28.7.
_RACER_DRAG_SCALE = 28.7

RACER = Airframe(
    name="racer",
    mass=0.830,
    arm=0.109,
    kf=8.47e-9,
    km=2.13e-11,
    thrust2weight=4.17,
    ixx=3.113e-3,
    iyy=3.113e-3,
    izz=3.113e-3,
    drag_xy=9.1785e-7 * _RACER_DRAG_SCALE,
    drag_z=10.311e-7 * _RACER_DRAG_SCALE,
    max_vxy=3.0,
    max_vz=1.5,
    max_yaw_rate=2.0,
    body_radius=0.16,
    body_height=0.06,
)

AIRFRAMES: dict[str, Airframe] = {CF2X.name: CF2X, RACER.name: RACER}

DEFAULT_AIRFRAME = CF2X.name


def get_airframe(name: str) -> Airframe:
    """Look an airframe up by name ("cf2x", "racer"); ValueError for unknown names."""
    try:
        return AIRFRAMES[name]
    except KeyError:
        known = ", ".join(sorted(AIRFRAMES))
        raise ValueError(f"unknown airframe {name!r}; known airframes: {known}") from None
