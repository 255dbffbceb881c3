"""Crops for the billboard reader (reader.py): cut from rendered scenes, and made synthetically.

Scene crops are the renderer's own pixels (its light, lens and perspective), cut around each
labelled billboard with the errors the perception grid makes in centre and size. Synthetic crops
give variety the scenes cannot: a pool of billboard textures, every picture in many styles drawn
from `randomized` (sim/look.py; its held-out art and fonts are never drawn), pasted onto clutter
in perspective, then lit, tinted, blurred, shrunk and noised on the fly, a fresh draw per sample.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cognitivedrone.reasoning.offline.configuration import MARGIN

TEXTURE_PX = 64  # the billboard textures the world uses (bench/episode.py)
FAR_SIZES = (0.25, 0.33, 0.45, 0.6, 0.8, 1.0)  # pixels across a crop's worth of view, as a share of the crop


#: An art set no look draws and no training run prints: the reader's measure of reading art it
#: has never seen (train_reader.unseen_art_accuracy), the only one we may tune on. The held-out
#: looks' art (sim/look.py HELD_OUT) is scored by the benchmark alone.
VALIDATION_ART = "emojione"


def reader_only_art() -> tuple[str, ...]:
    """Art styles no look draws, none holds out and none validates: printed only in the reader's
    texture pool."""
    from cognitivedrone.sim.look import HELD_OUT, RANGES
    from cognitivedrone.tasks.assets import ART_STYLES

    return tuple(a for a in ART_STYLES if a not in RANGES["art"] and a not in HELD_OUT["art"] and a != VALIDATION_ART)


def texture_pool(assets: tuple[str, ...], styles_per_asset: int, seed: int, progress: bool = True,
                 extra_art_share: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Every asset printed in the classic style and in `styles_per_asset` styles of randomized
    looks, `extra_art_share` of them in one of the reader-only art styles instead of the look's
    (where that style has the picture): more ways to draw a tiger than the world shows, meant to
    bring a style never seen nearer to one seen. The shipped reader's second phase prints 0.4 of
    them so (docs/design.md, Looks: on the validation art, top-1 40.9 % -> 47.8 %, with
    restyling). -> (textures uint8 [M, 64, 64, 3], asset index [M])."""
    from dataclasses import replace

    from tqdm import tqdm

    from cognitivedrone.sim.look import sample_look
    from cognitivedrone.sim.scene import style_for, texture_style
    from cognitivedrone.tasks.assets import TextureStyle, art_styles_for, render_texture

    rng = np.random.default_rng([seed, 0x7E47])
    extra = reader_only_art()
    images, labels = [], []
    for k in tqdm(range(styles_per_asset + 1), desc="textures", unit="style", disable=not progress):
        for i, asset in enumerate(assets):
            style = TextureStyle() if k == 0 else texture_style(sample_look("randomized", int(rng.integers(2**31))))
            if k and extra and rng.random() < extra_art_share:
                art = extra[int(rng.integers(len(extra)))]
                style = replace(style, art=art) if art in art_styles_for(asset) else style
            images.append(render_texture(asset, TEXTURE_PX, style_for(style, asset)))
            labels.append(i)
    return np.stack(images), np.asarray(labels, np.int64)


