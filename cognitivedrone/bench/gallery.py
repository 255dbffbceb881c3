"""A gallery of looks: the start frame of a few episodes in every named look, as the policy
sees it (its 128 px input, enlarged), with each row labelled. README shows one."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def look_gallery(out: str | Path, looks: list[str] | None = None, per_look: int = 4, suite: str = "smoke",
                 scale: int = 2, look_seed: int = 0) -> Path:
    from PIL import Image, ImageDraw

    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.look import HELD_OUT_LOOKS, episode_look, look_names
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    looks = list(looks or look_names())
    episodes = load_suite(suite).episodes
    env = DroneEnv(SimConfig())
    rows = []
    try:
        for name in looks:
            tiles = []
            for k in range(per_look):
                ep = episodes[k % len(episodes)]
                look = episode_look(name, look_seed, ep.seed)
                obs, _ = env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt, look))
                tiles.append(np.kron(obs["image"], np.ones((scale, scale, 1), np.uint8)))
            rows.append((name, np.concatenate(tiles, axis=1)))
    finally:
        env.close()
    label_w = 120
    h = rows[0][1].shape[0]
    sheet = Image.new("RGB", (label_w + rows[0][1].shape[1], h * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (name, strip) in enumerate(rows):
        sheet.paste(Image.fromarray(strip), (label_w, i * h))
        draw.text((8, i * h + h // 2 - 12), name, fill=(0, 0, 0))
        if name in HELD_OUT_LOOKS:
            draw.text((8, i * h + h // 2 + 2), "(held out)", fill=(120, 0, 0))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG", optimize=True)
    return out
