"""How the world looks, apart from what is in it (docs/design.md, Looks).

A task says what is there: three gates (size, shape, colour), the pictures on their billboards,
the instruction. A :class:`Look` says how it appears: the camera and its lens, the room or field
around the gates, the light, how a gate of a given size, shape and colour is built, and how the
billboards are printed. The world builds a scene from both; the expert, the success rules and
the suites never read a look.

Looks are named (:data:`NAMED_LOOKS`) and sampled per episode from a seed:
``sample_look("randomized", seed)`` is the same look for the same seed on every machine.

* ``classic`` is the world every committed result was measured in, unchanged (its per-episode
  light and floor tint are drawn by the environment from the episode seed, as before).
* ``randomized`` is the training distribution: every axis below, drawn from :data:`RANGES`.
* ``studio``, ``outdoor`` and ``dim`` are **held out**: no training run, perception scene or
  tuning step may draw from them. Each keeps values out of ``randomized`` (:data:`HELD_OUT`,
  tested), and one art style and one font family are kept out of training altogether.

The ranges of every axis are in :data:`RANGES`, one place.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from cognitivedrone.sim.lens import LensParams
from cognitivedrone.tasks.gates import GATE_COLORS

RGB = tuple[float, float, float]  # 0..1

#: Bump when what a look name and seed give changes (datasets record it: a resumed run must match).
LOOKS_VERSION = 2

SCENE_KINDS = ("classic", "field", "room", "hall")
PATTERNS = ("plain", "checker", "tiles", "stripes", "noise", "planks", "concrete", "grass")
PROFILES = ("box", "flat", "tube")
DISTRACTOR_KINDS = ("box", "pole", "cone", "panel", "ring", "billboard")

# ------------------------------------------------------------------------------------- ranges
#: Every randomised axis and its range (``randomized`` draws from these; the held-out looks
#: use the values in HELD_OUT, which these ranges exclude).
RANGES = {
    # camera
    "fov_deg": ((60.0, 66.0), (72.0, 120.0)),  # 66-72 (a RealSense D435's 69 deg) held out
    "pitch_deg": (-8.0, 15.0),
    "render_size": (96, 112, 128, 160),
    "exposure": (0.7, 1.45),  # log-uniform
    "gamma": (0.8, 1.25),
    "white_balance": (0.85, 1.15),  # per channel
    "vignette": (0.0, 0.5),
    "defocus_px": (0.0, 1.0),  # with probability 0.4
    "motion_blur_px": (0.0, 2.5),  # with probability 0.4
    "noise_std": (0.0, 8.0),
    "noise_shot": (0.0, 1.0),
    "jpeg_quality": (25, 95),  # with probability 0.5
    # scene
    "scene_kind": ("field", "room", "hall"),
    "floor_pattern": ("plain", "checker", "tiles", "stripes", "noise", "planks"),
    "wall_pattern": ("plain", "tiles", "stripes", "noise", "planks"),
    "pattern_period_m": (0.25, 2.0),
    "room_half_width_m": (7.0, 9.0),
    "room_height_m": (5.2, 6.5),  # above the highest billboard (2.6 + 2.2 m)
    "hall_half_width_m": (11.0, 16.0),
    "hall_height_m": (7.0, 11.0),
    "distractors": (0, 8),
    # light
    "light_elevation": (0.35, 1.2),  # rad above the horizon
    "ambient": (0.35, 0.8),
    "diffuse": (0.2, 0.7),
    "light_tint": 0.18,  # max saturation of the light's colour (held out: warm sodium light)
    "shadows": 0.3,  # probability
    # gates
    "bar_width_m": (0.03, 0.2),
    "bar_depth_m": (0.02, 0.2),
    "profile": PROFILES,
    "poles": 0.8,  # probability of poles
    "opening_scale": (0.92, 1.08),  # proportions within the size class
    "gate_hue_deg": 12.0,  # +- around the colour's hue: a person still calls it red
    "gate_saturation": (0.55, 1.0),
    "gate_value": (0.45, 1.0),
    # billboards
    "art": ("openmoji", "noto", "fluent", "fluent-flat", "fluent3d"),  # twemoji held out
    "font_class": ("sans", "serif", "mono", "bold", "hand", "display"),  # Computer Modern held out
    "billboard_size_m": (1.4, 2.2),
    "billboard_bottom_m": (2.1, 2.6),
    "border_frac": (0.0, 0.03, 0.06),  # a few values: textures are cached per style
    "stroke": (0.0, 0.015, 0.03, 0.06),
}

#: Values each held-out look keeps out of ``randomized``. Categorical values never appear in
#: randomized draws; numeric bands lie outside RANGES.
HELD_OUT = {
    "art": ("twemoji",),  # an art style no training run sees
    "font_family": ("computer-modern",),  # a font family no training run sees
    "fov_deg": ((66.0, 72.0),),
    "floor_pattern": ("concrete", "grass"),
    "wall_pattern": ("concrete",),
    "light_tint": "warm light with saturation > 0.3 (sodium lamps)",
}

# Quantised palettes: textures are cached on disk per colour, so colours are drawn from a
# palette rather than a continuum.
PAPERS = ((236, 236, 236), (250, 246, 228), (210, 210, 205), (255, 236, 150), (190, 215, 240), (35, 35, 38))
INKS = ((20, 20, 20), (25, 40, 120), (170, 25, 25), (20, 90, 40), (245, 245, 245))


# ------------------------------------------------------------------------------------- parts
@dataclass(frozen=True)
class CameraLook:
    fov_deg: float = 106.0
    pitch_deg: float = 0.0  # positive tilts the lens up
    render_size: int | None = None  # None: render at the model's input size
    lens: LensParams = field(default_factory=LensParams)


@dataclass(frozen=True)
class Material:
    pattern: str = "plain"
    color_a: RGB = (0.55, 0.55, 0.5)
    color_b: RGB = (0.45, 0.45, 0.42)
    period_m: float = 1.0

    def __post_init__(self):
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown material pattern {self.pattern!r}; patterns are {', '.join(PATTERNS)}")


@dataclass(frozen=True)
class Distractor:
    kind: str
    color: RGB
    size_m: float  # characteristic size
    gate_color: str | None = None  # a distractor painted like a gate ("red") - not a gate


@dataclass(frozen=True)
class SceneLook:
    kind: str = "classic"  # classic: today's white void and tinted checker floor
    floor: Material = field(default_factory=Material)
    walls: Material = field(default_factory=Material)
    ceiling: RGB = (0.85, 0.85, 0.85)
    sky_top: RGB = (1.0, 1.0, 1.0)
    sky_horizon: RGB = (1.0, 1.0, 1.0)
    half_width_m: float = 8.0  # room: walls at +- this in y (and around the course in x)
    height_m: float = 5.0
    distractors: tuple[Distractor, ...] = ()
    placement_seed: int = 0

    def __post_init__(self):
        if self.kind not in SCENE_KINDS:
            raise ValueError(f"unknown scene kind {self.kind!r}; kinds are {', '.join(SCENE_KINDS)}")


@dataclass(frozen=True)
class LightLook:
    direction: tuple[float, float, float] | None = None  # None: drawn per episode (classic)
    color: RGB = (1.0, 1.0, 1.0)
    ambient: float = 0.6  # pybullet TinyRenderer's defaults
    diffuse: float = 0.35
    specular: float = 0.05
    shadows: bool = False


@dataclass(frozen=True)
class GateLook:
    bar_width_m: float = 0.12
    bar_depth_m: float = 0.12
    profile: str = "box"  # box | flat | tube
    poles: bool = True
    opening_scale: float = 1.0
    shades: tuple[tuple[str, RGB], ...] = (
        ("red", (0.85, 0.12, 0.10)), ("green", (0.10, 0.70, 0.15)), ("blue", (0.10, 0.25, 0.90)))
    pole_color: RGB = (0.35, 0.35, 0.35)

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError(f"unknown gate profile {self.profile!r}; profiles are {', '.join(PROFILES)}")
        if not 0.02 <= self.bar_width_m <= 0.25 or not 0.01 <= self.bar_depth_m <= 0.25:
            raise ValueError(f"bar width/depth out of range: {self.bar_width_m}, {self.bar_depth_m}")
        if not 0.85 <= self.opening_scale <= 1.15:
            raise ValueError(f"opening_scale {self.opening_scale} outside 0.85-1.15 (it must keep its size class)")

    def shade(self, color: str) -> RGB:
        return dict(self.shades)[color]


@dataclass(frozen=True)
class BillboardLook:
    art: str = "openmoji"
    font: str = "pillow-default"
    ink: tuple[int, int, int] = INKS[0]
    paper: tuple[int, int, int] = PAPERS[0]
    border: tuple[int, int, int] = (30, 30, 30)
    border_frac: float = 0.04
    stroke: float = 0.06  # glyph thickening (share of the glyph size); 0.06 makes every font bold
    size_m: float = 1.8
    bottom_m: float = 2.15
    backing: RGB = (0.15, 0.15, 0.15)


@dataclass(frozen=True)
class Look:
    name: str = "classic"
    seed: int = 0
    camera: CameraLook = field(default_factory=CameraLook)
    scene: SceneLook = field(default_factory=SceneLook)
    light: LightLook = field(default_factory=LightLook)
    gates: GateLook = field(default_factory=GateLook)
    billboard: BillboardLook = field(default_factory=BillboardLook)

    @property
    def is_classic(self) -> bool:
        return self.scene.kind == "classic"

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict) -> "Look":
        return _from_dict(cls, d)

    def digest(self) -> str:
        """A short stable id of the look's values (for caches and logs)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def _from_dict(cls, d):
    """Rebuild a (nested) frozen dataclass from its asdict() form; unknown keys are refused."""
    if not isinstance(d, dict):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(d).__name__}")
    known = {f.name: f for f in fields(cls)}
    extra = set(d) - set(known)
    if extra:
        raise ValueError(f"{cls.__name__}: unknown field(s) {', '.join(sorted(extra))}")
    kwargs = {}
    for name, value in d.items():
        sub = _NESTED.get((cls, name))
        if sub is LensParams:
            kwargs[name] = LensParams.from_dict(value)
        elif sub is not None:
            kwargs[name] = _from_dict(sub, value)
        elif name == "distractors":
            kwargs[name] = tuple(_from_dict(Distractor, v) for v in value)
        elif name == "shades":
            kwargs[name] = tuple((str(c), tuple(float(x) for x in rgb)) for c, rgb in value)
        elif isinstance(value, list):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


