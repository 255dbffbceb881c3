"""The world: floor, gates with real collision frames, billboards with pictures, lighting.

Gate frame convention: the gate's origin is the centre of its opening; local +x is the
direction a drone flies through it (away from the start), +y left, +z up. The opening lies
in the local y-z plane. `Gate.crossing()` tells whether a segment of the drone's path went
through the opening (a pass) or through the plane beside it (not a pass).

The world knows shapes, colours and pictures; it knows nothing of tasks or which gate is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet as p
import pybullet_data

SIM_ASSETS = Path(__file__).resolve().parents[2] / "sim_assets"
BILLBOARD_MESH = SIM_ASSETS / "billboard.obj"

COLORS_RGBA = {
    "red": (0.85, 0.12, 0.10, 1.0),
    "green": (0.10, 0.70, 0.15, 1.0),
    "blue": (0.10, 0.25, 0.90, 1.0),
}
BAR_THICKNESS = 0.12  # frame bar width in the gate plane, m (~1 px at 6 m at 128 px)
BAR_DEPTH = 0.12  # frame bar extent along the flight direction, m
POLE_WIDTH = 0.06
# Size of the opening: inner radius (round), inner half-side (square) and incircle radius
# (triangle). "small" still leaves > 3x the cf2x's diameter, "big" roughly 1.1 m across.
OPENING = {
    ("round", "big"): 0.55,
    ("round", "small"): 0.35,
    ("square", "big"): 0.50,
    ("square", "small"): 0.32,
    ("triangle", "big"): 0.40,
    ("triangle", "small"): 0.26,
}
GATE_CENTER_Z = 1.0  # height of the opening's centre above the floor
BILLBOARD_SIZE = 1.8  # m, square: at 128 px it covers a median 18 px (min 12) at the start
BILLBOARD_BOTTOM_Z = 2.15  # clears the big triangle's apex (2.04 m)
MAX_SHAPES_PER_BODY = 16
ROUND_SEGMENTS = 12  # + pole, post and backing: pybullet's shape arrays crash above 16


@dataclass(frozen=True)
class GateAppearance:
    """What the world needs to build one gate: its look and the picture on its billboard."""

    shape: str  # round | square | triangle
    size: str  # big | small
    color: str  # red | green | blue
    picture: str | None = None  # path to a PNG texture; None leaves the billboard blank


@dataclass(frozen=True)
class GatePose:
    x: float
    y: float
    z: float
    yaw: float  # flight direction through the gate, rad


def _yaw_quat(yaw: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))


def _rot_x_quat(angle: float) -> tuple[float, float, float, float]:
    return (math.sin(angle / 2), 0.0, 0.0, math.cos(angle / 2))


def frame_bars(shape: str, size: str) -> list[tuple[tuple[float, float, float], tuple[float, float, float], float]]:
    """Boxes making up a gate frame in the gate's local frame: (half_extents, centre, roll)."""
    r = OPENING[(shape, size)]
    t, d = BAR_THICKNESS, BAR_DEPTH
    bars = []
    if shape == "round":
        rc = r + t / 2
        # Chords slightly longer than the arc so neighbouring segments overlap (no gaps).
        half_len = rc * math.tan(math.pi / ROUND_SEGMENTS) * 1.08
        for k in range(ROUND_SEGMENTS):
            a = 2 * math.pi * k / ROUND_SEGMENTS
            centre = (0.0, rc * math.cos(a), rc * math.sin(a))
            # Box long axis is local y; roll it to be tangent to the circle.
            bars.append(((d / 2, half_len, t / 2), centre, a + math.pi / 2))
    elif shape == "square":
        half_len = r + t
        for cy, cz, roll in ((0.0, r + t / 2, 0.0), (0.0, -r - t / 2, 0.0),
                             (r + t / 2, 0.0, math.pi / 2), (-r - t / 2, 0.0, math.pi / 2)):
            bars.append(((d / 2, half_len, t / 2), (0.0, cy, cz), roll))
    elif shape == "triangle":
        # Equilateral, apex up; r is the incircle radius of the opening.
        rc = r + t / 2
        half_len = math.sqrt(3) * (r + t)  # half of the outer side
        for k in range(3):
            a = -math.pi / 2 + 2 * math.pi * k / 3  # outward normal of side k (first: bottom)
            centre = (0.0, rc * math.cos(a), rc * math.sin(a))
            bars.append(((d / 2, half_len, t / 2), centre, a + math.pi / 2))
    else:
        raise ValueError(f"unknown gate shape {shape!r}; expected round, square or triangle")
    return bars


def frame_bottom(shape: str, size: str) -> float:
    """Lowest point of the frame below the opening's centre (positive number, m)."""
    r = OPENING[(shape, size)]
    return r + BAR_THICKNESS


