"""One benchmark episode: build the world from the episode, let an agent fly it, judge it."""

from __future__ import annotations

import time

import numpy as np

from cognitivedrone.bench.agents import Agent, EpisodeContext
from cognitivedrone.bench.results import EpisodeRecording, EpisodeResult, GateMarker
from cognitivedrone.sim.env import DroneEnv
from cognitivedrone.sim.look import Look
from cognitivedrone.sim.scene import scene_options
from cognitivedrone.tasks.prompts import episode_prompt
from cognitivedrone.tasks.suite import Episode, judge


def gate_markers(env: DroneEnv) -> list[GateMarker]:
    return [
        GateMarker(g.pose.x, g.pose.y, g.pose.z, g.pose.yaw, g.look.size, g.look.shape, g.look.color, g.half_width)
        for g in env.world.gates
    ]


def run_episode(env: DroneEnv, agent: Agent, episode: Episode, prompt_mode: str = "original",
                record: bool = False, look: Look | None = None) -> tuple[EpisodeResult, EpisodeRecording | None]:
    prompt = episode_prompt(episode, prompt_mode)
    obs, info = env.reset(seed=episode.seed, options=scene_options(episode, prompt, look))
    a = env.airframe
    ctx = EpisodeContext(
        episode=episode, instruction=prompt, gate_poses=[g.pose for g in env.world.gates],
        limits=(a.max_vxy, a.max_vxy, a.max_vz, a.max_yaw_rate), airframe=env.config.airframe,
        control_hz=env.config.control_hz, camera=env.render_fpv,
        view_camera=None if env.look.is_classic else env.camera_config, camera_fov_deg=env.camera_config.fov_deg,
    )
    agent.reset(ctx)
    rec = None
    if record:
        rec = EpisodeRecording(episode.id, prompt, "", episode.target_index, gate_markers(env), env.config.control_hz)
    latencies = []
    path = 0.0
    prev = np.asarray(info["position"])
    while True:
        if rec is not None:
            rec.fpv.append(obs["image"] if env.config.render_images else env.render_fpv())
            rec.positions.append(tuple(float(v) for v in obs["state"][:3]))
            rec.yaws.append(float(obs["state"][5]))
        t0 = time.perf_counter()
        cmd = agent.act(obs)
        latencies.append(time.perf_counter() - t0 - getattr(agent, "slow_path_s", 0.0))
        if rec is not None:
            acting_on = getattr(getattr(agent, "pilot", None), "instruction", prompt) or prompt
            rec.captions.append(prompt if acting_on == prompt else f"{prompt}  ->  {acting_on}")
        obs, _, terminated, truncated, info = env.step(cmd)
        pos = np.asarray(info["position"])
        path += float(np.linalg.norm(pos - prev))
        prev = pos
        if terminated or truncated:
            break
    event = info["event"]
    gate = info.get("gate_index")
    outcome = judge(event, gate, episode.target_index)
    lat_ms = np.asarray(latencies) * 1e3
    result = EpisodeResult(
        episode_id=episode.id, category=episode.category, family=episode.family, outcome=outcome,
        gate_passed=gate + 1 if event == "gate" else None, time_s=round(info["time_s"], 4),
        path_length_m=round(path, 3), steps=len(latencies),
        latency_ms_mean=round(float(lat_ms.mean()), 4), latency_ms_p99=round(float(np.percentile(lat_ms, 99)), 4),
        prompt=prompt, detail=info.get("hit", ""), look=look.name if look else "classic",
        look_seed=look.seed if look else episode.seed,
    )
    if hasattr(agent, "doubt"):
        result.doubt = agent.doubt()
    if hasattr(agent, "rewrite_outcome"):
        result.rewrite, result.rewrite_correct = agent.rewrite_outcome()
        calls = agent.pilot.stats.reasoner_latency_s if agent.reasoner is not None else []
        result.reasoner_latency_ms_mean = round(float(np.mean(calls)) * 1e3, 3) if calls else None
    if rec is not None:
        rec.outcome = outcome
        rec.fpv.append(env.render_fpv())
        rec.positions.append(tuple(float(v) for v in obs["state"][:3]))
        rec.yaws.append(float(obs["state"][5]))
    return result, rec
