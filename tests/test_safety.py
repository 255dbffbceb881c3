"""Each safety rule has a test that fails if the rule is removed."""

import math

import numpy as np
import pytest

from cognitivedrone.safety import SafetyConfig, SafetyFilter
from cognitivedrone.types import VelocityCommand as V


def fresh(f, cmd, t, alt=None):
    return f.filter(cmd, t, last_frame_t=t, altitude_m=alt)


def test_estop_latches_zero_until_released():
    f = SafetyFilter()
    assert fresh(f, V(1.0), 0.0).vx == 1.0
    f.engage_estop()
    for k in range(1, 20):  # fresh frames and commands keep coming: still zero
        assert fresh(f, V(1.0, 1.0, 0.5, 1.0), 0.1 * k) == V()
    f.release_estop()
    assert fresh(f, V(0.5), 2.1).vx == pytest.approx(0.5)


def test_no_fresh_frame_for_more_than_200ms_hovers():
    f = SafetyFilter()
    assert f.filter(V(1.0), 1.0, last_frame_t=0.85).vx == 1.0  # 150 ms old: fine
    assert f.filter(V(1.0), 1.0, last_frame_t=0.79) == V()  # 210 ms old: hover
    assert f.filter(V(1.0), 1.0, last_frame_t=None) == V()  # never had a frame


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_commands_hover(bad):
    f = SafetyFilter()
    fresh(f, V(1.0), 0.0)
    out = fresh(f, V(0.2, bad, 0.0, 0.0), 0.1)
    assert out == V() and f.last_reason == "non-finite command"


def test_commands_are_clamped_to_the_airframe_limits():
    f = SafetyFilter(SafetyConfig.for_airframe("cf2x"))
    out = fresh(f, V(10.0, -10.0, 5.0, -9.0), 0.0)
    assert out.as_array() == pytest.approx([1.5, -1.5, 0.75, -1.5])
    racer = SafetyFilter(SafetyConfig.for_airframe("racer"))
    assert fresh(racer, V(10.0), 0.0).vx > 1.5


def test_altitude_bounds_stop_descent_low_and_climb_high():
    f = SafetyFilter(SafetyConfig(min_altitude_m=0.2, max_altitude_m=3.0))
    assert fresh(f, V(vz=-0.5), 0.0, alt=0.1).vz == 0.0
    f.reset()
    assert fresh(f, V(vz=0.5), 0.0, alt=0.1).vz == 0.5  # climbing away from the floor is allowed
    f.reset()
    assert fresh(f, V(vz=0.5), 0.0, alt=3.2).vz == 0.0
    f.reset()
    assert fresh(f, V(vz=-0.5), 0.0, alt=3.2).vz == -0.5


def test_acceleration_is_limited_per_axis():
    c = SafetyConfig(max_accel_xy=4.0, max_accel_z=2.0, max_yaw_accel=5.0)
    f = SafetyFilter(c)
    fresh(f, V(), 0.0)
    out = fresh(f, V(1.5, -1.5, 0.75, 1.5), 0.1)
    assert out.as_array() == pytest.approx([0.4, -0.4, 0.2, 0.5])
    out = fresh(f, V(1.5, -1.5, 0.75, 1.5), 0.2)
    assert out.as_array() == pytest.approx([0.8, -0.8, 0.4, 1.0])


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="max_vxy"):
        SafetyConfig(max_vxy=float("nan"))
    with pytest.raises(ValueError, match="min_altitude_m"):
        SafetyConfig(min_altitude_m=3.0, max_altitude_m=2.0)