def in_opening(shape: str, size: str, ly: float, lz: float, margin: float = 0.0) -> bool:
    """Is the point (ly, lz) of the gate plane inside the opening, shrunk by `margin`?"""
    r = OPENING[(shape, size)] - margin
    if shape == "round":
        return ly * ly + lz * lz < r * r
    if shape == "square":
        return abs(ly) < r and abs(lz) < r
    if shape == "triangle":
        for k in range(3):
            a = -math.pi / 2 + 2 * math.pi * k / 3
            if ly * math.cos(a) + lz * math.sin(a) >= r:
                return False
        return True
    raise ValueError(f"unknown gate shape {shape!r}")


class Gate:
    """One built gate: frame + pole + billboard, and the geometry to judge a pass."""

    def __init__(self, client: int, index: int, pose: GatePose, look: GateAppearance):
        self.client, self.index, self.pose, self.look = client, index, pose, look
        self._c, self._s = math.cos(pose.yaw), math.sin(pose.yaw)
        self.body_id = self._build_frame()
        self.billboard_id = self._build_billboard()

    @property
    def half_width(self) -> float:
        return OPENING[(self.look.shape, self.look.size)]

    def to_local(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        dx, dy = x - self.pose.x, y - self.pose.y
        return (self._c * dx + self._s * dy, -self._s * dx + self._c * dy, z - self.pose.z)

    def crossing(self, prev: tuple[float, float, float], cur: tuple[float, float, float]) -> bool | None:
        """None if the segment prev->cur does not cross the gate plane forwards near the
        gate; True if it crosses through the opening; False if beside it."""
        a = self.to_local(*prev)
        b = self.to_local(*cur)
        if not (a[0] < 0.0 <= b[0]):
            return None
        f = -a[0] / (b[0] - a[0])
        ly = a[1] + f * (b[1] - a[1])
        lz = a[2] + f * (b[2] - a[2])
        if ly * ly + lz * lz > 9.0:  # crossed the infinite plane far from this gate
            return None
        return in_opening(self.look.shape, self.look.size, ly, lz)

    def _build_frame(self) -> int:
        c = self.client
        rgba = COLORS_RGBA[self.look.color]
        bars = frame_bars(self.look.shape, self.look.size)
        half_extents, positions, orientations, colors = [], [], [], []
        for he, centre, roll in bars:
            half_extents.append(he)
            positions.append(centre)
            orientations.append(_rot_x_quat(roll))
            colors.append(rgba)
        # A pole from the floor to the frame's bottom, and a dark backing behind the billboard.
        pole_top_local = -frame_bottom(self.look.shape, self.look.size)
        pole_len = self.pose.z + pole_top_local  # from floor (z=0) up to the frame's bottom
        if pole_len > 0.02:
            half_extents.append((POLE_WIDTH / 2, POLE_WIDTH / 2, pole_len / 2))
            positions.append((0.0, 0.0, pole_top_local - pole_len / 2))
            orientations.append((0.0, 0.0, 0.0, 1.0))
            colors.append((0.35, 0.35, 0.35, 1.0))
        bb_centre_z = BILLBOARD_BOTTOM_Z + BILLBOARD_SIZE / 2 - self.pose.z
        half_extents.append((0.02, BILLBOARD_SIZE / 2 + 0.05, BILLBOARD_SIZE / 2 + 0.05))
        positions.append((0.03, 0.0, bb_centre_z))
        orientations.append((0.0, 0.0, 0.0, 1.0))
        colors.append((0.15, 0.15, 0.15, 1.0))
        # A post joining the billboard to the frame so nothing floats.
        top_local = frame_top(self.look.shape, self.look.size)
        post_len = (BILLBOARD_BOTTOM_Z - self.pose.z) - top_local
        if post_len > 0.02:
            half_extents.append((POLE_WIDTH / 2, POLE_WIDTH / 2, post_len / 2))
            positions.append((0.03, 0.0, top_local + post_len / 2))
            orientations.append((0.0, 0.0, 0.0, 1.0))
            colors.append((0.35, 0.35, 0.35, 1.0))
        n = len(half_extents)
        assert n <= MAX_SHAPES_PER_BODY, n
        col = p.createCollisionShapeArray(
            shapeTypes=[p.GEOM_BOX] * n, halfExtents=half_extents,
            collisionFramePositions=positions, collisionFrameOrientations=orientations,
            physicsClientId=c,
        )
        vis = p.createVisualShapeArray(
            shapeTypes=[p.GEOM_BOX] * n, halfExtents=half_extents, rgbaColors=colors,
            visualFramePositions=positions, visualFrameOrientations=orientations,
            # pybullet segfaults unless every per-shape list is given, even unused ones.
            fileNames=[""] * n, meshScales=[[1, 1, 1]] * n, radii=[0.1] * n, lengths=[0.1] * n,
            physicsClientId=c,
        )
        return p.createMultiBody(
            baseMass=0.0, baseCollisionShapeIndex=col, baseVisualShapeIndex=vis,
            basePosition=(self.pose.x, self.pose.y, self.pose.z), baseOrientation=_yaw_quat(self.pose.yaw),
            physicsClientId=c,
        )

    def _build_billboard(self) -> int:
        c = self.client
        vis = p.createVisualShape(
            p.GEOM_MESH, fileName=str(BILLBOARD_MESH), meshScale=(1.0, BILLBOARD_SIZE, BILLBOARD_SIZE),
            rgbaColor=(1, 1, 1, 1), physicsClientId=c,
        )
        # The picture sits just in front (start side) of the backing box.
        local = (0.0, 0.0, BILLBOARD_BOTTOM_Z + BILLBOARD_SIZE / 2 - self.pose.z)
        wx = self.pose.x + self._c * local[0]
        wy = self.pose.y + self._s * local[0]
        body = p.createMultiBody(
            baseMass=0.0, baseCollisionShapeIndex=-1, baseVisualShapeIndex=vis,
            basePosition=(wx, wy, self.pose.z + local[2]), baseOrientation=_yaw_quat(self.pose.yaw),
            physicsClientId=c,
        )
        return body


def frame_top(shape: str, size: str) -> float:
    """Highest point of the frame above the opening's centre (m)."""
    r = OPENING[(shape, size)]
    if shape == "triangle":
        return 2 * r + 2 * BAR_THICKNESS  # the apex
    return r + BAR_THICKNESS


class World:
    """Builds the scene into a pybullet client and owns the texture cache for it."""

    def __init__(self, client: int):
        self.client = client
        self.gates: list[Gate] = []
        self.floor_id: int | None = None
        self._textures: dict[str, int] = {}

    def build(self, poses: list[GatePose], looks: list[GateAppearance], floor_rgba=(0.55, 0.55, 0.5, 1.0)) -> None:
        """Clear and rebuild the whole scene (called after p.resetSimulation)."""
        c = self.client
        self._textures.clear()  # resetSimulation drops textures with everything else
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=c)
        self.floor_id = p.loadURDF("plane.urdf", useFixedBase=True, physicsClientId=c)
        p.changeVisualShape(self.floor_id, -1, rgbaColor=floor_rgba, physicsClientId=c)
        self.gates = []
        for i, (pose, look) in enumerate(zip(poses, looks)):
            gate = Gate(c, i, pose, look)
            if look.picture is not None:
                p.changeVisualShape(gate.billboard_id, -1, textureUniqueId=self._texture(look.picture), physicsClientId=c)
            self.gates.append(gate)

    def _texture(self, path: str) -> int:
        tid = self._textures.get(path)
        if tid is None:
            if not Path(path).is_file():
                raise FileNotFoundError(f"billboard texture {path} does not exist")
            tid = p.loadTexture(str(path), physicsClientId=self.client)
            if tid < 0:
                raise RuntimeError(f"pybullet could not load the texture {path}")
            self._textures[path] = tid
        return tid

    def body_name(self, body_id: int) -> str:
        if body_id == self.floor_id:
            return "floor"
        for g in self.gates:
            if body_id == g.body_id:
                return f"gate {g.index + 1} ({g.look.color} {g.look.shape})"
        return f"body {body_id}"


def reference_layout() -> list[GatePose]:
    """The reference benchmark's three gates, at (4, 4), (5, 0) and (4, -4), each facing
    the nominal start (-1, 0): a drone from the start flies through them away from it."""
    poses = []
    for gx, gy in ((4.0, 4.0), (5.0, 0.0), (4.0, -4.0)):
        poses.append(GatePose(gx, gy, GATE_CENTER_Z, math.atan2(gy - 0.0, gx - (-1.0))))
    return poses


def jitter_layout(poses: list[GatePose], rng: np.random.Generator, pos_m: float, yaw_rad: float) -> list[GatePose]:
    """Optional domain randomisation: move each gate by up to pos_m and turn it by up to yaw_rad."""
    if pos_m <= 0 and yaw_rad <= 0:
        return poses
    out = []
    for g in poses:
        dx, dy = rng.uniform(-pos_m, pos_m, size=2)
        out.append(GatePose(g.x + dx, g.y + dy, g.z, g.yaw + rng.uniform(-yaw_rad, yaw_rad)))
    return out
