"""Real camera frames for latency and parity checks: the expert flying suite episodes."""

from __future__ import annotations

import numpy as np


def expert_frames(n: int, suite: str = "smoke", image_size: int = 128, every: int = 2) -> tuple[np.ndarray, list[str]]:
    """`n` FPV frames uint8 [n, S, S, 3] from the expert's flights through the suite's episodes
    (every `every`-th decision, so consecutive frames differ), and each frame's instruction."""
    from cognitivedrone.bench.agents import ExpertAgent
    from cognitivedrone.bench.episode import run_episode
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.tasks.suite import load_suite

    episodes = load_suite(suite).episodes
    env = DroneEnv(SimConfig(image_size=image_size))
    frames, prompts = [], []
    try:
        for ep in episodes:
            _, rec = run_episode(env, ExpertAgent(), ep, "original", record=True)
            for img in rec.fpv[::every]:
                frames.append(img)
                prompts.append(rec.prompt)
                if len(frames) == n:
                    return np.stack(frames), prompts
    finally:
        env.close()
    raise ValueError(f"suite {suite} gave only {len(frames)} frames, {n} asked for")


def away_frames(n: int, suite: str = "smoke", image_size: int = 128) -> np.ndarray:
    """`n` FPV frames uint8 [n, S, S, 3] with no gate in them: from each episode's start, facing
    away from the gates (yaw about 180°, a little different in each frame, as a turning drone
    sees it). For tests of what the Pilot does when the instructed gate is out of view."""
    import math

    import pybullet as p

    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    episodes = load_suite(suite).episodes
    env = DroneEnv(SimConfig(image_size=image_size))
    frames = []
    try:
        for k in range(n):
            ep = episodes[k % len(episodes)]
            if k < len(episodes):
                env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt))
            yaw = math.pi + math.radians(-40 + 80 * k / max(n - 1, 1))
            frames.append(env.render_at(env.state.pos, p.getQuaternionFromEuler((0.0, 0.0, yaw))))
    finally:
        env.close()
    return np.stack(frames)
