import pytest


@pytest.fixture(scope="module")
def start_frames():
    """The smoke suite's episodes and their start frames at the reasoner's 256 px."""
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    eps = load_suite("smoke").episodes
    env = DroneEnv(SimConfig())
    frames = []
    try:
        for ep in eps:
            env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt))
            frames.append(env.render_fpv(256))
    finally:
        env.close()
    return eps, frames