_NESTED = {
    (Look, "camera"): CameraLook, (Look, "scene"): SceneLook, (Look, "light"): LightLook,
    (Look, "gates"): GateLook, (Look, "billboard"): BillboardLook, (CameraLook, "lens"): LensParams,
    (SceneLook, "floor"): Material, (SceneLook, "walls"): Material,
}


# ------------------------------------------------------------------------------------- sampling
def _rng(name: str, seed: int) -> np.random.Generator:
    salt = int.from_bytes(hashlib.sha256(f"cognitivedrone-look:{name}".encode()).digest()[:8], "little")
    return np.random.default_rng([salt, int(seed)])


def _hsv(h: float, s: float, v: float) -> RGB:
    import colorsys

    return tuple(round(float(x), 4) for x in colorsys.hsv_to_rgb(h % 1.0, s, v))


def _uniform(rng, lo_hi) -> float:
    return float(rng.uniform(*lo_hi))


def _bands(rng, bands) -> float:
    """Uniform over a union of intervals."""
    widths = np.array([b - a for a, b in bands])
    a, b = bands[int(rng.choice(len(bands), p=widths / widths.sum()))]
    return float(rng.uniform(a, b))


_GATE_HUES = {"red": 0.0, "green": 125.0, "blue": 225.0}


def _gate_shades(rng) -> tuple[tuple[str, RGB], ...]:
    out = []
    for name in GATE_COLORS:
        h = (_GATE_HUES[name] + rng.uniform(-RANGES["gate_hue_deg"], RANGES["gate_hue_deg"])) / 360.0
        out.append((name, _hsv(h, _uniform(rng, RANGES["gate_saturation"]), _uniform(rng, RANGES["gate_value"]))))
    return tuple(out)