def scene_crops(data: dict[str, np.ndarray], copies: int, rng: np.random.Generator, cut, label: str = "asset",
                centre_error: float = 0.2, size_error: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Crops of every billboard in view in rendered scenes (train_perception.load_scenes), each cut
    `copies` times with the centre moved by up to `centre_error` board widths and the size off
    by up to a factor exp(+-size_error), as the grid's estimates are. `cut(image, uv, width)` makes
    the crops (crop_boards for the billboard reader, crop_gates for the gate reader); `label` is
    the scenes' array each crop is labelled from ("asset" or "look"). -> (crops, labels int64)."""
    usable = data["seen"] & (np.abs(data["uv"]) < 0.95).all(-1) & (data["scale"] > 0.025)
    crops, labels = [], []
    for f in np.flatnonzero(usable.any(-1)):
        k = np.flatnonzero(usable[f])
        for _ in range(copies):
            width = data["scale"][f, k] * np.exp(rng.uniform(-size_error, size_error, len(k)))
            uv = data["uv"][f, k] + rng.uniform(-centre_error, centre_error, (len(k), 2)) * 2 * data["scale"][f, k, None]
            crops.append(cut(data["images"][f], uv, width))
            labels.append(data[label][f, k].astype(np.int64))
    return np.concatenate(crops), np.concatenate(labels)


def _clutter(n: int, crop: int, g: torch.Generator) -> torch.Tensor:
    """Backgrounds: a colour, a gradient and low-frequency blotches. float [n, 3, crop, crop], 0-255."""
    base = torch.rand(n, 3, 1, 1, generator=g) * 255
    ramp = torch.linspace(-1, 1, crop)
    direction = torch.rand(n, 1, 1, 1, generator=g) * 2 * math.pi
    grad = (torch.cos(direction) * ramp[None, None, None, :] + torch.sin(direction) * ramp[None, None, :, None])
    blotch = F.interpolate(torch.rand(n, 3, 4, 4, generator=g) * 2 - 1, size=(crop, crop), mode="bilinear", align_corners=False)
    strength = torch.rand(n, 1, 1, 1, generator=g) * 80
    return (base + grad * strength * 0.5 + blotch * strength).clamp(0, 255)


def _box_blur(x: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([1.0, 2.0, 1.0]) / 4
    kernel = (k[:, None] * k[None, :]).expand(x.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=x.shape[1])


def restyle(tex: torch.Tensor, g: torch.Generator, p: float) -> torch.Tensor:
    """Each texture (float [n, 3, T, T], 0-255), with probability `p`, drawn a little as another art
    set would draw it: more or less saturated, flat-shaded (posterised), outlined in dark ink or
    with soft edges. Art sets differ in exactly these; a tiger stays a tiger."""
    n = tex.shape[0]
    on = torch.rand(n, generator=g) < p
    if not on.any():
        return tex
    x = tex[on]
    m = x.shape[0]

    def pick(q):
        return (torch.rand(m, 1, 1, 1, generator=g) < q).float()

    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * (0.5 + torch.rand(m, 1, 1, 1, generator=g))  # saturation x0.5-1.5
    levels = torch.randint(3, 7, (m, 1, 1, 1), generator=g).float() - 1
    post = pick(0.3)
    x = post * (torch.round(x.clamp(0, 255) / 255 * levels) / levels * 255) + (1 - post) * x
    lum = x.mean(1, keepdim=True)
    edge = (lum - _box_blur(_box_blur(lum))).abs()
    ink = pick(0.3) * (edge / 40).clamp(0, 1)
    x = x * (1 - ink)
    soft = pick(0.3)
    x = soft * _box_blur(_box_blur(x)) + (1 - soft) * x
    out = tex.clone()
    out[on] = x.clamp(0, 255)
    return out


def synthetic_crops(textures: torch.Tensor, crop: int, g: torch.Generator, margin: float = MARGIN,
                    restyle_p: float = 0.0) -> torch.Tensor:
    """textures uint8 [n, T, T, 3] -> crops uint8 [n, crop, crop, 3], each a billboard pasted onto
    clutter as the grid would cut it: off-centre, mis-sized, turned away, rolled, lit, tinted,
    shrunk (a far board), blurred and noised; `restyle_p` of them restyled first (`restyle`)."""
    n = textures.shape[0]

    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(n, *shape, generator=g)

    tex = restyle(textures.permute(0, 3, 1, 2).float(), g, restyle_p)
    # Output crop coords (-1..1) -> texture coords: the board spans 1/(margin*size_err) of the crop.
    half = 1.0 / (margin * torch.exp(u(-0.25, 0.25)))  # the board's half-width in crop units
    yaw, roll = u(-1.05, 1.05), u(-0.15, 0.15)
    sx, sy = half * torch.cos(yaw).abs().clamp_min(0.45), half * u(0.85, 1.0)
    c, s = torch.cos(roll), torch.sin(roll)
    off = u(-0.2, 0.2, 2) * 2 * half[:, None]
    theta = torch.zeros(n, 2, 3)
    # inverse of: crop = R @ diag(sx, sy) @ tex + off
    theta[:, 0, 0], theta[:, 0, 1] = c / sx, s / sx
    theta[:, 1, 0], theta[:, 1, 1] = -s / sy, c / sy
    shift = -torch.einsum("nij,nj->ni", theta[:, :, :2], off)
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, (n, 3, crop, crop), align_corners=False)
    board = F.grid_sample(tex, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    mask = F.grid_sample(torch.ones(n, 1, *tex.shape[2:]), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)
    img = _clutter(n, crop, g) * (1 - mask) + board * mask
    # Light: exposure, tint, ambient haze, gamma.
    img = img * u(0.45, 1.35, 1, 1, 1) * u(0.8, 1.2, 3, 1, 1) + u(-30, 30, 1, 1, 1)
    img = 255 * (img.clamp(0, 255) / 255) ** u(0.7, 1.4, 1, 1, 1)
    # A far board: fewer pixels on it than the crop has.
    out = torch.empty_like(img)
    steps = torch.tensor(FAR_SIZES) * crop
    sizes = steps[torch.randint(len(FAR_SIZES), (n,), generator=g)].round().int()
    for size in sizes.unique().tolist():
        sel = sizes == size
        small = F.interpolate(img[sel], size=(size, size), mode="area")
        out[sel] = F.interpolate(small, size=(crop, crop), mode="bilinear", align_corners=False)
    blur = torch.rand(n, generator=g) < 0.3
    if blur.any():
        out[blur] = _box_blur(out[blur])
    out = out + torch.randn(out.shape, generator=g) * u(0, 10, 1, 1, 1)
    return out.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def load_scene_files(scenes: str | Path) -> list[Path]:
    files = sorted(Path(scenes).glob("scenes-*.npz"))
    if len(files) < 2:
        raise ValueError(f"{scenes}: need at least 2 scene shards (the last is held out), found {len(files)}")
    return files
