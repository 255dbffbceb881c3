"""Suite files: a named, fixed list of episodes (docs/design.md, Interfaces).

A suite is plain JSON so other tools can write and read it:

    {"name": ..., "episodes": [{"id", "category", "family", "prompt", "prompt_simpler",
      "options": [3 asset ids], "correct": 1-based index,
      "gates": [{"size", "shape", "color"} x3], "seed"}]}

Loading validates everything up front and raises `SuiteError` with one line that names the
file, the episode and the field, so a bad file fails before any episode is flown.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cognitivedrone.bounded_json import JsonInputError, load_file
from cognitivedrone.resources import SUITES_DIR
from cognitivedrone.tasks.assets import UnknownAssetError, get_asset
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

CATEGORIES = ("human", "symbol", "reasoning")
N_GATES = 3
# Ids name video files. `\Z`, not `$`: `$` also matches before a trailing newline, and callers
# (generate.py) use `.match`.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
MAX_SEED = 2**63 - 1



class SuiteError(ValueError):
    """A suite file that cannot be used; the message is one line naming what is wrong."""


@dataclass(frozen=True)
class GateLook:
    """How one gate looks: what a simple instruction names."""

    size: str
    shape: str
    color: str

    def describe(self) -> str:
        return f"{self.size} {self.shape} {self.color}"


@dataclass(frozen=True)
class Episode:
    id: str
    category: str
    family: str
    prompt: str
    prompt_simpler: str
    options: tuple[str, str, str]
    correct: int  # 1-based, as the reference task files
    gates: tuple[GateLook, GateLook, GateLook]
    seed: int
    background: str | None = None

    @property
    def target_index(self) -> int:
        """0-based index of the correct gate."""
        return self.correct - 1

    def to_json(self) -> dict:
        d = asdict(self)
        d["options"] = list(self.options)
        d["gates"] = [asdict(g) for g in self.gates]
        if self.background is None:
            del d["background"]
        return d


@dataclass
class Suite:
    name: str
    episodes: list[Episode] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "episodes": [e.to_json() for e in self.episodes]}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        tmp.replace(path)
        return path

    def __len__(self) -> int:
        return len(self.episodes)

    def episode(self, episode_id: str) -> Episode:
        """The episode of that id; SuiteError naming the suite's id range if there is none."""
        for e in self.episodes:
            if e.id == episode_id:
                return e
        ids = f"ids run {self.episodes[0].id} .. {self.episodes[-1].id}" if self.episodes else "it is empty"
        raise SuiteError(f"episode {episode_id!r} is not in suite {self.name} ({ids})")


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """`--suite` takes a name from cognitivedrone/tasks/suites/ or a path to a JSON file."""
    p = Path(name_or_path)
    if p.suffix == ".json" or p.exists():
        return p
    return SUITES_DIR / f"{name_or_path}.json"


def load_suite(name_or_path: str | Path) -> Suite:
    path = resolve_suite_path(name_or_path)
    if not path.exists():
        known = ", ".join(sorted(q.stem for q in SUITES_DIR.glob("*.json"))) or "none"
        raise SuiteError(f"suite {str(name_or_path)!r} not found (looked for {path}; shipped suites: {known})")
    if not path.is_file():
        raise SuiteError(f"suite {path} is not a file")
    try:
        raw = load_file(path)  # bounded: 100,000 `[` is one line, not a RecursionError
    except JsonInputError as e:
        raise SuiteError(str(e)) from None
    except OSError as e:
        raise SuiteError(f"{path}: cannot read ({e.strerror or e})") from None
    return suite_from_json(raw, source=str(path))