def _material(rng, patterns, dark: bool = False) -> Material:
    pattern = str(rng.choice(patterns))
    h = rng.uniform(0, 1)
    s = rng.uniform(0.0, 0.6) if rng.uniform() < 0.7 else rng.uniform(0.0, 0.15)
    v = rng.uniform(0.25, 0.55) if dark else rng.uniform(0.35, 0.9)
    a = _hsv(h, s, v)
    contrast = rng.uniform(0.08, 0.35)
    b = _hsv(h + rng.uniform(-0.05, 0.05), s * rng.uniform(0.6, 1.2), max(0.05, v - contrast))
    period = 2.0 / int(rng.integers(1, 9))  # divides the floor texture's 2 m tile
    return Material(pattern, a, b, round(period, 4))


def _light_color(rng) -> RGB:
    return _hsv(rng.uniform(0, 1), rng.uniform(0, RANGES["light_tint"]), 1.0)


def _distractors(rng, n: int) -> tuple[Distractor, ...]:
    out = []
    for _ in range(n):
        kind = str(rng.choice(DISTRACTOR_KINDS))
        gate_color = None
        if kind in ("ring", "panel", "box") and rng.uniform() < 0.5:
            gate_color = str(rng.choice(GATE_COLORS))
            color = _gate_shades(rng)[GATE_COLORS.index(gate_color)][1]
        else:
            color = _hsv(rng.uniform(0, 1), rng.uniform(0, 0.8), rng.uniform(0.2, 0.95))
        out.append(Distractor(kind, color, round(float(rng.uniform(0.3, 1.2)), 3), gate_color))
    return tuple(out)


