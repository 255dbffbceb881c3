"""Each safety rule has a test that fails if the rule is removed."""


import numpy as np
import pytest

from cognitivedrone.safety import SafetyConfig, SafetyFilter
from cognitivedrone.types import VelocityCommand as V


def fresh(f, cmd, t, alt=None):
    return f.filter(cmd, t, last_frame_t=t, altitude_m=alt)


def flying(config=None, t=-1.0):
    """A filter that sent hover a second before `t = 0`: the next step may use the full
    acceleration over 1 s, so a test of another rule sees that rule alone."""
    f = SafetyFilter(config or SafetyConfig())
    fresh(f, V(), t)
    return f


def test_estop_latches_zero_until_released():
    f = flying()
    assert fresh(f, V(1.0), 0.0).vx == 1.0
    f.engage_estop()
    for k in range(1, 20):  # fresh frames and commands keep coming: still zero
        assert fresh(f, V(1.0, 1.0, 0.5, 1.0), 0.1 * k) == V()
    f.release_estop()
    assert fresh(f, V(0.5), 3.1).vx == pytest.approx(0.5)


def test_no_fresh_frame_for_more_than_200ms_hovers():
    f = flying()
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
    f = flying(SafetyConfig.for_airframe("cf2x"))
    out = fresh(f, V(10.0, -10.0, 5.0, -9.0), 0.0)
    assert out.as_array() == pytest.approx([1.5, -1.5, 0.75, -1.5])
    racer = flying(SafetyConfig.for_airframe("racer"))
    assert fresh(racer, V(10.0), 0.0).vx > 1.5


def test_altitude_bounds_stop_descent_low_and_climb_high():
    c = SafetyConfig(min_altitude_m=0.2, max_altitude_m=3.0)
    assert fresh(flying(c), V(vz=-0.5), 0.0, alt=0.1).vz == 0.0
    assert fresh(flying(c), V(vz=0.5), 0.0, alt=0.1).vz == 0.5  # climbing away from the floor is allowed
    assert fresh(flying(c), V(vz=0.5), 0.0, alt=3.2).vz == 0.0
    assert fresh(flying(c), V(vz=-0.5), 0.0, alt=3.2).vz == -0.5


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


# -- numbers from outside (issue 12, item 4) -------------------------------------------------------

@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_one_bad_timestamp_hovers_once_and_good_frames_fly_again(bad):
    f = flying()
    assert f.filter(V(1.0), bad, last_frame_t=bad) == V() and f.last_reason == "invalid time"
    for k in range(1, 30):  # it must not poison the rate limit or the clock
        out = fresh(f, V(1.0), 0.05 * k)
        assert out.is_finite()
    assert out.vx == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_frame_time_is_no_fresh_frame(bad):
    f = flying()
    assert f.filter(V(1.0), 0.0, last_frame_t=bad) == V() and f.last_reason == "stale frame"
    assert f.filter(V(1.0), 0.1, last_frame_t=0.1).vx > 0  # the next good frame flies


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_broken_altimeter_hovers_instead_of_switching_the_bounds_off(bad):
    f = flying(SafetyConfig(min_altitude_m=0.2, max_altitude_m=3.0))
    assert fresh(f, V(vz=0.5), 0.0, alt=bad) == V() and f.last_reason == "invalid altitude"
    assert fresh(f, V(vz=0.5), 1.0, alt=3.5).vz == 0.0  # bounds still on afterwards


def test_the_first_command_after_start_or_reset_is_rate_limited_too():
    c = SafetyConfig(max_accel_xy=4.0, max_accel_z=2.0, max_yaw_accel=5.0, first_step_s=0.1)
    f = SafetyFilter(c)
    assert fresh(f, V(1.5, -1.5, 0.75, 1.5), 0.0).as_array() == pytest.approx([0.4, -0.4, 0.2, 0.5])
    for k in range(1, 10):
        fresh(f, V(1.5), 0.1 * k)
    f.reset()
    assert fresh(f, V(1.5), 5.0).vx == pytest.approx(0.4)


@pytest.mark.parametrize("cmd", [None, "fast", (1.0, 2.0), V(1e308, 0, 0, 0)])
def test_anything_that_is_not_four_finite_numbers_is_no_command(cmd):
    f = flying()
    out = fresh(f, cmd, 0.0)
    assert out.is_finite() and np.all(np.abs(out.as_array()) <= f.config.limits)