def suite_from_json(raw, source: str = "<suite>") -> Suite:
    if not isinstance(raw, dict):
        raise SuiteError(f"{source}: expected a JSON object with 'name' and 'episodes', got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SuiteError(f"{source}: field 'name' missing or not a non-empty string")
    eps = raw.get("episodes")
    if not isinstance(eps, list) or not eps:
        raise SuiteError(f"{source}: field 'episodes' missing or not a non-empty list")
    episodes = []
    seen: set[str] = set()
    for i, e in enumerate(eps):
        ep = episode_from_json(e, where=f"{source}: episode #{i}")
        if ep.id in seen:
            raise SuiteError(f"{source}: episode {ep.id!r} (#{i}): field 'id': duplicate id")
        seen.add(ep.id)
        episodes.append(ep)
    return Suite(name=name, episodes=episodes)


def _need(e: dict, key: str, typ, where: str):
    if key not in e:
        raise SuiteError(f"{where}: field {key!r} is missing")
    v = e[key]
    if typ is int and isinstance(v, bool) or not isinstance(v, typ):
        tname = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise SuiteError(f"{where}: field {key!r} must be {tname}, got {type(v).__name__}")
    return v


def episode_from_json(e, where: str = "episode") -> Episode:
    if not isinstance(e, dict):
        raise SuiteError(f"{where}: expected an object, got {type(e).__name__}")
    if isinstance(e.get("id"), str) and e["id"]:
        where = f"{where.rsplit(': episode', 1)[0]}: episode {e['id']!r}"
    ep_id = _need(e, "id", str, where)
    if not ID_PATTERN.fullmatch(ep_id):
        raise SuiteError(f"{where}: field 'id' {ep_id!r} must be letters, digits, '.', '_' or '-' (it names files)")
    category = _need(e, "category", str, where)
    if category not in CATEGORIES:
        raise SuiteError(f"{where}: field 'category': {category!r} is not one of {', '.join(CATEGORIES)}")
    family = _need(e, "family", str, where)
    prompt = _need(e, "prompt", str, where).strip()
    simpler = _need(e, "prompt_simpler", str, where).strip()
    if not prompt:
        raise SuiteError(f"{where}: field 'prompt' is empty")
    if not simpler:
        raise SuiteError(f"{where}: field 'prompt_simpler' is empty")
    options = _need(e, "options", list, where)
    if len(options) != N_GATES:
        raise SuiteError(f"{where}: field 'options' needs {N_GATES} asset ids, got {len(options)}")
    for o in options:
        if not isinstance(o, str):
            raise SuiteError(f"{where}: field 'options': {o!r} is not a string asset id")
        try:
            get_asset(o)
        except UnknownAssetError:
            raise SuiteError(f"{where}: field 'options': unknown asset id {o!r} (see `cognitivedrone assets list`)") from None
    if len(set(options)) != N_GATES:
        raise SuiteError(f"{where}: field 'options': the three pictures must differ, got {options}")
    correct = _need(e, "correct", int, where)
    if not 1 <= correct <= N_GATES:
        raise SuiteError(f"{where}: field 'correct' is {correct}, must be 1..{N_GATES} (1-based)")
    gates_raw = _need(e, "gates", list, where)
    if len(gates_raw) != N_GATES:
        raise SuiteError(f"{where}: field 'gates' needs {N_GATES} gates, got {len(gates_raw)}")
    gates = []
    for j, g in enumerate(gates_raw):
        if not isinstance(g, dict):
            raise SuiteError(f"{where}: field 'gates[{j}]' must be an object")
        vals = {}
        for key, allowed in (("size", GATE_SIZES), ("shape", GATE_SHAPES), ("color", GATE_COLORS)):
            v = g.get(key)
            if v not in allowed:
                raise SuiteError(f"{where}: field 'gates[{j}].{key}' is {v!r}, must be one of {', '.join(allowed)}")
            vals[key] = v
        gates.append(GateLook(**vals))
    if len({g.color for g in gates}) != N_GATES:
        raise SuiteError(f"{where}: field 'gates': the three gates need three different colours, so a simple instruction names one")
    seed = _need(e, "seed", int, where)
    if not 0 <= seed <= MAX_SEED:
        raise SuiteError(f"{where}: field 'seed' is {seed}, must be 0..2**63-1")
    background = e.get("background")
    if background is not None and not isinstance(background, str):
        raise SuiteError(f"{where}: field 'background' must be a string")
    return Episode(
        id=ep_id, category=category, family=family, prompt=prompt, prompt_simpler=simpler,
        options=tuple(options), correct=correct, gates=tuple(gates), seed=seed, background=background,
    )


def judge(event: str | None, gate_index: int | None, target_index: int) -> str:
    """The outcome of an episode from the env's last event (one of bench/results.py OUTCOMES)."""
    if event == "gate":
        return "success" if gate_index == target_index else "wrong_gate"
    if event in ("collision", "out_of_bounds"):
        return event
    return "timeout"
