#!/usr/bin/env python3
"""Fetch the billboard art styles and fonts from npm into ``cognitivedrone/sim_assets/`` (maintainers only).

Nothing at run time or in CI downloads pictures: this script takes the pinned npm packages of
``cognitivedrone.tasks.assets.ART_STYLES`` and ``FONTS``, keeps only what the vocabulary
needs, and writes it into the repository, to be committed:

* ``sim_assets/art/<style>/<kind>__<name>.(svg|svgz|png)``: one picture per emoji-kind asset,
  found by the Unicode code points of its vocabulary ``source`` (skin tones, ZWJ sequences and
  flags included; only FE0F, a presentation selector, may differ), plus ``SOURCE.json``
  (package, version, tarball integrity, licence, per-file code points and sha256, and the
  vocabulary ids the set lacks);
* ``sim_assets/fonts/<font>/``: the Latin-subset ``.woff`` and the package's LICENSE, listed
  with hashes in ``sim_assets/fonts/SOURCE.json``.

Usage::

    python scripts/fetch_art.py               # npm pack + write (needs node/npm and the network)
    python scripts/fetch_art.py --only noto   # some styles / fonts only
    python scripts/fetch_art.py --check       # offline: committed files match SOURCE.json

Iconify JSON sets (``@iconify-json/*``) hold every SVG body in one ``icons.json`` and map code
points to icon names in ``chars.json`` (``fluent-emoji`` ships an empty ``chars.json``; its
icon names are those of ``fluent-emoji-flat``, whose ``chars.json`` is used). The 3-D set
ships 256-px WebP renders: they are cropped to the drawn area and stored as 128-px PNGs.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw

from cognitivedrone.tasks import assets
from cognitivedrone.tasks.assets import ART_STYLES, FONTS, ArtSet, FontSpec

FONT_DIR = assets.FONT_DIR
PNG_PX = 128
GLYPHS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: How each committed art style is extracted from its package.
EXTRACT = {
    "noto": {"kind": "iconify"},
    "twemoji": {"kind": "iconify"},
    "fluent": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "fluent-flat": {"kind": "iconify"},
    "fluent3d": {"kind": "images", "pattern": re.compile(r"^package/assets/([0-9a-f-]+)\.webp$")},
    "fxemoji": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "emojione": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "streamline": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "noto-v1": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "emojione-v1": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "emojione-mono": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
    "fluent-hc": {"kind": "iconify", "chars_from": ("@iconify-json/fluent-emoji-flat", "1.2.6")},
}


# ----------------------------------------------------------------------------- helpers


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def emoji_assets() -> list[assets.Asset]:
    return [a for a in assets.VOCABULARY.values() if a.source.startswith("openmoji:")]


def codepoints(asset: assets.Asset) -> str:
    """The asset's code point sequence, lower-case hex joined by '-' (as in the vocabulary)."""
    return asset.source[len("openmoji:"):].lower()


def no_fe0f(seq: str) -> str:
    return "-".join(c for c in seq.split("-") if c != "fe0f")


def find_sequence(seq: str, available: dict[str, str]) -> str | None:
    """The key of ``available`` for this code point sequence: exact, else equal up to FE0F.
    Skin-tone modifiers, ZWJ and regional indicators must match exactly."""
    if seq in available:
        return seq
    want = no_fe0f(seq)
    for key in sorted(available):
        if no_fe0f(key) == want:
            return key
    return None


def npm_pack(package: str, version: str, dest: Path) -> tuple[Path, dict]:
    """``npm pack package@version`` into dest; returns the tarball and npm's metadata."""
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(dest)],
        check=True, capture_output=True, text=True,
    ).stdout
    meta = json.loads(out[out.index("["):])[0]
    if meta.get("version") != version:
        raise SystemExit(f"npm gave {package}@{meta.get('version')}, pinned {version}")
    return dest / meta["filename"], {"integrity": meta.get("integrity"), "shasum": meta.get("shasum")}


def read_member(tar: tarfile.TarFile, name: str) -> bytes:
    f = tar.extractfile(name)
    if f is None:
        raise SystemExit(f"{name} missing from the package")
    return f.read()


def package_licence(tar: tarfile.TarFile) -> str:
    return str(json.loads(read_member(tar, "package/package.json")).get("license"))