def _lens(rng, render_size: int) -> LensParams:
    r = RANGES
    return LensParams(
        exposure=round(float(math.exp(rng.uniform(*np.log(r["exposure"])))), 4),
        gamma=round(_uniform(rng, r["gamma"]), 4),
        white_balance=tuple(round(_uniform(rng, r["white_balance"]), 4) for _ in range(3)),
        vignette=round(_uniform(rng, r["vignette"]), 4),
        defocus_px=round(_uniform(rng, r["defocus_px"]), 3) if rng.uniform() < 0.4 else 0.0,
        motion_blur_px=round(_uniform(rng, r["motion_blur_px"]), 3) if rng.uniform() < 0.4 else 0.0,
        motion_angle_deg=round(float(rng.uniform(0, 180)), 2),
        noise_std=round(_uniform(rng, r["noise_std"]), 3),
        noise_shot=round(_uniform(rng, r["noise_shot"]), 3),
        jpeg_quality=int(rng.integers(r["jpeg_quality"][0], r["jpeg_quality"][1] + 1)) if rng.uniform() < 0.5 else None,
    )


def _fonts_by_class(font_class: str) -> list[str]:
    from cognitivedrone.tasks.assets import FONTS  # the texture layer owns the font registry

    return sorted(n for n, f in FONTS.items() if f.family_class == font_class and f.family not in HELD_OUT["font_family"])


