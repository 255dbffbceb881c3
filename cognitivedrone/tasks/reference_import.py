"""Import the reference system's task files into our suite format.

The reference data collector (CognitiveDrone, arXiv 2503.01378) describes each task type with
a JSON file: a list of entries

    {"prompt": "Fly through the gate with number equal 9*1",
     "prompt_simpler": "Fly through the big square blue gate with 9",
     "options": ["seven.dae", "nine.dae", "zero.dae"],      # one mesh per gate, gate order
     "correct": 2,                                          # 1-based
     "gates": [{"gate": "1", "size": "big", "shape": "triangle", "color": "red"}, x3],
     "background": "room"}

Some copies hold extra keys (``"reasoning"``, ``"prompt_after_reasoning"``, ``"task"``), which
are ignored, and some hold ``"gates"`` as an object keyed by gate number
(``{"1": {"size": ..., "shape": ..., "color": ...}, ...}``); both gate layouts are read.
The top level must be a list: the one-entry ``setup.json`` files written next to recordings
are not task files.

:func:`import_reference_files` turns such files into a :class:`~cognitivedrone.tasks.suite.Suite`.

Option names -> asset ids (:func:`map_option`)
-----------------------------------------------
The reference names an option by the mesh file shown on the gate. Folders and the extension
are dropped (``"Unhealthy/unhealthy_5.dae"`` -> ``unhealthy_5``), then the first rule that
applies wins:

1. a number word ``zero`` .. ``nine`` (any case) or a one-digit string -> ``digit:<n>``;
2. a single letter (any case) -> ``letter:<UPPER>``;
3. otherwise the name is looked up among every asset of the vocabulary, by asset name and
   then by asset label, after normalising both sides: lowercase, spaces / hyphens / dots ->
   ``_``. Variants tried, in order: the name as is; without a leading article (``a_``, ``an_``,
   ``the_``: ``an_umbrella`` -> ``umbrella``); without a trailing ``_<number>`` (the
   reference's duplicate meshes ``dog_1``, ``android_1``); each of those also without a
   plural ``s`` / ``es``, then with an ``s`` added; each also through the small alias table
   :data:`NAME_ALIASES` (``rhino`` -> ``rhinoceros``). When the same normalised name belongs to
   several kinds, the earlier kind in :data:`~cognitivedrone.tasks.assets.KINDS` wins (so a
   brand logo named like a fruit, ``apple.dae``, maps to ``food:apple``).

Anything else maps to ``None`` and is *unmapped*. In the reference this is, for example,
``ten.dae`` (no one-glyph picture for 10), the food folders ``Healthy/healthy_<n>.dae`` /
``Unhealthy/unhealthy_<n>.dae`` (numbered photos, not named foods), celebrities
(``Isaac_Newton.dae``), brand logos (``mcdonalds.dae``) and most person attributes
(``a_t-short.dae``), unless the vocabulary happens to hold a picture with that name.

Without ``skip_unmapped`` one unmapped option fails the import with a
:class:`ReferenceImportError` that lists every unmapped name with the number of episodes using
it; with ``skip_unmapped`` those episodes are dropped and counted.

Other fields
------------
* ``prompt`` and ``prompt_simpler`` are kept verbatim; ``correct`` stays 1-based (a digit
  string such as ``"2"`` is read as the number);
* the gate's ``"gate"`` key only orders the gates (when every gate has one) and is dropped;
  ``size`` / ``shape`` / ``color`` are lowercased and known synonyms mapped: ``large`` -> ``big``,
  ``circle`` / ``circular`` / ``ring`` -> ``round``, ``rectangle`` / ``rectangular`` ->
  ``square``, ``triangular`` -> ``triangle`` (the reference's task files use only big/small,
  round/square/triangle and red/green/blue; the synonyms are the words its reasoning text uses);
* ``background`` is kept when it is a string.

Each episode gets id ``<file stem>-<index:04d>`` (index = position in the file, so ids do not
shift when episodes are skipped), family ``imported/<file stem>`` and seed
``zlib.crc32(id)``, so importing the same files twice gives the same suite.

Category (:func:`infer_category`)
---------------------------------
The ``category`` argument, if given, is used for every episode. Otherwise, per file, the file
stem's words (split on anything not a letter or digit) decide when one of them starts with

* ``math``, ``arithmetic``, ``equation``, ``number``, ``reason``, ``healthy``, ``unhealthy``,
  ``order``, ``logic`` -> ``reasoning``;
* ``celebrit``, ``people``, ``person``, ``human``, ``pattern`` -> ``human``
  (the reference's ``Patterns_valid.json`` is "a person with a tattoo" and the like);

checked in that order. If the stem decides nothing, each episode's prompt decides: an
arithmetic expression (``4+2``, ``9*1``, ``8 - 6``) or one of the words ``equal``, ``equals``,
``plus``, ``minus``, ``times``, ``sum``, ``healthy``, ``unhealthy``, ``after``, ``before``,
``next``, ``previous`` -> ``reasoning``; ``person``, ``people``, ``celebrity``, ``human``,
``man``, ``woman`` -> ``human``; otherwise ``symbol``. So the reference's
``Math_prompt_valid`` is reasoning, ``Celebrities_valid`` and ``Patterns_valid`` are human,
``validation_food`` ("Fly to the gate with healthy food") is reasoning, and the letters,
digits, animals and logos files are symbol.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Sequence

from cognitivedrone.bounded_json import JsonInputError, load_file
from cognitivedrone.tasks import assets as _assets
from cognitivedrone.tasks.suite import CATEGORIES, Episode, Suite, SuiteError, episode_from_json

__all__ = [
    "ImportReport",
    "ReferenceImportError",
    "format_unmapped",
    "import_reference_files",
    "infer_category",
    "map_option",
]

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}

SIZE_SYNONYMS = {"big": "big", "large": "big", "small": "small"}
SHAPE_SYNONYMS = {
    "round": "round", "circle": "round", "circular": "round", "ring": "round",
    "square": "square", "rectangle": "square", "rectangular": "square",
    "triangle": "triangle", "triangular": "triangle",
}
COLOR_SYNONYMS = {"red": "red", "green": "green", "blue": "blue"}

#: other spellings of vocabulary names, tried after the name itself (``rhino.dae`` is in the
#: reference's animal tasks; the rest are common alternatives for vocabulary foods)
NAME_ALIASES = {
    "rhino": "rhinoceros",
    "hippo": "hippopotamus",
    "alligator": "crocodile",
    "hamburger": "burger",
    "hotdog": "hot_dog",
    "doughnut": "donut",
    "french_fries": "fries",
}

_REQUIRED = ("prompt", "prompt_simpler", "options", "correct", "gates")

_FILE_REASONING = ("math", "arithmetic", "equation", "number", "reason", "healthy", "unhealthy", "order", "logic")
_FILE_HUMAN = ("celebrit", "people", "person", "human", "pattern")
_PROMPT_REASONING = {
    "equal", "equals", "plus", "minus", "times", "sum", "healthy", "unhealthy",
    "after", "before", "next", "previous",
}
_PROMPT_HUMAN = {"person", "people", "celebrity", "celebrities", "human", "man", "woman"}
_ARITHMETIC = re.compile(r"\d\s*[-+*/x×÷]\s*\d")


class ReferenceImportError(ValueError):
    """A reference task file that cannot be imported; the message is one line naming the file,
    the entry and the field (or, for unmapped options, every unmapped name with its count)."""


@dataclass
class ImportReport:
    suite: Suite
    #: reference option name (as written in the file) -> number of episodes using it, for every
    #: option with no asset; filled with and without ``skip_unmapped``
    unmapped: dict[str, int] = field(default_factory=dict)
    #: episodes dropped because of unmapped options (only with ``skip_unmapped``)
    skipped_episodes: int = 0
    files: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- option names


def _norm(text: str) -> str:
    s = re.sub(r"[\s\-.]+", "_", text.strip().lower())
    return re.sub(r"_+", "_", s).strip("_")


_index_cache: dict = {}


def _name_index() -> tuple[dict[str, str], dict[str, str]]:
    """(normalised asset name -> id, normalised asset label -> id), earlier kind wins."""
    vocab = _assets.VOCABULARY
    key = (id(vocab), len(vocab))
    hit = _index_cache.get(key)
    if hit is not None:
        return hit
    kinds = list(getattr(_assets, "KINDS", ()))

    def rank(a) -> tuple:
        return (kinds.index(a.kind) if a.kind in kinds else len(kinds), a.kind, a.id)

    by_name: dict[str, str] = {}
    by_label: dict[str, str] = {}
    for a in sorted(vocab.values(), key=rank):
        by_name.setdefault(_norm(a.name), a.id)
        label = _norm(str(getattr(a, "label", "") or ""))
        label = re.sub(r"^(a|an|the)_", "", label)
        if label:
            by_label.setdefault(label, a.id)
    _index_cache.clear()
    _index_cache[key] = (by_name, by_label)
    return by_name, by_label


def _stem(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/").strip()).name
    if "." in base:
        base = base.rsplit(".", 1)[0]
    return base.strip()


def _variants(norm: str) -> list[str]:
    forms = [norm]
    no_article = re.sub(r"^(a|an|the)_", "", norm)
    if no_article != norm and no_article:
        forms.append(no_article)
    for f in list(forms):
        no_num = re.sub(r"_\d+$", "", f)
        if no_num != f and no_num:
            forms.append(no_num)
    out: list[str] = []
    for f in forms:
        cands = [f]
        if f.endswith("es") and len(f) > 3:
            cands.append(f[:-2])
        if f.endswith("s") and not f.endswith("ss") and len(f) > 2:
            cands.append(f[:-1])
        cands.append(f + "s")
        for c in cands:
            for c2 in (c, NAME_ALIASES.get(c)):
                if c2 and c2 not in out:
                    out.append(c2)
    return out


def _known(asset_id: str) -> str | None:
    return asset_id if asset_id in _assets.VOCABULARY else None


def map_option(name: str) -> str | None:
    """Asset id for a reference option name (``"seven.dae"`` -> ``"digit:7"``), or ``None``.

    See the module docstring for the rules.
    """
    if not isinstance(name, str):
        return None
    stem = _stem(name)
    if not stem:
        return None
    low = stem.lower()
    if low in NUMBER_WORDS:
        return _known(f"digit:{NUMBER_WORDS[low]}")
    if len(stem) == 1 and stem.isascii() and stem.isdigit():
        return _known(f"digit:{stem}")
    if len(stem) == 1 and stem.isascii() and stem.isalpha():
        return _known(f"letter:{stem.upper()}")
    norm = _norm(stem)
    if not norm:
        return None
    numbered_food = re.fullmatch(r"(healthy|unhealthy)_(\d+)", norm)
    if numbered_food:
        # The reference shows numbered photos of (un)healthy food; what its tasks ask is the
        # category, so take the n-th food of that category from our vocabulary.
        foods = _assets.list_assets(kind="food", tag=numbered_food.group(1))
        return foods[(int(numbered_food.group(2)) - 1) % len(foods)].id if foods else None
    by_name, by_label = _name_index()
    variants = _variants(norm)
    for index in (by_name, by_label):
        for v in variants:
            if v in index:
                return index[v]
    return None


# ----------------------------------------------------------------------------- category


def _file_category(stem: str) -> str | None:
    words = [w for w in re.split(r"[^a-z0-9]+", stem.lower()) if w]
    for prefixes, category in ((_FILE_REASONING, "reasoning"), (_FILE_HUMAN, "human")):
        if any(w.startswith(p) for w in words for p in prefixes):
            return category
    return None


def _prompt_category(prompt: str) -> str:
    if _ARITHMETIC.search(prompt):
        return "reasoning"
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    if words & _PROMPT_REASONING:
        return "reasoning"
    if words & _PROMPT_HUMAN:
        return "human"
    return "symbol"


def infer_category(file_stem: str, prompt: str = "") -> str:
    """The category of an imported episode: from the file stem if it decides, else the prompt."""
    return _file_category(file_stem) or _prompt_category(prompt)


# ----------------------------------------------------------------------------- import


def format_unmapped(unmapped: dict[str, int]) -> str:
    """``"a.dae" (3), "b.dae" (1)``: every name with its episode count, sorted by name."""
    return ", ".join(f"{n!r} ({c})" for n, c in sorted(unmapped.items()))


def _gates(raw, where: str) -> list:
    """The three gates in gate order, each a dict with size/shape/color normalised."""
    if isinstance(raw, dict):
        try:
            keyed = sorted(raw.items(), key=lambda kv: int(kv[0]))
        except (TypeError, ValueError):
            raise ReferenceImportError(
                f"{where}: field 'gates': object keys must be gate numbers, got {sorted(map(str, raw))}"
            ) from None
        items = [v for _, v in keyed]
    elif isinstance(raw, list):
        items = raw
        numbers = [g.get("gate") if isinstance(g, dict) else None for g in raw]
        if raw and all(n is not None for n in numbers):
            try:
                nums = [int(n) for n in numbers]
            except (TypeError, ValueError):
                raise ReferenceImportError(
                    f"{where}: field 'gates': 'gate' numbers must be integers, got {numbers}"
                ) from None
            if sorted(nums) != list(range(1, len(nums) + 1)):
                raise ReferenceImportError(
                    f"{where}: field 'gates': 'gate' numbers must be 1..{len(nums)} once each, got {nums}"
                )
            items = [g for _, g in sorted(zip(nums, raw), key=lambda t: t[0])]
    else:
        raise ReferenceImportError(f"{where}: field 'gates' must be a list or an object, got {type(raw).__name__}")
    out = []
    for j, g in enumerate(items):
        if not isinstance(g, dict):
            out.append(g)  # episode_from_json reports it with the field name
            continue
        look = {}
        for key, synonyms in (("size", SIZE_SYNONYMS), ("shape", SHAPE_SYNONYMS), ("color", COLOR_SYNONYMS)):
            v = g.get(key)
            if isinstance(v, str):
                v = synonyms.get(v.strip().lower(), v)
            look[key] = v
        out.append(look)
    return out


def _read_entries(path: Path) -> list:
    try:
        raw = load_file(path)  # bounded: 100,000 `[` is one line, not a RecursionError
    except JsonInputError as e:
        raise ReferenceImportError(str(e)) from None
    except FileNotFoundError:
        raise ReferenceImportError(f"{path}: file not found") from None
    except OSError as e:
        raise ReferenceImportError(f"{path}: cannot read ({e.strerror or e})") from None
    if not isinstance(raw, list):
        raise ReferenceImportError(
            f"{path}: expected a JSON list of task entries at the top level, got {type(raw).__name__}"
        )
    return raw


def import_reference_files(
    paths: Sequence[str | Path],
    *,
    name: str | None = None,
    skip_unmapped: bool = False,
    category: str | None = None,
) -> ImportReport:
    """Read reference task files into one :class:`Suite` (see the module docstring)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ReferenceImportError("no reference task files given")
    if category is not None and category not in CATEGORIES:
        raise ReferenceImportError(f"category {category!r} is not one of {', '.join(CATEGORIES)}")

    stems: dict[str, Path] = {}
    for p in paths:
        if p.stem in stems:
            raise ReferenceImportError(
                f"{p}: same file stem as {stems[p.stem]}; episode ids would collide (rename one)"
            )
        stems[p.stem] = p

    episodes: list[Episode] = []
    unmapped: Counter[str] = Counter()
    unmapped_files: list[str] = []
    skipped = 0
    for path in paths:
        stem = path.stem
        file_category = category or _file_category(stem)
        for i, entry in enumerate(_read_entries(path)):
            where = f"{path}: entry #{i}"
            if not isinstance(entry, dict):
                raise ReferenceImportError(f"{where}: expected an object, got {type(entry).__name__}")
            for key in _REQUIRED:
                if key not in entry:
                    raise ReferenceImportError(f"{where}: field {key!r} is missing")
            for key in ("prompt", "prompt_simpler"):
                if not isinstance(entry[key], str):
                    raise ReferenceImportError(f"{where}: field {key!r} must be a string, got {type(entry[key]).__name__}")
            options = entry["options"]
            if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
                raise ReferenceImportError(f"{where}: field 'options' must be a list of file names")
            mapped = [map_option(o) for o in options]
            missing = sorted({o for o, m in zip(options, mapped) if m is None})
            if missing:
                unmapped.update(missing)
                if str(path) not in unmapped_files:
                    unmapped_files.append(str(path))
                skipped += 1
                continue
            correct = entry["correct"]
            if isinstance(correct, str) and correct.strip().isdigit():
                correct = int(correct.strip())
            ep_id = f"{stem}-{i:04d}"
            data = {
                "id": ep_id,
                "category": file_category or _prompt_category(entry["prompt"]),
                "family": f"imported/{stem}",
                "prompt": entry["prompt"],
                "prompt_simpler": entry["prompt_simpler"],
                "options": mapped,
                "correct": correct,
                "gates": _gates(entry["gates"], where),
                "seed": zlib.crc32(ep_id.encode("utf-8")),
            }
            background = entry.get("background")
            if isinstance(background, str) and background:
                data["background"] = background
            try:
                episodes.append(episode_from_json(data, where=where))
            except SuiteError as e:
                raise ReferenceImportError(str(e)) from None

    unmapped_dict = dict(sorted(unmapped.items()))
    if unmapped and not skip_unmapped:
        raise ReferenceImportError(
            f"{len(unmapped_dict)} option name(s) in {', '.join(unmapped_files)} have no asset in the vocabulary "
            f"(episodes using each): {format_unmapped(unmapped_dict)}; pass --skip-unmapped to drop those "
            f"{skipped} episode(s)"
        )
    if not episodes:
        detail = f"; all {skipped} were dropped for unmapped options: {format_unmapped(unmapped_dict)}" if skipped else ""
        raise ReferenceImportError(f"{', '.join(map(str, paths))}: no episodes to import{detail}")

    suite_name = name or "+".join(p.stem for p in paths)
    return ImportReport(
        suite=Suite(name=suite_name, episodes=episodes),
        unmapped=unmapped_dict,
        skipped_episodes=skipped if skip_unmapped else 0,
        files=[str(p) for p in paths],
    )
