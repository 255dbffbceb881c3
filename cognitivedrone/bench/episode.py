"""One episode: build the world from the episode, let an agent fly it, judge it.

This is the one episode loop: the benchmark, `cognitivedrone fly`, the perf frames and datagen
all fly through `run_episode`. What a caller wants beside the result (a video, a demonstration
dataset) it takes through an `EpisodeHook`; how the commands are perturbed (datagen's DART
noise) is an agent wrapper.
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from cognitivedrone.bench.agents import Agent, EpisodeContext
from cognitivedrone.bench.results import EpisodeRecording, EpisodeResult, GateMarker
from cognitivedrone.sim.env import DroneEnv
from cognitivedrone.sim.look import Look
from cognitivedrone.sim.scene import scene_options
from cognitivedrone.tasks.prompts import episode_prompt
from cognitivedrone.tasks.suite import Episode, judge
from cognitivedrone.types import VelocityCommand


def gate_markers(env: DroneEnv) -> list[GateMarker]:
    return [
        GateMarker(g.pose.x, g.pose.y, g.pose.z, g.pose.yaw, g.look.size, g.look.shape, g.look.color, g.half_width)
        for g in env.world.gates
    ]


class EpisodeHook(Protocol):
    """Sees an episode as it is flown: `start` after the reset, `step` with each decision before
    the env carries it out, `end` once judged."""

    def start(self, env: DroneEnv, ctx: EpisodeContext) -> None: ...

    def step(self, obs: dict, command: VelocityCommand, agent: Agent) -> None: ...

    def end(self, env: DroneEnv, obs: dict, outcome: str) -> None: ...


class VideoRecorder:
    """Keeps what the episode video draws (`EpisodeRecording`): each decision's frame, pose and
    caption (the instruction, and the rewrite being flown when there is one)."""

    def __init__(self):
        self.recording: EpisodeRecording | None = None

    def start(self, env: DroneEnv, ctx: EpisodeContext) -> None:
        self.env, self.prompt = env, ctx.instruction
        self.recording = EpisodeRecording(ctx.episode.id, ctx.instruction, "", ctx.episode.target_index,
                                          gate_markers(env), env.config.control_hz)

    def _frame(self, obs: dict, image: np.ndarray) -> None:
        rec = self.recording
        rec.fpv.append(image)
        rec.positions.append(tuple(float(v) for v in obs["state"][:3]))
        rec.yaws.append(float(obs["state"][5]))

    def step(self, obs: dict, command: VelocityCommand, agent: Agent) -> None:
        self._frame(obs, obs["image"] if self.env.config.render_images else self.env.render_fpv())
        acting_on = agent.acting_on() or self.prompt
        self.recording.captions.append(self.prompt if acting_on == self.prompt else f"{self.prompt}  ->  {acting_on}")

    def end(self, env: DroneEnv, obs: dict, outcome: str) -> None:
        self.recording.outcome = outcome
        self._frame(obs, env.render_fpv())


def run_episode(env: DroneEnv, agent: Agent, episode: Episode, prompt_mode: str = "original",
                record: bool = False, look: Look | None = None,
                hooks: tuple[EpisodeHook, ...] = ()) -> tuple[EpisodeResult, EpisodeRecording | None]:
    """Fly `episode` in `look` (None: classic) with `agent`; returns the result and, with
    `record`, what its video draws."""
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
    video = VideoRecorder() if record else None
    hooks = (*hooks, video) if video is not None else tuple(hooks)
    for hook in hooks:
        hook.start(env, ctx)
    latencies = []
    path = 0.0
    prev = np.asarray(info["position"])
    while True:
        t0 = time.perf_counter()
        cmd = agent.act(obs)
        latencies.append(time.perf_counter() - t0 - agent.slow_path_s)
        for hook in hooks:
            hook.step(obs, cmd, agent)
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
    result.doubt = agent.doubt()
    result.faults = agent.faults()
    rewrite = agent.rewrite_outcome()
    if rewrite is not None:
        result.rewrite, result.rewrite_correct, calls = rewrite
        result.reasoner_latency_ms_mean = round(float(np.mean(calls)) * 1e3, 3) if calls else None
    for hook in hooks:
        hook.end(env, obs, outcome)
    return result, video.recording if video is not None else None