def _randomized(seed: int) -> Look:
    """The training distribution: every axis drawn from RANGES."""
    rng = _rng("randomized", seed)
    r = RANGES
    render_size = int(rng.choice(r["render_size"]))
    camera = CameraLook(round(_bands(rng, r["fov_deg"]), 3), round(_uniform(rng, r["pitch_deg"]), 3), render_size,
                        _lens(rng, render_size))
    kind = str(rng.choice(r["scene_kind"]))
    if kind == "hall":
        half, height = _uniform(rng, r["hall_half_width_m"]), _uniform(rng, r["hall_height_m"])
    else:
        half, height = _uniform(rng, r["room_half_width_m"]), _uniform(rng, r["room_height_m"])
    sky_h = rng.uniform(0.5, 0.7)
    sky_top = _hsv(sky_h, rng.uniform(0.0, 0.7), rng.uniform(0.6, 1.0))
    sky_horizon = _hsv(sky_h + rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.3), rng.uniform(0.75, 1.0))
    scene = SceneLook(
        kind=kind, floor=_material(rng, r["floor_pattern"], dark=rng.uniform() < 0.3),
        walls=_material(rng, r["wall_pattern"]), ceiling=_hsv(rng.uniform(0, 1), rng.uniform(0, 0.2), rng.uniform(0.5, 0.95)),
        sky_top=sky_top, sky_horizon=sky_horizon, half_width_m=round(half, 3), height_m=round(height, 3),
        distractors=_distractors(rng, int(rng.integers(r["distractors"][0], r["distractors"][1] + 1))),
        placement_seed=int(rng.integers(2**31)))
    az = rng.uniform(-math.pi, math.pi)
    el = _uniform(rng, r["light_elevation"])
    light = LightLook(direction=tuple(round(float(v), 4) for v in (math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el))),
                      color=_light_color(rng), ambient=round(_uniform(rng, r["ambient"]), 4),
                      diffuse=round(_uniform(rng, r["diffuse"]), 4), specular=round(float(rng.uniform(0.0, 0.3)), 4),
                      shadows=bool(rng.uniform() < r["shadows"]))
    profile = str(rng.choice(r["profile"]))
    width = _uniform(rng, r["bar_width_m"])
    depth = _uniform(rng, (0.01, 0.05)) if profile == "flat" else (width if profile == "tube" else _uniform(rng, r["bar_depth_m"]))
    gates = GateLook(bar_width_m=round(width, 4), bar_depth_m=round(depth, 4), profile=profile,
                     poles=bool(rng.uniform() < r["poles"]), opening_scale=round(_uniform(rng, r["opening_scale"]), 4),
                     shades=_gate_shades(rng), pole_color=_hsv(rng.uniform(0, 1), rng.uniform(0, 0.3), rng.uniform(0.2, 0.8)))
    paper = PAPERS[int(rng.integers(len(PAPERS)))]
    inks = [i for i in INKS if sum(abs(a - b) for a, b in zip(i, paper)) > 300]
    fonts = _fonts_by_class(str(rng.choice(r["font_class"])))
    billboard = BillboardLook(
        art=str(rng.choice(r["art"])), font=str(rng.choice(fonts)), ink=inks[int(rng.integers(len(inks)))], paper=paper,
        border=INKS[int(rng.integers(len(INKS)))], border_frac=float(rng.choice(r["border_frac"])),
        stroke=float(rng.choice(r["stroke"])),
        size_m=round(_uniform(rng, r["billboard_size_m"]), 3), bottom_m=round(_uniform(rng, r["billboard_bottom_m"]), 3),
        backing=_hsv(rng.uniform(0, 1), rng.uniform(0, 0.5), rng.uniform(0.1, 0.9)))
    return Look("randomized", int(seed), camera, scene, light, gates, billboard)


def _studio(seed: int) -> Look:
    """A grey studio room seen by a RealSense-like ~69 deg camera; printed serif fonts and an
    art style no training run sees."""
    rng = _rng("studio", seed)
    grey = round(float(rng.uniform(0.55, 0.7)), 3)
    return Look(
        "studio", int(seed),
        CameraLook(round(float(rng.uniform(67.0, 71.0)), 3), round(float(rng.uniform(-2.0, 4.0)), 3), 160,
                   LensParams(noise_std=2.0, noise_shot=0.3, jpeg_quality=85, vignette=0.15)),
        SceneLook("room", floor=Material("concrete", (grey, grey, grey), (grey - 0.12,) * 3, 1.0),
                  walls=Material("concrete", (0.72, 0.72, 0.72), (0.62, 0.62, 0.62), 2.0), ceiling=(0.8, 0.8, 0.8),
                  half_width_m=8.0, height_m=5.0, placement_seed=int(rng.integers(2**31))),
        LightLook(direction=(0.2, 0.3, 0.93), ambient=0.55, diffuse=0.4, specular=0.05),
        GateLook(bar_width_m=0.05, bar_depth_m=0.03, profile="flat", poles=True, pole_color=(0.2, 0.2, 0.2)),
        BillboardLook(art="twemoji", font=_heldout_font(rng), ink=INKS[0], paper=(245, 245, 245), border_frac=0.02, stroke=0.0,
                      size_m=1.6, bottom_m=2.3, backing=(0.3, 0.3, 0.3)),
    )


