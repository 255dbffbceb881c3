"""The billboard vocabulary and its textures (cognitivedrone.bench.assets)."""

from __future__ import annotations

import os
import re
import time
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from cognitivedrone.bench import assets
from cognitivedrone.bench.assets import (
    KINDS,
    VOCABULARY,
    Asset,
    UnknownAssetError,
    cache_dir,
    contact_sheet,
    get_asset,
    list_assets,
    render_texture,
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