def write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def replace_folder(staging: Path, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(staging, folder)


# ----------------------------------------------------------------------------- art


def iconify_svg(icons: dict, name: str) -> str:
    """A standalone square SVG for an Iconify icon (aliases resolved, viewBox padded to square)."""
    props: dict = {}
    transforms: list[dict] = []
    seen = set()
    while name in icons.get("aliases", {}):
        if name in seen:
            raise SystemExit(f"alias loop at {name!r}")
        seen.add(name)
        alias = icons["aliases"][name]
        transforms.append({k: alias[k] for k in ("hFlip", "vFlip", "rotate") if k in alias})
        for k in ("width", "height", "left", "top"):
            props.setdefault(k, alias.get(k))
        name = alias["parent"]
    icon = icons["icons"][name]
    get = lambda k, default: next(v for v in (props.get(k), icon.get(k), icons.get(k), default) if v is not None)
    left, top = get("left", 0), get("top", 0)
    width, height = get("width", 16), get("height", 16)
    body = icon["body"]
    for t in filter(None, transforms):
        ops = []
        if t.get("hFlip"):
            ops.append(f"translate({2 * left + width} 0) scale(-1 1)")
        if t.get("vFlip"):
            ops.append(f"translate(0 {2 * top + height}) scale(1 -1)")
        if t.get("rotate"):
            ops.append(f"rotate({90 * t['rotate']} {left + width / 2} {top + height / 2})")
        body = f'<g transform="{" ".join(ops)}">{body}</g>'
    side = max(width, height)
    x0, y0 = left - (side - width) / 2, top - (side - height) / 2
    fmt = lambda v: f"{v:g}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="{fmt(x0)} {fmt(y0)} {fmt(side)} {fmt(side)}" width="{fmt(side)}" height="{fmt(side)}">'
        f"{body}</svg>\n"
    )


def check_svg_renders(svg: str, what: str) -> None:
    import resvg_py

    png = resvg_py.svg_to_bytes(svg_string=svg, width=64, height=64, skip_system_fonts=True)
    im = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    if im.getchannel("A").getbbox() is None:
        raise SystemExit(f"{what}: the SVG renders empty")