def _outdoor(seed: int) -> Look:
    """An open field on grass under a blue sky and a low sun with shadows; thin round tubes."""
    rng = _rng("outdoor", seed)
    az = rng.uniform(-math.pi, math.pi)
    return Look(
        "outdoor", int(seed),
        CameraLook(90.0, 8.0, 128, LensParams(exposure=1.1, white_balance=(1.05, 1.0, 0.92), noise_std=3.0, jpeg_quality=70)),
        SceneLook("field", floor=Material("grass", (0.30, 0.48, 0.18), (0.22, 0.36, 0.12), 1.0),
                  sky_top=(0.30, 0.52, 0.90), sky_horizon=(0.78, 0.86, 0.95),
                  distractors=_distractors(rng, 4), placement_seed=int(rng.integers(2**31))),
        LightLook(direction=(round(math.cos(az) * 0.8, 4), round(math.sin(az) * 0.8, 4), 0.6), color=(1.0, 0.97, 0.9),
                  ambient=0.5, diffuse=0.6, specular=0.1, shadows=True),
        GateLook(bar_width_m=0.07, bar_depth_m=0.07, profile="tube", poles=True, pole_color=(0.6, 0.6, 0.62)),
        BillboardLook(art="noto", font="dejavu-sans-bold" if "dejavu-sans-bold" in _all_fonts() else "pillow-default",
                      ink=INKS[0], paper=PAPERS[1], border_frac=0.0, size_m=2.0, bottom_m=2.4, backing=(0.45, 0.3, 0.15)),
    )


def _dim(seed: int) -> Look:
    """A dim hall under warm sodium light: noisy, compressed frames from a wide camera."""
    rng = _rng("dim", seed)
    return Look(
        "dim", int(seed),
        CameraLook(100.0, 5.0, 128, LensParams(exposure=0.8, gamma=1.1, noise_std=7.0, noise_shot=0.8, jpeg_quality=40,
                                               vignette=0.4)),
        SceneLook("hall", floor=Material("tiles", (0.35, 0.33, 0.3), (0.25, 0.24, 0.22), 1.0),
                  walls=Material("plain", (0.45, 0.42, 0.4), (0.4, 0.38, 0.36), 1.0), ceiling=(0.3, 0.3, 0.3),
                  half_width_m=13.0, height_m=8.0, distractors=_distractors(rng, 5), placement_seed=int(rng.integers(2**31))),
        LightLook(direction=(0.1, -0.2, 0.97), color=_hsv(0.09, 0.45, 1.0), ambient=0.35, diffuse=0.3, specular=0.05),
        GateLook(bar_width_m=0.1, bar_depth_m=0.1, profile="box", poles=False),
        BillboardLook(art="openmoji", font=_heldout_font(rng), ink=INKS[1], paper=PAPERS[2], border_frac=0.05, stroke=0.02,
                      size_m=1.8, bottom_m=2.2, backing=(0.1, 0.1, 0.1)),
    )


def _all_fonts() -> dict:
    from cognitivedrone.tasks.assets import FONTS

    return FONTS


def _heldout_font(rng) -> str:
    names = sorted(n for n, f in _all_fonts().items() if f.family in HELD_OUT["font_family"])
    if not names:  # pragma: no cover - the registry ships Computer Modern
        raise RuntimeError("no held-out font in the font registry")
    return names[int(rng.integers(len(names)))]


def _classic(seed: int) -> Look:
    """Today's world: white void, tinted purple checker floor, 106 deg camera, OpenMoji art."""
    return Look("classic", int(seed))


NAMED_LOOKS = {"classic": _classic, "randomized": _randomized, "studio": _studio, "outdoor": _outdoor, "dim": _dim}
HELD_OUT_LOOKS = ("studio", "outdoor", "dim")
TRAINING_LOOKS = ("classic", "randomized")


