"""Cascaded velocity controller: body-frame velocity command -> four motor RPMs.

The loops, outer to inner, all run every physics step:

1. The command (heading frame, FLU) is clamped to the airframe limits and rotated by
   the current yaw into a world velocity set-point.
2. A velocity PI loop (with a rotor-drag feed-forward) gives a desired acceleration.
   Its integral on velocity acts like a weak position hold, so a zero command holds
   altitude and position even when the thrust model is slightly off.
3. The desired force ``m * (a + g z)``, with its tilt clamped, fixes the desired body z
   axis; together with the yaw set-point that gives a desired attitude. The collective
   thrust is the desired force projected on the current body z axis.
4. A geometric attitude controller on SO(3) (Lee, Leok & McClamroch 2010) gives body
   torques. Gains are natural frequencies, so the same numbers suit any inertia.
5. The mixer turns thrust and torques into per-rotor thrusts (yaw torque is given up
   first when rotors saturate) and then RPMs in [0, max_rpm].

Yaw: the commanded yaw rate is integrated into a yaw set-point and also fed forward as
an angular-rate set-point, so yaw-rate tracking has no lag in steady state.

Everything per step is plain float arithmetic (``math``, no small numpy arrays): this
runs 240 times per simulated second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cognitivedrone.sim.airframes import Airframe
from cognitivedrone.sim.dynamics import RPM_TO_RADS, DroneState
from cognitivedrone.types import VelocityCommand

_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class ControllerGains:
    """Gains of the cascade. Velocity gains are in 1/s (and 1/s^2 for integrals)."""

    kp_vxy: float = 5.0  # horizontal velocity P: m/s^2 per m/s of error
    ki_vxy: float = 1.0  # horizontal velocity I: m/s^2 per m of accumulated error
    kp_vz: float = 5.0
    ki_vz: float = 3.0
    i_max_xy: float = 2.0  # m/s^2, anti-windup cap on the integral terms
    i_max_z: float = 3.0
    # The integrators only run while the velocity error is below this (m/s). The drag
    # feed-forward already removes the steady-state error of our model, so the
    # integrals are only for unmodelled disturbances; integrating the large error of a
    # step would just wind up and cause overshoot with a slow tail.
    i_band: float = 0.25
    max_tilt: float = math.radians(35.0)  # rad, tilt of the desired thrust vector
    # x g; the most downward acceleration asked for, so at least 0.4 g of thrust (and
    # with it attitude authority) remains.
    min_accel_z: float = -0.6
    att_wn: float = 22.0  # rad/s, roll/pitch attitude loop natural frequency
    att_zeta: float = 0.8
    yaw_wn: float = 7.0  # rad/s, yaw loop natural frequency
    yaw_zeta: float = 0.9
    max_yaw_error: float = 0.6  # rad, the yaw set-point never leads the yaw by more


# Tuned in free space (tests/sim/test_control.py). Both airframes get the same numbers:
# the attitude gains are natural frequencies (torque = inertia x angular acceleration)
# and the model is known exactly, so the closed loops come out identical. A 1 m/s
# forward step reaches 90% in 0.35 s with 0.5% overshoot and < 6 mm altitude change.
GAINS: dict[str, ControllerGains] = {
    "cf2x": ControllerGains(),
    "racer": ControllerGains(),
}


def gains_for(airframe: Airframe) -> ControllerGains:
    """The tuned gains for ``airframe`` (defaults for an airframe not in GAINS)."""
    return GAINS.get(airframe.name, ControllerGains())


def _clamp(x: float, limit: float) -> float:
    return -limit if x < -limit else (limit if x > limit else x)


class VelocityController:
    """Tracks a ``VelocityCommand``; ``compute`` returns the 4 motor RPMs (M0..M3)."""

    def __init__(self, airframe: Airframe, dt: float = 1.0 / 240.0, gains: ControllerGains | None = None) -> None:
        self.airframe = airframe
        self.dt = dt
        self.gains = gains if gains is not None else gains_for(airframe)
        af, g = airframe, self.gains
        self._m = af.mass
        self._g = af.g
        self._ixx, self._iyy, self._izz = af.ixx, af.iyy, af.izz
        self._kf = af.kf
        self._max_rpm = af.max_rpm
        self._max_rotor_thrust = af.kf * af.max_rpm**2
        self._max_thrust = af.max_thrust
        # Mixer factors: a roll/pitch torque tau moves each rotor thrust by tau/(4 d);
        # a yaw torque tau_z moves it by tau_z / (4 km/kf).
        self._inv_4d = 1.0 / (4.0 * af.arm / math.sqrt(2.0))
        self._inv_4c = af.kf / (4.0 * af.km)
        # Rotor drag at hover rotor speed, as an acceleration per m/s (feed-forward).
        hover_sum_rads = 4.0 * af.hover_rpm * RPM_TO_RADS
        self._ff_drag_xy = af.drag_xy * hover_sum_rads / af.mass
        self._ff_drag_z = af.drag_z * hover_sum_rads / af.mass
        self._tan_tilt = math.tan(g.max_tilt)
        self._kr_att = g.att_wn**2
        self._kw_att = 2.0 * g.att_zeta * g.att_wn
        self._kr_yaw = g.yaw_wn**2
        self._kw_yaw = 2.0 * g.yaw_zeta * g.yaw_wn
        self.reset()

    def reset(self, state: DroneState | None = None) -> None:
        """Clear the integrators; hold the current yaw (or the first seen, if None)."""
        self._ix = self._iy = self._iz = 0.0
        self._yaw_sp: float | None = None if state is None else state.yaw

    @property
    def yaw_setpoint(self) -> float | None:
        return self._yaw_sp

    def compute(self, state: DroneState, cmd: VelocityCommand) -> np.ndarray:
        g, af, dt = self.gains, self.airframe, self.dt
        qx, qy, qz, qw = state.quat.tolist()
        vx, vy, vz = state.vel.tolist()
        wx, wy, wz = state.ang_vel.tolist()

        # Body axes in world coordinates (columns of R) from the quaternion.
        r1x, r1y, r1z = 1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy + qz * qw), 2 * (qx * qz - qy * qw)
        r2x, r2y, r2z = 2 * (qx * qy - qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz + qx * qw)
        r3x, r3y, r3z = 2 * (qx * qz + qy * qw), 2 * (qy * qz - qx * qw), 1 - 2 * (qx * qx + qy * qy)
        yaw = math.atan2(r1y, r1x)  # heading of the nose; equals rpy[2] for |pitch| < 90 deg

        # 1. Command: clamp, then heading frame -> world.
        cx = _clamp(cmd.vx, af.max_vxy)
        cy = _clamp(cmd.vy, af.max_vxy)
        vz_sp = _clamp(cmd.vz, af.max_vz)
        yaw_rate = _clamp(cmd.yaw_rate, af.max_yaw_rate)
        if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(vz_sp) and math.isfinite(yaw_rate)):
            cx = cy = vz_sp = yaw_rate = 0.0  # a NaN command means "hover", never NaN rpm
        cyaw, syaw = math.cos(yaw), math.sin(yaw)
        vx_sp = cyaw * cx - syaw * cy
        vy_sp = syaw * cx + cyaw * cy

        # 2. Velocity PI + drag feed-forward -> desired acceleration (world).
        ex, ey, ez = vx_sp - vx, vy_sp - vy, vz_sp - vz
        band = g.i_band
        if -band < ex < band:
            self._ix = _clamp(self._ix + g.ki_vxy * ex * dt, g.i_max_xy)
        if -band < ey < band:
            self._iy = _clamp(self._iy + g.ki_vxy * ey * dt, g.i_max_xy)
        if -band < ez < band:
            self._iz = _clamp(self._iz + g.ki_vz * ez * dt, g.i_max_z)
        # Feed-forwards: rotor drag at the set-point speed, and the rotation of the
        # set-point itself while yawing (d/dt of Rz(yaw) v_cmd = yaw_rate z x v_sp), the
        # centripetal acceleration of a coordinated turn, which P alone would lag.
        ax = g.kp_vxy * ex + self._ix + self._ff_drag_xy * vx_sp - yaw_rate * vy_sp
        ay = g.kp_vxy * ey + self._iy + self._ff_drag_xy * vy_sp + yaw_rate * vx_sp
        az = g.kp_vz * ez + self._iz + self._ff_drag_z * vz_sp

        # 3. Desired force; keep some upward thrust (attitude authority) and clamp tilt.
        gz = self._g
        fz = max(az + gz, (1.0 + g.min_accel_z) * gz)
        h = math.hypot(ax, ay)
        h_max = fz * self._tan_tilt
        if h > h_max:
            ax *= h_max / h
            ay *= h_max / h
            h = h_max
        fx, fy = ax, ay  # per unit mass
        fn = math.sqrt(h * h + fz * fz)
        b3x, b3y, b3z = fx / fn, fy / fn, fz / fn
        thrust = self._m * (fx * r3x + fy * r3y + fz * r3z)
        thrust = min(max(thrust, 0.0), self._max_thrust)

        # Yaw set-point: integrate the rate, never lead the real yaw by more than
        # max_yaw_error (so a blocked or saturated yaw does not wind up).
        if self._yaw_sp is None:
            self._yaw_sp = yaw
        yaw_sp = self._yaw_sp + yaw_rate * dt
        yaw_err = math.remainder(yaw_sp - yaw, _TWO_PI)
        if abs(yaw_err) > g.max_yaw_error:
            yaw_err = math.copysign(g.max_yaw_error, yaw_err)
        yaw_sp = math.remainder(yaw + yaw_err, _TWO_PI)
        self._yaw_sp = yaw_sp

        # Desired attitude Rd = [b1 b2 b3]: b3 along the force, b1 as close to the
        # yaw set-point heading as b3 allows.
        c1x, c1y = math.cos(yaw_sp), math.sin(yaw_sp)
        b2x, b2y, b2z = -b3z * c1y, b3z * c1x, b3x * c1y - b3y * c1x  # b3 x c1
        n2 = math.sqrt(b2x * b2x + b2y * b2y + b2z * b2z)
        b2x, b2y, b2z = b2x / n2, b2y / n2, b2z / n2
        b1x, b1y, b1z = b2y * b3z - b2z * b3y, b2z * b3x - b2x * b3z, b2x * b3y - b2y * b3x

        # 4. Attitude error e_R = 1/2 vee(Rd^T R - R^T Rd), (Rd^T R)_ij = b_i . r_j.
        er_x = 0.5 * ((b3x * r2x + b3y * r2y + b3z * r2z) - (b2x * r3x + b2y * r3y + b2z * r3z))
        er_y = 0.5 * ((b1x * r3x + b1y * r3y + b1z * r3z) - (b3x * r1x + b3y * r1y + b3z * r1z))
        er_z = 0.5 * ((b2x * r1x + b2y * r1y + b2z * r1z) - (b1x * r2x + b1y * r2y + b1z * r2z))
        # Body rates, and their set-point: the yaw rate about world z seen in body axes.
        p_ = r1x * wx + r1y * wy + r1z * wz
        q_ = r2x * wx + r2y * wy + r2z * wz
        r_ = r3x * wx + r3y * wy + r3z * wz
        ew_x = p_ - yaw_rate * r1z
        ew_y = q_ - yaw_rate * r2z
        ew_z = r_ - yaw_rate * r3z
        ixx, iyy, izz = self._ixx, self._iyy, self._izz
        kr, kw = self._kr_att, self._kw_att
        # tau = J (-kR e_R - kw e_w) + w x J w (the gyroscopic term cancels coupling).
        tau_x = ixx * (-kr * er_x - kw * ew_x) + (izz - iyy) * q_ * r_
        tau_y = iyy * (-kr * er_y - kw * ew_y) + (ixx - izz) * p_ * r_
        tau_z = izz * (-self._kr_yaw * er_z - self._kw_yaw * ew_z) + (iyy - ixx) * p_ * q_

        # 5. Mixer (inverse of the allocation in dynamics.Quadrotor.apply_rpm).
        t4 = 0.25 * thrust
        dx, dy = tau_x * self._inv_4d, tau_y * self._inv_4d
        f0 = t4 - dx - dy
        f1 = t4 - dx + dy
        f2 = t4 + dx + dy
        f3 = t4 + dx - dy
        # Yaw adds +dz to M1, M3 and -dz to M0, M2; shrink dz so no rotor leaves
        # [0, max] because of yaw (attitude and thrust matter more than heading).
        dz = tau_z * self._inv_4c
        fmax = self._max_rotor_thrust
        if dz > 0.0:
            dz = min(dz, max(0.0, min(fmax - f1, fmax - f3, f0, f2)))
        elif dz < 0.0:
            dz = max(dz, -max(0.0, min(f1, f3, fmax - f0, fmax - f2)))
        f0 -= dz
        f1 += dz
        f2 -= dz
        f3 += dz

        inv_kf, max_rpm = 1.0 / self._kf, self._max_rpm
        return np.array(
            (
                min(math.sqrt(max(f0, 0.0) * inv_kf), max_rpm),
                min(math.sqrt(max(f1, 0.0) * inv_kf), max_rpm),
                min(math.sqrt(max(f2, 0.0) * inv_kf), max_rpm),
                min(math.sqrt(max(f3, 0.0) * inv_kf), max_rpm),
            )
        )
