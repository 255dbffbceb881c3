"""Rendered scenes for the perception model: random pictures, looks, lighting and camera poses,
labelled by projecting each billboard's centre into the image (no annotation by hand).

Frames are rendered at `size` px (default 256, twice the policy's camera: the reasoner runs at
2 Hz and can afford a sharper look at the billboards). Shards of `shard_frames` frames are
written as .npz files and skipped when present, so an interrupted run resumes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cognitivedrone.pool import parse_executor, run_jobs
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

SEED_SALT = 0x5CE7E5


@dataclass(frozen=True)
class SceneConfig:
    size: int = 256
    poses_per_scene: int = 4
    gate_jitter_m: float = 0.4  # move gates off the reference layout: read what is there, not where
    gate_jitter_yaw_rad: float = 0.25
    looks: str = "classic"  # a training mix, e.g. "classic:1,randomized:3" (sim/look.py; held-out refused)
    look_seed: int = 0


def asset_ids() -> list[str]:
    from cognitivedrone.tasks.assets import list_assets

    return [a.id for a in list_assets()]


def billboard_label_geometry(states: np.ndarray, gates, size: int, camera=None):
    """Per gate: billboard centre uv in [-1, 1] (x right, y down), whether it is in view, and its
    apparent size as a fraction of the image width, seen by `camera` (a CameraConfig; default:
    the classic camera at `size` px)."""
    from dataclasses import replace

    from cognitivedrone.sim.camera import CameraConfig
    from cognitivedrone.sim.projection import project_points, rotation_from_rpy

    cam = CameraConfig(size=size) if camera is None else replace(camera, size=size)
    boards = np.array([g.billboard_center for g in gates])
    widths = np.array([g.billboard_size for g in gates])
    uv, in_view = project_points(states, boards, cam)
    rot = rotation_from_rpy(states[:, 3:6])
    tp = np.radians(cam.pitch_deg)  # depth along the optical axis, tilted by the mount's pitch
    axis = np.cos(tp) * rot[:, :, 0] + np.sin(tp) * rot[:, :, 2]  # [N, 3]
    depth = np.einsum("nkd,nd->nk", boards[None] - states[:, None, :3], axis)
    scale = np.where(depth > 0.1, cam.focal_px * widths[None] / np.maximum(depth, 0.1) / size, 0.0)
    return uv.astype(np.float32), in_view, scale.astype(np.float32)


def _render_shard(out: str, shard: int, n_frames: int, seed: int, cfg: SceneConfig) -> str:
    import pybullet as p

    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.look import mixed_look, parse_look_mix
    from cognitivedrone.sim.scene import TEXTURE_PX, distractor_assets, style_for, texture_style
    from cognitivedrone.sim.world import GateAppearance
    from cognitivedrone.tasks.assets import texture_path

    rng = np.random.default_rng([SEED_SALT, seed, shard])
    ids = asset_ids()
    mix = parse_look_mix(cfg.looks)
    classic_only = [n for n, _ in mix] == ["classic"]
    # The model's input camera is 128 px; the reasoner looks through a second one at cfg.size on the
    # same mount (a look's blur is in 128-px pixels and scales up with it, as in the benchmark).
    env = DroneEnv(SimConfig(image_size=cfg.size if classic_only else 128, render_images=classic_only,
                             gate_jitter_m=cfg.gate_jitter_m, gate_jitter_yaw_rad=cfg.gate_jitter_yaw_rad))
    images = np.zeros((n_frames, cfg.size, cfg.size, 3), np.uint8)
    states = np.zeros((n_frames, 12), np.float32)
    uv = np.zeros((n_frames, 3, 2), np.float32)
    seen = np.zeros((n_frames, 3), bool)
    scale = np.zeros((n_frames, 3), np.float32)
    asset = np.zeros((n_frames, 3), np.int16)
    look = np.zeros((n_frames, 3, 3), np.int8)  # size, shape, colour indices
    k = 0
    try:
        while k < n_frames:
            picks = rng.choice(len(ids), 3, replace=False)
            looks = DroneEnv._random_looks(rng)
            scene_seed = int(rng.integers(2**31))
            world_look = None if classic_only else mixed_look(mix, cfg.look_seed, scene_seed)
            style = texture_style(world_look)
            looks = [GateAppearance(l.shape, l.size, l.color, str(texture_path(ids[a], TEXTURE_PX, style_for(style, ids[a]))))
                     for l, a in zip(looks, picks)]
            options = {"gates": looks}
            if world_look is not None and not world_look.is_classic:
                used = [ids[a] for a in picks]
                options.update(look=world_look, distractor_pictures=tuple(
                    str(texture_path(a, TEXTURE_PX, style_for(style, a))) for a in distractor_assets(world_look, used)))
            env.reset(seed=scene_seed, options=options)
            gates = env.world.gates
            for _ in range(min(cfg.poses_per_scene, n_frames - k)):
                pos = np.array([rng.uniform(-2.0, 3.0), rng.uniform(-2.5, 2.5), rng.uniform(0.5, 1.6)])
                # Face the gates roughly, as a pilot would, with the tilt of an accelerating quad.
                aim = math.atan2(rng.uniform(-4.0, 4.0) - pos[1], 4.5 - pos[0])
                rpy = np.array([rng.normal(0, 0.08), rng.normal(0, 0.08), aim + rng.normal(0, 0.25)])
                quat = p.getQuaternionFromEuler(rpy.tolist())
                images[k] = env.render_at(pos, quat, None if classic_only else cfg.size)
                states[k, :3], states[k, 3:6] = pos, rpy
                for j, (g, a) in enumerate(zip(gates, picks)):
                    asset[k, j] = a
                    look[k, j] = (GATE_SIZES.index(g.look.size), GATE_SHAPES.index(g.look.shape),
                                  GATE_COLORS.index(g.look.color))
                uv[k], seen[k], scale[k] = (x[0] for x in billboard_label_geometry(states[k:k + 1], gates, cfg.size,
                                                                                 env.camera_config))
                k += 1
    finally:
        env.close()
    path = Path(out) / f"scenes-{shard:04d}.npz"
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, images=images, states=states, uv=uv, seen=seen, scale=scale, asset=asset, look=look)
    os.replace(tmp, path)
    return str(path)


def render_scenes(out: str | Path, frames: int, seed: int = 0, shard_frames: int = 500, workers: int = 2,
                  config: SceneConfig = SceneConfig(), progress: bool = True, executor: str = "local") -> list[Path]:
    import json

    from tqdm import tqdm

    from cognitivedrone.sim.look import LOOKS_VERSION, parse_look_mix

    parse_look_mix(config.looks)  # a bad or held-out look fails before anything is written
    parse_executor(executor)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # Shards of another configuration must not be mixed in: the folder remembers its own.
    identity = {"looks": config.looks, "look_seed": config.look_seed, "looks_version": LOOKS_VERSION, "seed": seed,
                "size": config.size}
    marker = out / "scenes.json"
    if marker.is_file():
        from cognitivedrone.bounded_json import load_file

        got = load_file(marker)
        if got != identity:
            raise ValueError(f"{out} holds scenes made with {got}, not {identity}: rerun with those settings or pick a new folder")
    elif any(out.glob("scenes-*.npz")):
        if config.looks != "classic":
            raise ValueError(f"{out} holds scenes of unknown settings; pick a new folder")
    else:
        marker.write_text(json.dumps(identity) + "\n")
    n_shards = math.ceil(frames / shard_frames)
    todo = [(str(out), s, min(shard_frames, frames - s * shard_frames), seed, config)
            for s in range(n_shards) if not (out / f"scenes-{s:04d}.npz").is_file()]
    with tqdm(total=n_shards, initial=n_shards - len(todo), desc="scenes", unit="shard", disable=not progress) as bar:
        run_jobs(todo, _render_shard, workers=workers, on_result=lambda _: bar.update(1), executor=executor,
                 describe=lambda job: f"scenes shard {job[1]} (seed {job[3]})", log=bar.write)
    return sorted(out.glob("scenes-*.npz"))
