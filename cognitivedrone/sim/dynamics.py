"""Quadrotor rigid-body dynamics on pybullet.

The drone is one pybullet rigid body (a cylinder for collisions) with the airframe's
exact mass and principal inertia. pybullet integrates gravity, contacts and the rigid
body motion; every physics step we add the rotor forces ourselves (``apply_rpm``):

* thrust ``kf * rpm_i**2`` along body +z at each rotor,
* the rotors' reaction torque ``km * rpm_i**2`` about body z, and
* rotor drag, gym-pybullet-drones' DRAG model: ``-diag(drag_xy, drag_xy, drag_z) *
  v_body * sum(omega_i)`` with omega_i in rad/s.

Frames: world is ENU-like (z up, gravity -z). The body frame is FLU (x forward, y left,
z up); at roll = pitch = yaw = 0 it coincides with the world frame. Yaw is
counter-clockwise seen from above.

Motor numbering and spin directions (X configuration, rotors on the diagonals at +-45
degrees from the nose, ``arm`` metres from the centre; same layout as the cf2x in
gym-pybullet-drones)::

            front (+x)
        M3 (CW)   M0 (CCW)
             \\   /
              [ ]        left = +y
             /   \\
        M2 (CCW)  M1 (CW)

    M0 front-right (+d, -d), spins CCW seen from above -> reaction torque -z
    M1 rear-right  (-d, -d), spins CW                  -> reaction torque +z
    M2 rear-left   (-d, +d), spins CCW                 -> reaction torque -z
    M3 front-left  (+d, +d), spins CW                  -> reaction torque +z
    with d = arm / sqrt(2).

Rotor speeds are in RPM (the gym-pybullet-drones convention for kf and km).

The four thrusts are applied as their resultant wrench (total force at the centre of
mass plus the torque ``sum r_i x F_i``), which for a rigid body is exactly the same
as four forces at the rotor positions and costs one pybullet call instead of four.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pybullet as p

from cognitivedrone.sim.airframes import Airframe

RPM_TO_RADS = 2.0 * math.pi / 60.0


@dataclass
class DroneState:
    """Kinematic state of the drone, as read from pybullet."""

    pos: np.ndarray  # (3,) world position, m
    quat: np.ndarray  # (4,) orientation quaternion x, y, z, w (pybullet order)
    rpy: np.ndarray  # (3,) roll, pitch, yaw, rad (yaw-pitch-roll / ZYX convention)
    vel: np.ndarray  # (3,) world linear velocity, m/s
    ang_vel: np.ndarray  # (3,) world angular velocity, rad/s

    @property
    def yaw(self) -> float:
        return float(self.rpy[2])

    def body_velocity(self) -> np.ndarray:
        """Velocity in the heading frame, FLU: the world velocity rotated by -yaw.

        Only yaw is undone (not roll/pitch), so "forward" is horizontal and z is the
        world vertical speed, the frame a ``VelocityCommand`` is expressed in.
        """
        yaw = float(self.rpy[2])
        c, s = math.cos(yaw), math.sin(yaw)
        vx, vy, vz = self.vel.tolist()
        return np.array((c * vx + s * vy, -s * vx + c * vy, vz))


class Quadrotor:
    """One quadrotor body in a pybullet client; see the module docstring for frames."""

    def __init__(
        self,
        client: int,
        airframe: Airframe,
        position: Sequence[float] = (0.0, 0.0, 0.5),
        yaw: float = 0.0,
    ) -> None:
        self.client = client
        self.airframe = airframe
        af = airframe
        collision = p.createCollisionShape(
            p.GEOM_CYLINDER, radius=af.body_radius, height=af.body_height, physicsClientId=client
        )
        self.body_id: int = p.createMultiBody(
            baseMass=af.mass,
            baseCollisionShapeIndex=collision,
            baseVisualShapeIndex=-1,
            basePosition=list(position),
            baseOrientation=p.getQuaternionFromEuler((0.0, 0.0, yaw)),
            physicsClientId=client,
        )
        # pybullet derives the inertia from the collision shape and adds velocity damping
        # by default; override both so the motion is the airframe's and the only drag is
        # our rotor-drag model. Sleeping is disabled because a hovering drone is nearly
        # still, and a sleeping body would ignore our forces.
        p.changeDynamics(
            self.body_id,
            -1,
            mass=af.mass,
            localInertiaDiagonal=(af.ixx, af.iyy, af.izz),
            linearDamping=0.0,
            angularDamping=0.0,
            activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING,
            physicsClientId=client,
        )
        # Per-step constants, precomputed so apply_rpm is plain float arithmetic.
        self._kf = af.kf
        self._km = af.km
        self._d = af.arm / math.sqrt(2.0)
        self._max_rpm = af.max_rpm
        self._drag_xy = af.drag_xy * RPM_TO_RADS
        self._drag_z = af.drag_z * RPM_TO_RADS
        self._zero3 = (0.0, 0.0, 0.0)

    def reset(self, position: Sequence[float], yaw: float = 0.0) -> None:
        """Teleport to ``position`` (level, heading ``yaw``) and stop all motion."""
        p.resetBasePositionAndOrientation(
            self.body_id,
            list(position),
            p.getQuaternionFromEuler((0.0, 0.0, yaw)),
            physicsClientId=self.client,
        )
        p.resetBaseVelocity(self.body_id, self._zero3, self._zero3, physicsClientId=self.client)

    def state(self) -> DroneState:
        cid = self.client
        pos, quat = p.getBasePositionAndOrientation(self.body_id, physicsClientId=cid)
        vel, ang_vel = p.getBaseVelocity(self.body_id, physicsClientId=cid)
        rpy = p.getEulerFromQuaternion(quat, physicsClientId=cid)
        # One allocation; the fields are views into it.
        a = np.array(pos + quat + rpy + vel + ang_vel, dtype=np.float64)
        return DroneState(pos=a[0:3], quat=a[3:7], rpy=a[7:10], vel=a[10:13], ang_vel=a[13:16])

    def apply_rpm(self, rpm: np.ndarray | Sequence[float]) -> None:
        """Apply the rotor forces for the next ``p.stepSimulation()`` (pybullet clears
        external forces after every step, so call this once before each step).

        ``rpm`` holds the four motor speeds (M0..M3, RPM); they are clipped to
        [0, max_rpm] as real motors saturate (a NaN speed counts as 0).
        """
        w0, w1, w2, w3 = rpm.tolist() if isinstance(rpm, np.ndarray) else rpm
        max_rpm = self._max_rpm
        w0 = 0.0 if not w0 > 0.0 else (max_rpm if w0 > max_rpm else float(w0))
        w1 = 0.0 if not w1 > 0.0 else (max_rpm if w1 > max_rpm else float(w1))
        w2 = 0.0 if not w2 > 0.0 else (max_rpm if w2 > max_rpm else float(w2))
        w3 = 0.0 if not w3 > 0.0 else (max_rpm if w3 > max_rpm else float(w3))
        s0, s1, s2, s3 = w0 * w0, w1 * w1, w2 * w2, w3 * w3
        kf, d = self._kf, self._d
        thrust = kf * (s0 + s1 + s2 + s3)
        # Torque sum(r_i x F_i) of the four thrusts, F_i along body +z:
        # tau_x = sum(y_i F_i), tau_y = -sum(x_i F_i).
        tau_x = kf * d * (-s0 - s1 + s2 + s3)
        tau_y = kf * d * (-s0 + s1 + s2 - s3)
        tau_z = self._km * (-s0 + s1 - s2 + s3)

        cid, body = self.client, self.body_id
        _, (qx, qy, qz, qw) = p.getBasePositionAndOrientation(body, physicsClientId=cid)
        (vx, vy, vz), _ = p.getBaseVelocity(body, physicsClientId=cid)
        # Rotor drag acts on the body-frame velocity: v_body = R^T v_world, with R's
        # columns the body axes in world coordinates (from the unit quaternion).
        vbx = (1 - 2 * (qy * qy + qz * qz)) * vx + 2 * (qx * qy + qz * qw) * vy + 2 * (qx * qz - qy * qw) * vz
        vby = 2 * (qx * qy - qz * qw) * vx + (1 - 2 * (qx * qx + qz * qz)) * vy + 2 * (qy * qz + qx * qw) * vz
        vbz = 2 * (qx * qz + qy * qw) * vx + 2 * (qy * qz - qx * qw) * vy + (1 - 2 * (qx * qx + qy * qy)) * vz
        rotor_sum = w0 + w1 + w2 + w3  # RPM; _drag_* already include the rad/s factor
        force = (
            -self._drag_xy * rotor_sum * vbx,
            -self._drag_xy * rotor_sum * vby,
            thrust - self._drag_z * rotor_sum * vbz,
        )
        p.applyExternalForce(body, -1, force, self._zero3, p.LINK_FRAME, physicsClientId=cid)
        p.applyExternalTorque(body, -1, (tau_x, tau_y, tau_z), p.LINK_FRAME, physicsClientId=cid)
