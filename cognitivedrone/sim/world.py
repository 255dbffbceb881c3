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

from cognitivedrone.resources import SIM_ASSETS
from cognitivedrone.sim.look import BillboardLook, GateLook, Look, room_x_extent
from cognitivedrone.sim.materials import material_texture, quad_mesh, rgba
from cognitivedrone.tasks.gates import GATE_SHAPES, OPENING

BILLBOARD_MESH = SIM_ASSETS / "billboard.obj"

CLASSIC_GATE = GateLook()  # today's gates: 0.12 m square bars in three pure colours (look.py)
CLASSIC_BOARD = BillboardLook()
COLORS_RGBA = {name: (*rgb, 1.0) for name, rgb in CLASSIC_GATE.shades}
BAR_THICKNESS = CLASSIC_GATE.bar_width_m  # frame bar width in the gate plane, m (~1 px at 6 m at 128 px)
BAR_DEPTH = CLASSIC_GATE.bar_depth_m  # frame bar extent along the flight direction, m
POLE_WIDTH = 0.06
GATE_CENTER_Z = 1.0  # height of the opening's centre above the floor
BILLBOARD_SIZE = CLASSIC_BOARD.size_m  # m, square: at 128 px it covers a median 18 px (min 12) at the start
BILLBOARD_BOTTOM_Z = CLASSIC_BOARD.bottom_m  # clears the big triangle's apex (2.04 m)
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


def opening(shape: str, size: str, style: GateLook = CLASSIC_GATE) -> float:
    """Inner radius (round), inner half-side (square) or incircle radius (triangle), m."""
    try:
        r = OPENING[(shape, size)]
    except KeyError:
        raise ValueError(f"unknown gate {size!r} {shape!r}; shapes are round, square, triangle; sizes big, small") from None
    return r * style.opening_scale


def frame_bars(shape: str, size: str, style: GateLook = CLASSIC_GATE
               ) -> list[tuple[tuple[float, float, float], tuple[float, float, float], float]]:
    """Bars making up a gate frame in the gate's local frame: (half_extents, centre, roll).
    A bar's long axis is local y before the roll about x; half_extents are (depth, length, width)/2."""
    if shape not in GATE_SHAPES:
        raise ValueError(f"unknown gate shape {shape!r}; expected round, square or triangle")
    r = opening(shape, size, style)
    t, d = style.bar_width_m, style.bar_depth_m
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
    else:
        # Equilateral, apex up; r is the incircle radius of the opening.
        rc = r + t / 2
        half_len = math.sqrt(3) * (r + t)  # half of the outer side
        for k in range(3):
            a = -math.pi / 2 + 2 * math.pi * k / 3  # outward normal of side k (first: bottom)
            centre = (0.0, rc * math.cos(a), rc * math.sin(a))
            bars.append(((d / 2, half_len, t / 2), centre, a + math.pi / 2))
    return bars


def frame_bottom(shape: str, size: str, style: GateLook = CLASSIC_GATE) -> float:
    """Lowest point of the frame below the opening's centre (positive number, m)."""
    return opening(shape, size, style) + style.bar_width_m


def frame_top(shape: str, size: str, style: GateLook = CLASSIC_GATE) -> float:
    """Highest point of the frame above the opening's centre (m)."""
    r, t = opening(shape, size, style), style.bar_width_m
    if shape == "triangle":
        return 2 * r + 2 * t  # the apex
    return r + t


def billboard_bottom(board: BillboardLook, gate_z: float, shape: str, size: str, style: GateLook = CLASSIC_GATE) -> float:
    """Height of a billboard's lower edge: the look's, or higher where the frame's top needs it."""
    return max(board.bottom_m, gate_z + frame_top(shape, size, style) + 0.08)


def in_opening(shape: str, size: str, ly: float, lz: float, margin: float = 0.0,
               style: GateLook = CLASSIC_GATE) -> bool:
    """Is the point (ly, lz) of the gate plane inside the opening, shrunk by `margin`?"""
    r = opening(shape, size, style) - margin
    if shape == "round":
        return ly * ly + lz * lz < r * r
    if shape == "square":
        return abs(ly) < r and abs(lz) < r
    for k in range(3):
        a = -math.pi / 2 + 2 * math.pi * k / 3
        if ly * math.cos(a) + lz * math.sin(a) >= r:
            return False
    return True


