"""One benchmark episode: build the world from the episode, let an agent fly it, judge it."""

from __future__ import annotations

import random
import time

import numpy as np

from cognitivedrone.bench.agents import Agent, EpisodeContext
from dataclasses import replace

from cognitivedrone.bench.assets import VOCABULARY, TextureStyle, art_styles_for, texture_path
from cognitivedrone.bench.results import EpisodeRecording, EpisodeResult, GateMarker
from cognitivedrone.bench.suite import Episode
from cognitivedrone.sim.env import DroneEnv
from cognitivedrone.sim.look import Look
from cognitivedrone.sim.world import GateAppearance

# "reworded": the simple form in a wording training never used (training/wordings.py, held-out
# templates), as another reasoner or a user might write it; one per episode, from its seed.
PROMPT_MODES = ("original", "simple", "reworded")
TEXTURE_PX = 64  # billboard texture resolution; more only aliases at the sizes the camera sees


def episode_prompt(episode: Episode, mode: str) -> str:
    if mode not in PROMPT_MODES:
        raise ValueError(f"prompt mode must be one of {PROMPT_MODES}, got {mode!r}")
    if mode == "reworded":
        from cognitivedrone.training.wordings import heldout_paraphrase

        return heldout_paraphrase(episode.prompt_simpler, random.Random(f"reworded:{episode.seed}"))
    return episode.prompt if mode == "original" else episode.prompt_simpler


def scene_options(episode: Episode, prompt: str, look: Look | None = None) -> dict:
    """The env's reset options for an episode: each gate's look and its billboard's picture,
    printed as the look says (None: classic), and the pictures of gateless billboards."""
    style = texture_style(look)
    gates = [
        GateAppearance(g.shape, g.size, g.color, str(texture_path(asset_id, TEXTURE_PX, style_for(style, asset_id))))
        for g, asset_id in zip(episode.gates, episode.options)
    ]
    options = {"gates": gates, "instruction": prompt}
    if look is not None and not look.is_classic:
        options["look"] = look
        options["distractor_pictures"] = tuple(str(texture_path(a, TEXTURE_PX, style_for(style, a)))
                                               for a in distractor_assets(look, episode.options))
    return options


def texture_style(look: Look | None) -> TextureStyle:
    """How a look prints its billboards (classic: today's style)."""
    if look is None or look.is_classic:
        return TextureStyle()
    b = look.billboard
    return TextureStyle(art=b.art, font=b.font, ink=tuple(b.ink), paper=tuple(b.paper), border=tuple(b.border),
                        border_frac=b.border_frac, stroke=b.stroke)


def style_for(style: TextureStyle, asset_id: str) -> TextureStyle:
    """`style`, or OpenMoji's art where the look's art set has no picture of this asset."""
    if style.art in art_styles_for(asset_id):
        return style
    return replace(style, art="openmoji")


def distractor_assets(look: Look, used: list[str]) -> list[str]:
    """Pictures for the look's gateless billboards: vocabulary pictures the gates do not show."""
    n = sum(d.kind == "billboard" for d in look.scene.distractors)
    if not n:
        return []
    pool = sorted(set(VOCABULARY) - set(used))
    rng = np.random.default_rng([look.scene.placement_seed, 5])
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]


def judge(event: str | None, gate_index: int | None, target_index: int) -> str:
    """The outcome of an episode from the env's last event (one of results.OUTCOMES)."""
    if event == "gate":
        return "success" if gate_index == target_index else "wrong_gate"
    if event in ("collision", "out_of_bounds"):
        return event
    return "timeout"


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
