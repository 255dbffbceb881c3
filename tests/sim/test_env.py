"""The gymnasium environment: spaces, determinism, camera."""

import numpy as np
import pytest

from cognitivedrone.sim.env import DroneEnv, SimConfig
from cognitivedrone.types import VelocityCommand


def _rollout(seed, steps=15, size=64):
    env = DroneEnv(SimConfig(image_size=size))
    try:
        obs, _ = env.reset(seed=seed)
        images, states = [obs["image"]], [obs["state"]]
        rng = np.random.default_rng(0)
        for _ in range(steps):
            cmd = VelocityCommand.from_array(rng.uniform(-0.5, 0.5, 4))
            obs, *_ = env.step(cmd)
            images.append(obs["image"])
            states.append(obs["state"])
        return np.stack(images), np.stack(states), env.setup
    finally:
        env.close()


def test_same_seed_same_episode():
    a_img, a_state, a_setup = _rollout(5)
    b_img, b_state, b_setup = _rollout(5)
    assert a_setup == b_setup
    np.testing.assert_array_equal(a_state, b_state)
    np.testing.assert_array_equal(a_img, b_img)


def test_other_seed_other_episode():
    _, a_state, a_setup = _rollout(5, steps=1)
    _, b_state, b_setup = _rollout(6, steps=1)
    assert a_setup.start_pos != b_setup.start_pos
    assert not np.allclose(a_state[0], b_state[0])


def test_observation_matches_spaces():
    env = DroneEnv(SimConfig(image_size=48))
    try:
        obs, info = env.reset(seed=0, options={"instruction": "fly through the red gate"})
        assert obs["image"].shape == (48, 48, 3) and obs["image"].dtype == np.uint8
        assert obs["state"].shape == (12,)
        assert obs["instruction"] == "fly through the red gate"
        assert env.observation_space["image"].contains(obs["image"])
        # The camera sees something other than sky: the floor and the gates.
        assert obs["image"].std() > 10
        obs, r, term, trunc, info = env.step(np.zeros(4))
        assert not term and not trunc and info["event"] is None
        assert abs(info["time_s"] - 1 / env.config.control_hz) < 1e-9
    finally:
        env.close()


def test_start_is_within_the_documented_noise():
    env = DroneEnv(SimConfig(render_images=False))
    try:
        for seed in range(20):
            env.reset(seed=seed)
            x, y, z = env.setup.start_pos
            assert -2.0 <= x <= 0.0 and -1.0 <= y <= 1.0 and 0.65 <= z <= 0.85
            assert abs(env.setup.start_yaw) <= 0.15
    finally:
        env.close()


def test_nan_command_hovers():
    env = DroneEnv(SimConfig(render_images=False))
    try:
        obs, _ = env.reset(seed=3)
        z0 = obs["state"][2]
        for _ in range(10):
            obs, _, term, _, _ = env.step(VelocityCommand(float("nan"), 0.0, float("inf"), 0.0))
            assert not term
        assert abs(obs["state"][2] - z0) < 0.1
    finally:
        env.close()


def test_control_rate_must_divide_physics_rate():
    with pytest.raises(ValueError, match="whole multiple"):
        SimConfig(control_hz=7.0)