class _Shapes:
    """The per-shape lists pybullet's create*ShapeArray calls want (every list given, even
    unused ones: pybullet segfaults otherwise)."""

    def __init__(self):
        self.types, self.half_extents, self.radii, self.lengths = [], [], [], []
        self.positions, self.orientations, self.colors = [], [], []

    def box(self, half_extents, position, orientation, rgba):
        self._add(p.GEOM_BOX, half_extents, 0.1, 0.1, position, orientation, rgba)

    def cylinder(self, radius, length, position, orientation, rgba):
        self._add(p.GEOM_CYLINDER, (0.1, 0.1, 0.1), radius, length, position, orientation, rgba)

    def _add(self, kind, he, radius, length, position, orientation, rgba):
        self.types.append(kind)
        self.half_extents.append(he)
        self.radii.append(radius)
        self.lengths.append(length)
        self.positions.append(position)
        self.orientations.append(orientation)
        self.colors.append(rgba)

    def body(self, client: int, position, orientation, collide: bool = True) -> int:
        n = len(self.types)
        assert 0 < n <= MAX_SHAPES_PER_BODY, n
        col = -1
        if collide:
            col = p.createCollisionShapeArray(
                shapeTypes=self.types, halfExtents=self.half_extents, radii=self.radii, lengths=self.lengths,
                collisionFramePositions=self.positions, collisionFrameOrientations=self.orientations,
                physicsClientId=client)
        vis = p.createVisualShapeArray(
            shapeTypes=self.types, halfExtents=self.half_extents, rgbaColors=self.colors,
            visualFramePositions=self.positions, visualFrameOrientations=self.orientations,
            fileNames=[""] * n, meshScales=[[1, 1, 1]] * n, radii=self.radii, lengths=self.lengths,
            physicsClientId=client)
        return p.createMultiBody(baseMass=0.0, baseCollisionShapeIndex=col, baseVisualShapeIndex=vis,
                                 basePosition=position, baseOrientation=orientation, physicsClientId=client)


class Gate:
    """One built gate: frame + pole + billboard, and the geometry to judge a pass."""

    def __init__(self, client: int, index: int, pose: GatePose, look: GateAppearance,
                 style: GateLook = CLASSIC_GATE, board: BillboardLook = CLASSIC_BOARD):
        self.client, self.index, self.pose, self.look = client, index, pose, look
        self.style, self.board = style, board
        self._c, self._s = math.cos(pose.yaw), math.sin(pose.yaw)
        self.billboard_bottom_z = billboard_bottom(board, pose.z, look.shape, look.size, style)
        self.billboard_size = board.size_m
        self.body_id = self._build_frame()
        self.billboard_id = self._build_billboard()

    @property
    def half_width(self) -> float:
        return opening(self.look.shape, self.look.size, self.style)

    @property
    def billboard_center(self) -> tuple[float, float, float]:
        """World position of the picture's centre."""
        return (self.pose.x, self.pose.y, self.billboard_bottom_z + self.billboard_size / 2)

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
        return in_opening(self.look.shape, self.look.size, ly, lz, style=self.style)

    def _build_frame(self) -> int:
        style, board, look = self.style, self.board, self.look
        color = rgba(style.shade(look.color))
        shapes = _Shapes()
        for he, centre, roll in frame_bars(look.shape, look.size, style):
            if style.profile == "tube":  # a cylinder's axis is local z: turn it onto the bar's y axis first
                shapes.cylinder(he[2], 2 * he[1], centre, _rot_x_quat(roll - math.pi / 2), color)
            else:
                shapes.box(he, centre, _rot_x_quat(roll), color)
        # A pole from the floor to the frame's bottom, and a backing behind the billboard.
        grey = rgba(style.pole_color)
        pole_top_local = -frame_bottom(look.shape, look.size, style)
        pole_len = self.pose.z + pole_top_local  # from floor (z=0) up to the frame's bottom
        if style.poles and pole_len > 0.02:
            shapes.box((POLE_WIDTH / 2, POLE_WIDTH / 2, pole_len / 2), (0.0, 0.0, pole_top_local - pole_len / 2),
                       (0.0, 0.0, 0.0, 1.0), grey)
        bb_centre_z = self.billboard_bottom_z + board.size_m / 2 - self.pose.z
        shapes.box((0.02, board.size_m / 2 + 0.05, board.size_m / 2 + 0.05), (0.03, 0.0, bb_centre_z),
                   (0.0, 0.0, 0.0, 1.0), rgba(board.backing))
        # A post joining the billboard to the frame so nothing floats.
        top_local = frame_top(look.shape, look.size, style)
        post_len = (self.billboard_bottom_z - self.pose.z) - top_local
        if post_len > 0.02:
            shapes.box((POLE_WIDTH / 2, POLE_WIDTH / 2, post_len / 2), (0.03, 0.0, top_local + post_len / 2),
                       (0.0, 0.0, 0.0, 1.0), grey)
        return shapes.body(self.client, (self.pose.x, self.pose.y, self.pose.z), _yaw_quat(self.pose.yaw))

    def _build_billboard(self) -> int:
        c = self.client
        size = self.board.size_m
        vis = p.createVisualShape(p.GEOM_MESH, fileName=str(BILLBOARD_MESH), meshScale=(1.0, size, size),
                                  rgbaColor=(1, 1, 1, 1), physicsClientId=c)
        # The picture sits just in front (start side) of the backing box.
        return p.createMultiBody(
            baseMass=0.0, baseCollisionShapeIndex=-1, baseVisualShapeIndex=vis,
            basePosition=self.billboard_center, baseOrientation=_yaw_quat(self.pose.yaw), physicsClientId=c)


