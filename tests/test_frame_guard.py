"""The frame guard flies every look's real views and refuses what no camera view looks like."""

import numpy as np
import pytest

from cognitivedrone.frame_guard import FrameGuard, frame_stats


@pytest.mark.parametrize("look_name", ["classic", "randomized", "studio", "outdoor", "dim"])
def test_real_views_in_every_look_can_be_flown(look_name):
    from cognitivedrone.bench.agents import ExpertAgent
    from cognitivedrone.sim.look import episode_look
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    env = __import__("cognitivedrone.sim.env", fromlist=["DroneEnv"]).DroneEnv()
    try:
        for ep in load_suite("cognitivedrone-v1").episodes[:4]:
            look = episode_look(look_name, 0, ep.seed)
            obs, _ = env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt, look))
            agent = ExpertAgent()
            agent.pilot.reset(env.world.gates[ep.target_index].pose, camera=None if look.is_classic else env.camera_config)
            guard = FrameGuard()
            for k in range(40):
                why = guard.check(obs["image"], 0.1 * k, moving=False)
                assert why == "", (ep.id, k, why)
                obs, _, done, cut, _ = env.step(agent.act(obs))
                if done or cut:
                    break
    finally:
        env.close()


@pytest.mark.parametrize("noise", [0.0, 3.0, 8.0, 20.0, 60.0])
def test_flat_frames_and_noise_alone_are_refused(noise):
    rng = np.random.default_rng(1)
    img = np.clip(128 + rng.normal(0, noise, (128, 128, 3)), 0, 255).astype(np.uint8)
    assert "without" in FrameGuard().check(img, 0.0, moving=False)


def test_averaging_keeps_a_noisy_view_structured():
    """A smooth view under heavy sensor noise: structure survives the four-pixel averaging."""
    rng = np.random.default_rng(2)
    y, x = np.mgrid[0:128, 0:128]
    view = 60 + 80 * (np.sin(x / 9.0) * np.cos(y / 13.0) > 0)
    img = np.clip(view[..., None] + rng.normal(0, 12, (128, 128, 3)), 0, 255).astype(np.uint8)
    assert frame_stats(img).structure > 0.5 and FrameGuard().check(img, 0.0, moving=False) == ""
