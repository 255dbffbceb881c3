"""Boundary 4a: suite files. `load_suite` on a hostile file (mutations of the repository's own
suites, random JSON, deep nesting, huge numbers, NaN, other encodings, not JSON at all) gives a
Suite whose every episode keeps the documented rules, or a one-line SuiteError; nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st

from cognitivedrone.tasks.assets import get_asset
from cognitivedrone.tasks.suite import (
    CATEGORIES,
    MAX_SEED,
    N_GATES,
    SUITES_DIR,
    Suite,
    SuiteError,
    load_suite,
    suite_from_json,
)

from .conftest import fuzz_settings
from .mutate import mutated
from .strategies import encodings, hostile_json_text, json_values

SMOKE = json.loads((SUITES_DIR / "smoke.json").read_text())
SMALL = dict(SMOKE, episodes=SMOKE["episodes"][:3])
V1 = json.loads((SUITES_DIR / "cognitivedrone-v1.json").read_text())
V1_SMALL = dict(V1, episodes=V1["episodes"][::97][:4])
STRICT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # what the error message promises ids are

def dump(doc) -> bytes:
    return json.dumps(doc, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


files = st.one_of(
    mutated(SMALL).map(dump), mutated(SMALL).map(dump), mutated(V1_SMALL).map(dump),
    encodings(hostile_json_text).map(lambda t: t.encode("utf-8", "surrogatepass") if isinstance(t, str) else t),
    json_values(10).map(dump),
    st.binary(max_size=200),
    st.builds(lambda d, enc: json.dumps(d).encode(enc), mutated(SMALL), st.sampled_from(["utf-16", "utf-32"])),
    mutated(SMALL).map(dump).map(lambda b: b[: len(b) // 2]),
)


def check_suite(suite: Suite) -> None:
    assert isinstance(suite, Suite) and isinstance(suite.name, str) and suite.name and suite.episodes
    ids = [e.id for e in suite.episodes]
    assert len(set(ids)) == len(ids)
    for e in suite.episodes:
        assert STRICT_ID.fullmatch(e.id), f"episode id {e.id!r} names a file"
        assert e.category in CATEGORIES and isinstance(e.family, str)
        assert e.prompt and e.prompt == e.prompt.strip() and e.prompt_simpler and e.prompt_simpler == e.prompt_simpler.strip()
        assert len(e.options) == N_GATES == len(set(e.options)) and all(get_asset(o) for o in e.options)
        assert type(e.correct) is int and 1 <= e.correct <= N_GATES
        assert len(e.gates) == N_GATES and len({g.color for g in e.gates}) == N_GATES
        assert type(e.seed) is int and 0 <= e.seed <= MAX_SEED
        assert e.background is None or isinstance(e.background, str)
    # What it reads back is what it saves.
    again = suite_from_json(json.loads(json.dumps(suite.to_json())))
    assert again == suite


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-suite")


def load(data: bytes, path: Path):
    path.write_bytes(data)
    try:
        suite = load_suite(path)
    except SuiteError as exc:
        assert "\n" not in str(exc), f"a multi-line error: {str(exc)[:300]!r}"
        if currently_in_test_context():
            event("SuiteError")
        return None
    if currently_in_test_context():
        event("loaded")
    return suite


@fuzz_settings(500)
@given(data=files)
def test_load_suite_gives_a_valid_suite_or_a_suite_error(suite_dir, data):
    suite = load(data, suite_dir / "fuzz.json")
    if suite is not None:
        check_suite(suite)


# Was: ID_PATTERN ended in `$`, which also matches before a trailing newline, so an id 'x\n' was
# taken and named the file 'x\n.mp4'.
def test_episode_ids_are_file_names(tmp_path):
    doc = json.loads(json.dumps(SMALL))
    doc["episodes"][1]["id"] += "\n"
    suite = load(dump(doc), tmp_path / "id.json")
    assert suite is None or check_suite(suite) is None


def test_the_repositorys_suites_load():
    for path in sorted(SUITES_DIR.glob("*.json")):
        check_suite(load_suite(path))