class World:
    """Builds the scene into a pybullet client and owns the texture cache for it."""

    def __init__(self, client: int):
        self.client = client
        self.gates: list[Gate] = []
        self.floor_id: int | None = None
        self.wall_ids: list[int] = []
        self.distractor_ids: list[int] = []
        self._textures: dict[str, int] = {}

    def build(self, poses: list[GatePose], looks: list[GateAppearance], floor_rgba=(0.55, 0.55, 0.5, 1.0),
              look: Look | None = None, distractor_pictures: tuple[str, ...] = ()) -> None:
        """Clear and rebuild the whole scene (called after p.resetSimulation). `look` says how
        it appears (None: classic, with `floor_rgba` tinting the checker floor)."""
        c = self.client
        look = look or Look()
        self._textures.clear()  # resetSimulation drops textures with everything else
        self.wall_ids, self.distractor_ids = [], []
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=c)
        self.floor_id = p.loadURDF("plane.urdf", useFixedBase=True, physicsClientId=c)
        if look.is_classic:
            p.changeVisualShape(self.floor_id, -1, rgbaColor=floor_rgba, physicsClientId=c)
        else:
            f = look.scene.floor
            tex = self._texture(str(material_texture(f.pattern, f.color_a, f.color_b, f.period_m)))
            p.changeVisualShape(self.floor_id, -1, rgbaColor=(1, 1, 1, 1), textureUniqueId=tex, physicsClientId=c)
        self.gates = []
        for i, (pose, appearance) in enumerate(zip(poses, looks)):
            gate = Gate(c, i, pose, appearance, look.gates, look.billboard)
            if appearance.picture is not None:
                p.changeVisualShape(gate.billboard_id, -1, textureUniqueId=self._texture(appearance.picture), physicsClientId=c)
            self.gates.append(gate)
        if look.scene.kind in ("room", "hall"):
            self._build_room(look.scene)
        if look.scene.distractors:
            from cognitivedrone.sim.distractors import build_distractors

            self.distractor_ids = build_distractors(self, look, list(distractor_pictures))

    def _build_room(self, scene) -> None:
        """Walls and a ceiling around the course: textured quads facing in, with box colliders."""
        c = self.client
        x0, x1 = room_x_extent(scene)
        y = scene.half_width_m
        h = scene.height_m
        wall_tex = self._texture(str(material_texture(scene.walls.pattern, scene.walls.color_a, scene.walls.color_b,
                                                      scene.walls.period_m)))
        t = 0.1  # collider thickness, behind each surface
        # (corners counter-clockwise seen from inside: TinyRenderer draws only the faces that
        # look at the camera), the collider's centre and half extents.
        surfaces = [
            ([(x0, -y, 0), (x0, y, 0), (x0, y, h), (x0, -y, h)], (x0 - t, 0, h / 2), (t, y, h / 2)),
            ([(x1, y, 0), (x1, -y, 0), (x1, -y, h), (x1, y, h)], (x1 + t, 0, h / 2), (t, y, h / 2)),
            ([(x0, y, 0), (x1, y, 0), (x1, y, h), (x0, y, h)], ((x0 + x1) / 2, y + t, h / 2), ((x1 - x0) / 2, t, h / 2)),
            ([(x1, -y, 0), (x0, -y, 0), (x0, -y, h), (x1, -y, h)], ((x0 + x1) / 2, -y - t, h / 2), ((x1 - x0) / 2, t, h / 2)),
            ([(x1, y, h), (x1, -y, h), (x0, -y, h), (x0, y, h)], ((x0 + x1) / 2, 0, h + t), ((x1 - x0) / 2, y, t)),
        ]
        for k, (corners, centre, half) in enumerate(surfaces):
            ceiling = k == len(surfaces) - 1
            # The collider and the picture in one body: a shape-less collider body would be drawn grey.
            vis = p.createVisualShape(p.GEOM_MESH, fileName=str(quad_mesh(corners)),
                                      rgbaColor=rgba(scene.ceiling) if ceiling else (1, 1, 1, 1),
                                      visualFramePosition=tuple(-v for v in centre), physicsClientId=c)
            col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=c)
            body = p.createMultiBody(baseMass=0.0, baseCollisionShapeIndex=col, baseVisualShapeIndex=vis,
                                     basePosition=centre, physicsClientId=c)
            if not ceiling:
                p.changeVisualShape(body, -1, textureUniqueId=wall_tex, physicsClientId=c)
            self.wall_ids.append(body)

    def _texture(self, path: str) -> int:
        tid = self._textures.get(path)
        if tid is None:
            if not Path(path).is_file():
                raise FileNotFoundError(f"texture {path} does not exist")
            tid = p.loadTexture(str(path), physicsClientId=self.client)
            if tid < 0:
                raise RuntimeError(f"pybullet could not load the texture {path}")
            self._textures[path] = tid
        return tid

    def body_name(self, body_id: int) -> str:
        if body_id == self.floor_id:
            return "floor"
        if body_id in self.wall_ids:
            return "wall"
        if body_id in self.distractor_ids:
            return "obstacle"
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
