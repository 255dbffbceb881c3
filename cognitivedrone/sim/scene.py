"""From a task and a look to the env's reset options: each gate's look and the picture printed on
its billboard, as the look prints it. The benchmark, datagen, the ROS sim node and the
perception scenes all build their worlds here, so a task looks the same wherever it is flown."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cognitivedrone.sim.look import Look
from cognitivedrone.sim.world import GateAppearance
from cognitivedrone.tasks.assets import VOCABULARY, TextureStyle, art_styles_for, texture_path
from cognitivedrone.tasks.suite import Episode

TEXTURE_PX = 64  # billboard texture resolution; more only aliases at the sizes the camera sees


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
