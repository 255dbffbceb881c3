"""Procedural surface textures and the simple meshes that carry them (floors, walls, cones).

pybullet loads textures and meshes from files, so each is written once into the cache
(``$COGNITIVEDRONE_CACHE`` or ``~/.cache/cognitivedrone``) under a name made from its
parameters, written to a temporary file and moved into place (safe for parallel workers).

Texture coordinates are in units of :data:`TILE_M` metres, as on pybullet's plane.urdf
(UV 0..100 over 200 m): a texture is one 2 m x 2 m tile, and a pattern's period divides it.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from cognitivedrone.resources import cache_dir, write_atomic

TILE_M = 2.0  # metres per texture repeat (pybullet's plane100.obj: UV 100 over 200 m)
TEXTURE_PX = 128
MATERIALS_VERSION = 1


def rgba(rgb) -> tuple[float, float, float, float]:
    """An opaque pybullet colour from an RGB triple in [0, 1]."""
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


def _write_once(path: Path, write) -> Path:
    """Write `path` with `write(file_object)` unless it exists."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, write)
    return path


def _key(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _value_noise(rng: np.random.Generator, px: int, cells: int) -> np.ndarray:
    """Smooth tileable noise in [0, 1]: random values on a periodic grid, bilinearly upsampled."""
    grid = rng.uniform(0, 1, (cells, cells))
    t = np.arange(px) / px * cells
    i0 = np.floor(t).astype(int)
    f = t - i0
    f = f * f * (3 - 2 * f)
    i1 = (i0 + 1) % cells
    rows = grid[i0][:, i0] * (1 - f)[None, :] + grid[i0][:, i1] * f[None, :]
    rows1 = grid[i1][:, i0] * (1 - f)[None, :] + grid[i1][:, i1] * f[None, :]
    return rows * (1 - f)[:, None] + rows1 * f[:, None]


def pattern_mask(pattern: str, period_m: float, px: int = TEXTURE_PX, seed: int = 0) -> np.ndarray:
    """[px, px] weights in [0, 1] of colour b over colour a, for one tileable 2 m tile."""
    n = max(1, int(round(TILE_M / period_m)))  # periods per tile: a whole number, so it tiles
    u = (np.arange(px) + 0.5) / px * n
    uu, vv = np.meshgrid(u, u)
    rng = np.random.default_rng(seed)
    if pattern == "plain":
        return np.zeros((px, px))
    if pattern == "checker":
        return ((np.floor(uu) + np.floor(vv)) % 2).astype(float)
    if pattern == "tiles":  # grout lines
        line = 0.06
        return (((uu % 1) < line) | ((vv % 1) < line)).astype(float)
    if pattern == "stripes":
        return ((uu % 1) < 0.5).astype(float)
    if pattern == "noise":
        return _value_noise(rng, px, 4 * n) * 0.7 + _value_noise(rng, px, 16) * 0.3
    if pattern == "planks":
        board = np.floor(vv * 2)
        offset = (board * 0.37) % 1
        seam = (((uu + offset) % 1) < 0.03) | ((vv * 2 % 1) < 0.05)
        grain = _value_noise(rng, px, 32)[:, ::-1] * 0.5
        return np.clip(seam.astype(float) + grain * (board % 2 * 0.5 + 0.5), 0, 1)
    if pattern == "concrete":
        speck = (rng.uniform(0, 1, (px, px)) > 0.97).astype(float) * 0.6
        return np.clip(_value_noise(rng, px, 8) * 0.6 + _value_noise(rng, px, 32) * 0.3 + speck, 0, 1)
    if pattern == "grass":
        blades = rng.uniform(0, 1, (px, px)) ** 3
        return np.clip(_value_noise(rng, px, 6) * 0.5 + blades * 0.6, 0, 1)
    raise ValueError(f"unknown pattern {pattern!r}")


def material_texture(pattern: str, color_a, color_b, period_m: float) -> Path:
    """PNG of one 2 m tile of a material, in the cache; returns its path."""
    from PIL import Image

    a = np.clip(np.asarray(color_a, float), 0, 1)
    b = np.clip(np.asarray(color_b, float), 0, 1)
    key = _key(MATERIALS_VERSION, pattern, tuple(np.round(a, 3)), tuple(np.round(b, 3)), round(float(period_m), 4))
    path = cache_dir() / "materials" / f"{pattern}-{key}.png"

    def write(f):
        w = pattern_mask(pattern, period_m, seed=int(key[:8], 16))[..., None]
        rgb = (a * (1 - w) + b * w) * 255
        Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8)).save(f, format="PNG")

    return _write_once(path, write)


def quad_mesh(corners: list[tuple[float, float, float]], tile_m: float = TILE_M) -> Path:
    """OBJ of one quad (corners counter-clockwise seen from the side it faces), textured in
    metres / tile_m along its two edges."""
    c = np.asarray(corners, float)
    w = float(np.linalg.norm(c[1] - c[0])) / tile_m
    h = float(np.linalg.norm(c[3] - c[0])) / tile_m
    key = _key(MATERIALS_VERSION, tuple(map(tuple, np.round(c, 4))), round(tile_m, 4))
    path = cache_dir() / "meshes" / f"quad-{key}.obj"

    def write(f):
        lines = [f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in c]
        lines += [f"vt {u:.4f} {v:.4f}" for u, v in ((0, 0), (w, 0), (w, h), (0, h))]
        n = np.cross(c[1] - c[0], c[3] - c[0])
        n = n / (np.linalg.norm(n) or 1.0)
        lines += [f"vn {n[0]:.4f} {n[1]:.4f} {n[2]:.4f}", "f 1/1/1 2/2/1 3/3/1", "f 1/1/1 3/3/1 4/4/1"]
        f.write(("\n".join(lines) + "\n").encode())

    return _write_once(path, write)


def cone_mesh(segments: int = 16) -> Path:
    """OBJ of a unit cone: base radius 1 at z=0, apex at z=1."""
    path = cache_dir() / "meshes" / f"cone-v{MATERIALS_VERSION}-{segments}.obj"

    def write(f):
        lines = ["v 0 0 1", "v 0 0 0"]
        for k in range(segments):
            a = 2 * math.pi * k / segments
            lines.append(f"v {math.cos(a):.5f} {math.sin(a):.5f} 0")
        for k in range(segments):
            i, j = 3 + k, 3 + (k + 1) % segments
            lines.append(f"f 1 {i} {j}")
            lines.append(f"f 2 {j} {i}")
        f.write(("\n".join(lines) + "\n").encode())

    return _write_once(path, write)
