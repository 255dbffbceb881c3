"""Episode videos: the drone's camera beside a top-down map, with the instruction below.

    frame = compose_frame(fpv, draw_top_view(gates, positions, yaw, target), caption, status)
    write_episode_video(recording, "out/videos/ep-001.mp4")

The top view is drawn so it matches what the drone sees when it flies +x from the start:
world x points UP the image and world y points LEFT. Everything is drawn with PIL (no
matplotlib per frame); one frame costs about a millisecond.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cognitivedrone.bench.results import EpisodeRecording, GateMarker

DEFAULT_BOUNDS = (-3.0, 7.0, -6.0, 6.0)  # x_min, x_max, y_min, y_max (m)

GATE_RGB = {
    "red": (235, 60, 60),
    "green": (60, 205, 80),
    "blue": (70, 130, 255),
}
_BG = (24, 26, 32)
_GRID = (48, 52, 62)
_AXIS = (78, 84, 98)
_TRAIL = (250, 200, 70)
_DRONE = (255, 255, 255)
_TARGET = (255, 230, 90)
_TEXT = (225, 228, 235)
_DIM_TEXT = (150, 156, 170)
_OK = (110, 230, 120)
_BAD = (255, 110, 100)

CAPTION_LINES = 3  # the caption strip has a fixed height so every frame of a video has one size
FONT_SIZE = 14


@functools.lru_cache(maxsize=8)
def _font(size: int = FONT_SIZE) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


# --------------------------------------------------------------------------------------------
# top view


class _Map:
    """World (x, y) -> pixel (col, row): x up, y left, one scale for both axes, centred."""

    def __init__(self, size: int, bounds):
        x0, x1, y0, y1 = (float(b) for b in bounds)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"bounds must be (x_min, x_max, y_min, y_max) with min < max, got {bounds}")
        self.size = size
        self.bounds = (x0, x1, y0, y1)
        self.scale = size / max(x1 - x0, y1 - y0)  # px per metre
        self.col0 = (size - (y1 - y0) * self.scale) / 2.0
        self.row0 = (size - (x1 - x0) * self.scale) / 2.0
        self.x1, self.y1 = x1, y1

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return (self.col0 + (self.y1 - y) * self.scale, self.row0 + (self.x1 - x) * self.scale)


def world_to_pixel(x: float, y: float, size: int = 256, bounds=DEFAULT_BOUNDS) -> tuple[int, int]:
    """(col, row) of world point (x, y) in a `draw_top_view` image of that size and bounds."""
    c, r = _Map(size, bounds)(x, y)
    return int(round(c)), int(round(r))


@functools.lru_cache(maxsize=16)
def _base_map(size: int, bounds: tuple) -> Image.Image:
    """Background, 1 m grid, axes through the origin and a 1 m scale bar; cached per size/bounds."""
    m = _Map(size, bounds)
    x0, x1, y0, y1 = m.bounds
    img = Image.new("RGB", (size, size), _BG)
    d = ImageDraw.Draw(img)
    # extend the grid over the padded margin too (the image is square, the bounds need not be)
    half_extent = size / m.scale
    gx0, gx1 = math.floor((x0 + x1) / 2 - half_extent), math.ceil((x0 + x1) / 2 + half_extent)
    gy0, gy1 = math.floor((y0 + y1) / 2 - half_extent), math.ceil((y0 + y1) / 2 + half_extent)
    for gx in range(gx0, gx1 + 1):
        _, r = m(gx, 0.0)
        d.line([(0, r), (size, r)], fill=_AXIS if gx == 0 else _GRID, width=1)
    for gy in range(gy0, gy1 + 1):
        c, _ = m(0.0, gy)
        d.line([(c, 0), (c, size)], fill=_AXIS if gy == 0 else _GRID, width=1)
    # scale bar, bottom right
    font = _font(max(9, size // 24))
    bar = m.scale
    right = size - 8
    bottom = size - 8
    d.rectangle([right - bar - 3, bottom - 17, right + 3, bottom + 3], fill=_BG)
    d.line([(right - bar, bottom), (right, bottom)], fill=_TEXT, width=2)
    d.line([(right - bar, bottom - 4), (right - bar, bottom)], fill=_TEXT, width=1)
    d.line([(right, bottom - 4), (right, bottom)], fill=_TEXT, width=1)
    d.text((right - bar / 2, bottom - 3), "1 m", fill=_TEXT, font=font, anchor="mb")
    return img


def _drone_triangle(c: float, r: float, yaw: float, scale: float) -> list[tuple[float, float]]:
    # in image coordinates a world heading yaw points to (-sin yaw, -cos yaw) (col, row)
    length = max(10.0, 0.7 * scale)
    fx, fy = -math.sin(yaw), -math.cos(yaw)
    lx, ly = -fy, fx  # perpendicular
    tip = (c + fx * length * 0.65, r + fy * length * 0.65)
    back = (c - fx * length * 0.35, r - fy * length * 0.35)
    w = length * 0.4
    return [tip, (back[0] + lx * w, back[1] + ly * w), (back[0] - lx * w, back[1] - ly * w)]


def draw_top_view(
    gates: list[GateMarker],
    positions,
    yaw: float | None,
    target_index: int,
    size: int = 256,
    bounds=DEFAULT_BOUNDS,
) -> np.ndarray:
    """A top-down map as uint8 (size, size, 3): world x up, world y to the LEFT.

    Gates are thick segments across their opening in their colour, numbered 1..3; the target
    gate has a ring; `positions` (world (x, y[, z]) so far) are the trail; the drone (last
    position) is a triangle pointing along `yaw` (or along its last motion when yaw is None).
    """
    bounds = tuple(float(b) for b in bounds)
    m = _Map(size, bounds)
    img = _base_map(size, bounds).copy()
    d = ImageDraw.Draw(img)
    s = m.scale

    pts = [] if positions is None else [(float(p[0]), float(p[1])) for p in positions]
    pix = [m(x, y) for x, y in pts]
    if len(pix) >= 2:
        d.line(pix, fill=_TRAIL, width=2, joint="curve")

    font = _font(max(9, size // 22))
    gate_w = max(3, int(round(0.22 * s)))
    for i, g in enumerate(gates):
        c, r = m(g.x, g.y)
        # the opening runs perpendicular to the facing yaw: world direction (-sin, cos)
        ex, ey = -math.sin(g.yaw) * g.half_width, math.cos(g.yaw) * g.half_width
        a, b = m(g.x + ex, g.y + ey), m(g.x - ex, g.y - ey)
        rgb = GATE_RGB.get(str(g.color).lower(), (200, 200, 200))
        if i == target_index:
            rad = g.half_width * s + 0.35 * s + 3
            d.ellipse([c - rad, r - rad, c + rad, r + rad], outline=_TARGET, width=2)
        d.line([a, b], fill=rgb, width=gate_w)
        # number just beyond the gate (the far side along its facing direction)
        fx, fy = -math.sin(g.yaw), -math.cos(g.yaw)
        off = (g.half_width + 0.35) * s + 10 if i == target_index else 0.45 * s + 6
        d.text((c + fx * off, r + fy * off), str(i + 1), fill=_TARGET if i == target_index else _TEXT,
               font=font, anchor="mm")

    if pix:
        c, r = pix[-1]
        heading = yaw
        if heading is None and len(pts) >= 2:
            dx, dy = pts[-1][0] - pts[-2][0], pts[-1][1] - pts[-2][1]
            heading = math.atan2(dy, dx) if (dx or dy) else None
        if heading is None:
            rad = max(3.0, 0.15 * s)
            d.ellipse([c - rad, r - rad, c + rad, r + rad], fill=_DRONE, outline=(0, 0, 0))
        else:
            d.polygon(_drone_triangle(c, r, float(heading), s), fill=_DRONE, outline=(0, 0, 0))

    return np.asarray(img, dtype=np.uint8).copy()


# --------------------------------------------------------------------------------------------
# frames


def _as_rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = np.clip(a * 255.0 if a.dtype.kind == "f" and a.size and a.max() <= 1.0 else a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[2] == 4:
        a = a[:, :, :3]
    elif a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return a


def _upscale_nearest(a: np.ndarray, height: int) -> np.ndarray:
    h, w = a.shape[:2]
    if h == height:
        return a
    if height % h == 0:
        f = height // h
        return a.repeat(f, axis=0).repeat(f, axis=1)
    width = max(1, int(round(w * height / h)))
    return np.asarray(Image.fromarray(a).resize((width, height), Image.NEAREST))


@functools.lru_cache(maxsize=64)
def _wrap(text: str, width_px: int, max_lines: int, font_size: int) -> tuple[str, ...]:
    """Greedy word wrap to `width_px`; at most `max_lines`, the last one ending in '…' if cut."""
    font = _font(font_size)
    words = text.split()
    lines: list[str] = []
    cur = ""
    for word in words:
        trial = f"{cur} {word}" if cur else word
        if font.getlength(trial) <= width_px or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    # break single words longer than the line
    out: list[str] = []
    for line in lines:
        while font.getlength(line) > width_px and len(line) > 1:
            cut = len(line)
            while cut > 1 and font.getlength(line[:cut]) > width_px:
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    if len(out) > max_lines:
        last = out[max_lines - 1]
        while last and font.getlength(last + "…") > width_px:
            last = last[:-1]
        out = out[: max_lines - 1] + [last.rstrip() + "…"]
    return tuple(out)


def compose_frame(
    fpv: np.ndarray,
    top: np.ndarray,
    caption: str,
    status: str,
    *,
    status_color: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """FPV (nearest-neighbour upscaled to the top view's height) | top view, over a caption strip.

    The caption is wrapped to at most CAPTION_LINES lines; the status line sits under it. The
    strip height does not depend on the text, so frames of one video share a size.
    """
    top = _as_rgb(top)
    H = top.shape[0]
    cam = _upscale_nearest(_as_rgb(fpv), H)
    gap = 4
    W = cam.shape[1] + gap + top.shape[1]
    caption_strip = _caption_strip(str(caption), W)
    canvas = np.empty((H + caption_strip.shape[0] + _STATUS_H, W, 3), dtype=np.uint8)
    canvas[:H] = _STRIP_BG
    canvas[:H, : cam.shape[1]] = cam
    canvas[:H, cam.shape[1] + gap :] = top
    canvas[H : H + caption_strip.shape[0]] = caption_strip

    status_img = Image.new("RGB", (W, _STATUS_H), _STRIP_BG)
    ImageDraw.Draw(status_img).text((_PAD, 2), str(status), fill=status_color or _DIM_TEXT, font=_font(FONT_SIZE))
    canvas[H + caption_strip.shape[0] :] = np.asarray(status_img)
    return canvas


_STRIP_BG = (12, 13, 16)
_PAD = 6
_LINE_H = FONT_SIZE + 4
_STATUS_H = _LINE_H + _PAD


@functools.lru_cache(maxsize=32)
def _caption_strip(caption: str, width: int) -> np.ndarray:
    """The wrapped caption over a rule, fixed height; cached since it repeats frame after frame."""
    h = _PAD + CAPTION_LINES * _LINE_H + 4
    img = Image.new("RGB", (width, h), _STRIP_BG)
    d = ImageDraw.Draw(img)
    font = _font(FONT_SIZE)
    y = _PAD
    for line in _wrap(caption, width - 2 * _PAD, CAPTION_LINES, FONT_SIZE):
        d.text((_PAD, y), line, fill=_TEXT, font=font)
        y += _LINE_H
    d.line([(_PAD, h - 2), (width - _PAD, h - 2)], fill=(50, 54, 64), width=1)
    arr = np.asarray(img, dtype=np.uint8).copy()
    arr.setflags(write=False)
    return arr


# --------------------------------------------------------------------------------------------
# video


def _even(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    ph, pw = h % 2, w % 2
    if ph or pw:
        a = np.pad(a, ((0, ph), (0, pw), (0, 0)), mode="edge")
    return a


def _outcome_text(outcome: str) -> str:
    return "SUCCESS" if outcome == "success" else f"FAILED: {outcome.replace('_', ' ')}"


def write_episode_video(rec: EpisodeRecording, path: str | Path, fps: float | None = None) -> Path:
    """Write `rec` as an H.264 mp4 (yuv420p, even dimensions) and return its path.

    One video frame per policy decision, played at rec.control_hz (real time) unless `fps` is
    given; the last frame is then held for about one second with the outcome shown.
    """
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fps = float(fps if fps is not None else rec.control_hz)
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"video fps must be positive, got {fps}")
    hz = float(rec.control_hz) if rec.control_hz and rec.control_hz > 0 else fps

    n = max(len(rec.fpv), len(rec.positions))
    blank = np.zeros_like(_as_rgb(rec.fpv[0])) if rec.fpv else np.zeros((128, 128, 3), np.uint8)
    hold = max(1, int(round(fps)))
    ok = rec.outcome == "success"
    target = f"target: gate {rec.target_index + 1}"

    def frame(i: int, final: bool) -> np.ndarray:
        fpv = rec.fpv[i] if 0 <= i < len(rec.fpv) else blank
        trail = rec.positions[: i + 1] if i >= 0 else []
        yaw = rec.yaws[i] if 0 <= i < len(rec.yaws) else None
        top = draw_top_view(rec.gates, trail, yaw, rec.target_index, size=256)
        caption = rec.captions[i] if 0 <= i < len(rec.captions) and rec.captions[i] else rec.prompt
        t = max(i, 0) / hz
        if final:
            status = f"{rec.episode_id}   t = {t:5.2f} s   {target}   {_outcome_text(rec.outcome)}"
            color = _OK if ok else _BAD
        else:
            status = f"{rec.episode_id}   t = {t:5.2f} s   {target}"
            color = None
        return _even(compose_frame(fpv, top, caption, status, status_color=color))

    writer = imageio.get_writer(
        str(path),
        format="FFMPEG",
        mode="I",
        fps=fps,
        codec="libx264",
        pixelformat="yuv420p",
        macro_block_size=1,
        ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"],
    )
    try:
        for i in range(n):
            writer.append_data(frame(i, final=False))
        last = frame(n - 1, final=True)  # n == 0: the start layout, no drone
        for _ in range(hold):
            writer.append_data(last)
    finally:
        writer.close()
    return path
