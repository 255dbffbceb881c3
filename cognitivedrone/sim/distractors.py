"""Things in the scene that are not gates: boxes, poles, cones, coloured panels and rings (some in
gate colours), and billboards without a gate. They stand where no flight to a gate goes, so the
expert's paths and the success rules are those of the bare course; they are visual only (a
policy that strays into one is not stopped by it, and no episode outcome depends on them).
"""

from __future__ import annotations

import math

import numpy as np
import pybullet as p

from cognitivedrone.sim.look import room_x_extent
from cognitivedrone.sim.materials import cone_mesh, rgba

CLEARANCE_M = 1.5  # from every flight corridor (start -> approach point -> through the gate)
START = (-1.0, 0.0)


def _segment_distance(pt, a, b) -> float:
    pt, a, b = (np.asarray(v, float) for v in (pt, a, b))
    ab = b - a
    t = float(np.clip(np.dot(pt - a, ab) / max(float(np.dot(ab, ab)), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(pt - (a + t * ab)))


def corridors(gates) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """2-D segments every flight to a gate may use: from the start area to 1.5 m before the gate,
    and through it to 1.5 m beyond."""
    segs = []
    for g in gates:
        c, s = math.cos(g.pose.yaw), math.sin(g.pose.yaw)
        before = (g.pose.x - 1.5 * c, g.pose.y - 1.5 * s)
        after = (g.pose.x + 1.5 * c, g.pose.y + 1.5 * s)
        for start in ((START[0], START[1] - 1.0), START, (START[0], START[1] + 1.0)):
            segs.append((start, before))
        segs.append((before, after))
    return segs


def place(n: int, gates, rng: np.random.Generator, x_range, y_range) -> list[tuple[float, float]]:
    """Up to n points in the box, CLEARANCE_M from every corridor and 1 m from each other."""
    segs = corridors(gates)
    out: list[tuple[float, float]] = []
    for _ in range(n * 40):
        if len(out) >= n:
            break
        pt = (float(rng.uniform(*x_range)), float(rng.uniform(*y_range)))
        if any(_segment_distance(pt, a, b) < CLEARANCE_M for a, b in segs):
            continue
        if any(math.dist(pt, q) < 1.0 for q in out):
            continue
        out.append(pt)
    return out


def _visual(client, shape, **kw) -> int:
    return p.createVisualShape(shape, physicsClientId=client, **kw)


def build_distractors(world, look, pictures: list[str]) -> list[int]:
    """Build the look's distractors into the world's client; returns their body ids."""
    scene = look.scene
    c = world.client
    rng = np.random.default_rng([scene.placement_seed, 11])
    if scene.kind in ("room", "hall"):
        x0, x1 = room_x_extent(scene)
        x_range, y_range = (x0 + 0.7, x1 - 0.7), (-scene.half_width_m + 0.7, scene.half_width_m - 0.7)
    else:
        x_range, y_range = (-4.0, 11.0), (-9.0, 9.0)
    spots = place(len(scene.distractors), world.gates, rng, x_range, y_range)
    ids = []
    pictures = list(pictures)
    for d, (x, y) in zip(scene.distractors, spots):
        color = rgba(d.color)
        yaw = float(rng.uniform(-math.pi, math.pi))
        quat = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
        s = d.size_m
        if d.kind == "box":
            vis = _visual(c, p.GEOM_BOX, halfExtents=(s / 2, s / 2, s / 2), rgbaColor=color)
            pos = (x, y, s / 2)
        elif d.kind == "pole":
            h = 1.5 + 1.5 * s
            vis = _visual(c, p.GEOM_CYLINDER, radius=0.05 + 0.05 * s, length=h, rgbaColor=color)
            pos = (x, y, h / 2)
        elif d.kind == "cone":
            vis = _visual(c, p.GEOM_MESH, fileName=str(cone_mesh()), meshScale=(s / 2, s / 2, s * 1.2), rgbaColor=color)
            pos = (x, y, 0.0)
        elif d.kind == "panel":  # a coloured sign on a post
            vis = _visual(c, p.GEOM_BOX, halfExtents=(0.02, s / 2, s / 2), rgbaColor=color)
            pos = (x, y, 1.0 + s / 2)
            ids.append(p.createMultiBody(0.0, -1, _visual(c, p.GEOM_BOX, halfExtents=(0.03, 0.03, 0.5),
                                                          rgbaColor=(0.35, 0.35, 0.35, 1)), (x, y, 0.5), quat,
                                         physicsClientId=c))
        elif d.kind == "ring":  # a gate-coloured ring lying on the floor: a hoop, not a gate
            vis = _visual(c, p.GEOM_CYLINDER, radius=0.3 + 0.5 * s, length=0.05, rgbaColor=color)
            pos = (x, y, 0.03)
        else:  # "billboard": a picture on a post with no gate below it
            vis = _visual(c, p.GEOM_BOX, halfExtents=(0.02, 0.8, 0.8), rgbaColor=(1, 1, 1, 1))
            pos = (x, y, 2.3 + 0.8)
            ids.append(p.createMultiBody(0.0, -1, _visual(c, p.GEOM_BOX, halfExtents=(0.03, 0.03, 1.15),
                                                          rgbaColor=(0.35, 0.35, 0.35, 1)), (x, y, 1.15), quat,
                                         physicsClientId=c))
        body = p.createMultiBody(0.0, -1, vis, pos, quat, physicsClientId=c)
        if d.kind == "billboard" and pictures:
            p.changeVisualShape(body, -1, textureUniqueId=world._texture(pictures.pop(0)), physicsClientId=c)
        ids.append(body)
    return ids