def look_names() -> tuple[str, ...]:
    return tuple(NAMED_LOOKS)


def sample_look(name: str, seed: int) -> Look:
    """The look `name` for this seed (the same on every machine)."""
    try:
        make = NAMED_LOOKS[name]
    except KeyError:
        raise ValueError(f"unknown look {name!r}; looks are {', '.join(NAMED_LOOKS)}") from None
    return make(int(seed))


def episode_look(name: str, look_seed: int, episode_seed: int) -> Look:
    """The look of one episode: a run's look seed and the episode's own seed, so every episode
    of a run gets its own draw and a rerun gets the same ones."""
    if name == "classic":
        return Look("classic", int(episode_seed))
    mixed = int.from_bytes(hashlib.sha256(f"{look_seed}:{episode_seed}".encode()).digest()[:4], "little")
    return sample_look(name, mixed)


def parse_look_mix(spec: str) -> list[tuple[str, float]]:
    """"randomized" or "classic:1,randomized:3" -> [(name, weight)]. Held-out looks are refused:
    no training data may be drawn from them. ValueError names the problem."""
    out = []
    for part in (p.strip() for p in str(spec).split(",")):
        if not part:
            continue
        name, _, w = part.partition(":")
        if name not in NAMED_LOOKS:
            raise ValueError(f"unknown look {name!r}; training looks are {', '.join(TRAINING_LOOKS)}")
        if name in HELD_OUT_LOOKS:
            raise ValueError(f"{name!r} is a held-out look: no training data may be drawn from it")
        try:
            weight = float(w) if w else 1.0
        except ValueError:
            raise ValueError(f"weight {w!r} of {name!r} is not a number") from None
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"weight of {name!r} must be > 0, got {w}")
        out.append((name, weight))
    if not out:
        raise ValueError("name at least one look (e.g. randomized, or classic:1,randomized:3)")
    return out


def mixed_look(mix: list[tuple[str, float]], look_seed: int, seed: int) -> Look:
    """The look for `seed` from a training mix: a name drawn by the seed, then its draw."""
    names, weights = [n for n, _ in mix], np.array([w for _, w in mix], float)
    u = int.from_bytes(hashlib.sha256(f"look-mix:{look_seed}:{seed}".encode()).digest()[:8], "little") / 2**64
    name = names[min(int(np.searchsorted(np.cumsum(weights) / weights.sum(), u, side="right")), len(names) - 1)]
    return episode_look(name, look_seed, seed)


def with_camera(look: Look, **changes) -> Look:
    return replace(look, camera=replace(look.camera, **changes))


def without_lens(look: Look) -> Look:
    """The look rendered straight at the model's size, before any lens: what datasets store.
    Training puts a lens on each sample (`camera_effects`), a fresh draw every time, so the
    stored frames stay small (sensor noise does not compress) and one frame gives many cameras."""
    return with_camera(look, lens=LensParams(), render_size=None)


def training_lens(rng: np.random.Generator) -> tuple[LensParams, int]:
    """A lens and a render size drawn from `randomized`'s ranges."""
    render_size = int(rng.choice(RANGES["render_size"]))
    return _lens(rng, render_size), render_size


def camera_effects(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`image` (a clean render at the model's size) as a random camera of the randomized look
    delivers it: sampled at its render size, through its lens, back at the model's size."""
    from cognitivedrone.sim.lens import apply_lens

    lens, render_size = training_lens(rng)
    size = image.shape[0]
    if render_size != size:  # the detail a render_size camera has, delivered at `size`, as env.render_at does
        image = apply_lens(apply_lens(image, LensParams(out_size=render_size)), LensParams(out_size=size))
    return apply_lens(image, lens, rng)


def room_x_extent(scene) -> tuple[float, float]:
    """Where a room's back and front walls stand: the start (x ~ -1) and the gates (x 4-5)
    with room to turn and fly through."""
    return (-1.0 - 0.5 * scene.half_width_m, 5.0 + 0.75 * scene.half_width_m)