def square_png(data: bytes) -> bytes:
    """A raster picture cropped to its drawn area, padded square, at most PNG_PX, as PNG."""
    with Image.open(io.BytesIO(data)) as im:
        art = im.convert("RGBA")
    bbox = art.getchannel("A").point(lambda v: 255 if v > 8 else 0).getbbox()
    if bbox is None:
        raise SystemExit("a raster picture is empty")
    art = art.crop(bbox)
    side = max(art.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(art, ((side - art.width) // 2, (side - art.height) // 2))
    if side > PNG_PX:
        square = square.resize((PNG_PX, PNG_PX), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    square.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def fetch_art(spec: ArtSet, tmp: Path) -> dict:
    how = EXTRACT[spec.name]
    tarball, tar_meta = npm_pack(spec.package, spec.version, tmp)
    staging = tmp / f"stage-{spec.name}"
    staging.mkdir()
    files: dict[str, dict] = {}
    missing: list[str] = []
    extra_packages = []
    with tarfile.open(tarball, "r:gz") as tar:
        declared = {"package.json": package_licence(tar)}
        if how["kind"] == "iconify":
            info = json.loads(read_member(tar, "package/info.json"))
            declared["info.json"] = info.get("license", {}).get("spdx")
            icons = json.loads(read_member(tar, "package/icons.json"))
            if "chars_from" in how:
                other, version = how["chars_from"]
                other_tar, other_meta = npm_pack(other, version, tmp)
                with tarfile.open(other_tar, "r:gz") as t2:
                    chars = json.loads(read_member(t2, "package/chars.json"))
                extra_packages.append({"package": other, "version": version, "used_for": "chars.json", **other_meta})
            else:
                chars = json.loads(read_member(tar, "package/chars.json"))
            available = {k.lower(): v for k, v in chars.items()
                         if v in icons["icons"] or v in icons.get("aliases", {})}
        else:
            members = {}
            for m in tar.getmembers():
                match = how["pattern"].match(m.name)
                if match and m.isfile():
                    members[match.group(1)] = m.name
            available = members
        ext = {"svg": "svg", "svgz": "svgz", "png": "png"}[spec.format]
        for a in emoji_assets():
            key = find_sequence(codepoints(a), available)
            if key is None:
                missing.append(a.id)
                continue
            if how["kind"] == "iconify":
                svg = iconify_svg(icons, available[key])
                check_svg_renders(svg, f"{spec.name} {a.id}")
                data = svg.encode("utf-8") if ext == "svg" else gzip.compress(svg.encode("utf-8"), 9, mtime=0)
                entry = {"icon": available[key]}
            else:
                data = square_png(read_member(tar, available[key]))
                entry = {"member": available[key].removeprefix("package/")}
            name = f"{assets._safe_name(a.id)}.{ext}"
            (staging / name).write_bytes(data)
            files[a.id] = {**entry, "file": name, "codepoints": key, "sha256": sha256(data), "bytes": len(data)}
    bad = {k: v for k, v in declared.items() if v != spec.licence}
    if bad:
        raise SystemExit(f"{spec.name}: the package declares licence {bad}, registry says {spec.licence}")
    source = {
        "style": spec.name,
        "title": spec.title,
        "package": spec.package,
        "version": spec.version,
        "npm": f"https://www.npmjs.com/package/{spec.package}/v/{spec.version}",
        "tarball": tar_meta,
        "extra_packages": extra_packages,
        "licence": spec.licence,
        "licence_declared_by": declared,
        "url": spec.url,
        "format": spec.format,
        "size_px": PNG_PX if spec.format == "png" else None,
        "generated_by": "scripts/fetch_art.py",
        "files": files,
        "missing": missing,
    }
    write_json(staging / "SOURCE.json", source)
    replace_folder(staging, spec.folder)
    total = sum(f["bytes"] for f in files.values())
    print(f"art {spec.name:12s} {len(files):4d} pictures, {total / 1e6:5.2f} MB, missing {len(missing)}: {missing}")
    return source


# ----------------------------------------------------------------------------- fonts


def npm_font(spec: FontSpec) -> tuple[str, str]:
    m = re.fullmatch(r"npm (@fontsource/[a-z0-9-]+)@(\S+)", spec.source)
    if not m:
        raise SystemExit(f"font {spec.name}: source {spec.source!r} is not an npm fontsource package")
    return m.group(1), m.group(2)


def committed_fonts() -> list[FontSpec]:
    return [f for f in FONTS.values() if f.location.startswith("sim_assets:")]


def check_glyphs(path: Path, what: str) -> None:
    from PIL import ImageFont

    font = ImageFont.truetype(str(path), 64, layout_engine=ImageFont.Layout.BASIC)
    for ch in GLYPHS:
        im = Image.new("L", (160, 160), 0)
        ImageDraw.Draw(im).text((40, 20), ch, font=font, fill=255)
        if im.getbbox() is None:
            raise SystemExit(f"{what}: glyph {ch!r} has no ink")


def fetch_font(spec: FontSpec, tmp: Path) -> dict:
    package, version = npm_font(spec)
    tarball, tar_meta = npm_pack(package, version, tmp)
    file = Path(spec.location.partition(":")[2]).name
    staging = tmp / f"font-{spec.name}"
    staging.mkdir()
    with tarfile.open(tarball, "r:gz") as tar:
        declared = package_licence(tar)
        if declared != spec.licence:
            raise SystemExit(f"font {spec.name}: the package declares {declared}, registry says {spec.licence}")
        data = read_member(tar, f"package/files/{file}")
        licence = read_member(tar, "package/LICENSE")
    (staging / file).write_bytes(data)
    (staging / "LICENSE").write_bytes(licence)
    check_glyphs(staging / file, spec.name)
    replace_folder(staging, FONT_DIR / spec.name)
    print(f"font {spec.name:18s} {len(data) / 1e3:6.1f} kB  {package}@{version} {declared}")
    return {
        "package": package,
        "version": version,
        "npm": f"https://www.npmjs.com/package/{package}/v/{version}",
        "tarball": tar_meta,
        "licence": declared,
        "family_class": spec.family_class,
        "file": file,
        "sha256": sha256(data),
        "licence_file": "LICENSE",
        "licence_sha256": sha256(licence),
    }


# ----------------------------------------------------------------------------- check


def check() -> list[str]:
    """Offline: every committed file matches its SOURCE.json, and SOURCE.json the registry."""
    problems: list[str] = []
    emoji_ids = {a.id for a in emoji_assets()}
    total = 0
    for spec in ART_STYLES.values():
        if spec.format == "openmoji":
            continue
        src_path = spec.folder / "SOURCE.json"
        if not src_path.is_file():
            problems.append(f"{src_path.relative_to(ROOT)} is missing")
            continue
        src = json.loads(src_path.read_text(encoding="utf-8"))
        for k in ("package", "version", "licence", "format"):
            if src.get(k) != getattr(spec, k):
                problems.append(f"art {spec.name}: SOURCE.json {k}={src.get(k)!r}, registry {getattr(spec, k)!r}")
        files, missing = src.get("files", {}), src.get("missing", [])
        if set(files) & set(missing) or set(files) | set(missing) != emoji_ids:
            problems.append(f"art {spec.name}: files + missing do not partition the vocabulary's emoji assets")
        listed = {"SOURCE.json"}
        for asset_id, f in files.items():
            listed.add(f["file"])
            p = spec.folder / f["file"]
            if not p.is_file():
                problems.append(f"art {spec.name}: {p.name} is missing")
                continue
            data = p.read_bytes()
            total += len(data)
            if sha256(data) != f["sha256"]:
                problems.append(f"art {spec.name}: {p.name} does not match its sha256")
            if no_fe0f(f["codepoints"]) != no_fe0f(codepoints(assets.get_asset(asset_id))):
                problems.append(f"art {spec.name}: {asset_id} drawn from {f['codepoints']}, not its code points")
        extra = sorted(p.name for p in spec.folder.iterdir() if p.name not in listed)
        if extra:
            problems.append(f"art {spec.name}: files not in SOURCE.json: {extra}")
    src_path = FONT_DIR / "SOURCE.json"
    if not src_path.is_file():
        problems.append(f"{src_path.relative_to(ROOT)} is missing")
    else:
        fonts = json.loads(src_path.read_text(encoding="utf-8")).get("fonts", {})
        wanted = {f.name: f for f in committed_fonts()}
        if set(fonts) != set(wanted):
            problems.append(f"fonts: SOURCE.json lists {sorted(fonts)}, registry {sorted(wanted)}")
        for name, spec in wanted.items():
            f = fonts.get(name)
            if f is None:
                continue
            package, version = npm_font(spec)
            if (f["package"], f["version"], f["licence"]) != (package, version, spec.licence):
                problems.append(f"font {name}: SOURCE.json disagrees with the registry")
            if spec.path() != FONT_DIR / name / f["file"]:
                problems.append(f"font {name}: registry path {spec.path()} is not SOURCE.json's file")
            for file, digest in ((f["file"], f["sha256"]), (f["licence_file"], f["licence_sha256"])):
                p = FONT_DIR / name / file
                if not p.is_file():
                    problems.append(f"font {name}: {file} is missing")
                    continue
                total += p.stat().st_size
                if sha256(p.read_bytes()) != digest:
                    problems.append(f"font {name}: {file} does not match its sha256")
            extra = sorted(p.name for p in (FONT_DIR / name).iterdir() if p.name not in (f["file"], f["licence_file"]))
            if extra:
                problems.append(f"font {name}: files not in SOURCE.json: {extra}")
        stray = sorted(p.name for p in FONT_DIR.iterdir() if p.is_dir() and p.name not in wanted)
        if stray:
            problems.append(f"fonts: folders not in the registry: {stray}")
    print(f"checked: {total / 1e6:.2f} MB of committed art and fonts")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="verify the committed files offline, fetch nothing")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these art styles / fonts")
    args = ap.parse_args(argv)
    if args.check:
        problems = check()
        for p in problems:
            print("PROBLEM:", p, file=sys.stderr)
        print("ok" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0

    arts = [s for s in ART_STYLES.values() if s.format != "openmoji"]
    fonts = committed_fonts()
    if args.only:
        known = {s.name for s in arts} | {f.name for f in fonts}
        unknown = sorted(set(args.only) - known)
        if unknown:
            ap.error(f"unknown names {unknown}; known: {sorted(known)}")
        arts = [s for s in arts if s.name in args.only]
        fonts = [f for f in fonts if f.name in args.only]
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed (node.js) to fetch; --check works without it")
    with tempfile.TemporaryDirectory(prefix="fetch_art.") as tmp:
        for spec in arts:
            fetch_art(spec, Path(tmp))
        if fonts:
            src_path = FONT_DIR / "SOURCE.json"
            existing = json.loads(src_path.read_text(encoding="utf-8")) if src_path.is_file() else {}
            entries = dict(existing.get("fonts", {}))
            for spec in fonts:
                entries[spec.name] = fetch_font(spec, Path(tmp))
            entries = {k: v for k, v in entries.items() if k in {f.name for f in committed_fonts()}}
            FONT_DIR.mkdir(parents=True, exist_ok=True)
            write_json(src_path, {"generated_by": "scripts/fetch_art.py", "fonts": entries})
            for stray in FONT_DIR.iterdir():  # fonts dropped from the registry
                if stray.is_dir() and stray.name not in entries:
                    shutil.rmtree(stray)
    problems = check()
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
