"""Suite files: generation, JSON round trip and validation of bad files."""

import json
from collections import Counter

import pytest

from cognitivedrone.tasks.generate import make_suite
from cognitivedrone.tasks.suite import SuiteError, load_suite, suite_from_json


@pytest.fixture(scope="module")
def suite():
    return make_suite("t", 60, seed=3)


def test_round_trip(tmp_path, suite):
    path = suite.save(tmp_path / "t.json")
    again = load_suite(path)
    assert again == suite
    assert json.loads(path.read_text()) == suite.to_json()


def test_same_seed_same_suite(suite):
    assert make_suite("t", 60, seed=3) == suite
    assert make_suite("t", 60, seed=4) != suite


def test_balanced_and_well_formed(suite):
    cats = Counter(e.category for e in suite.episodes)
    assert set(cats) == {"human", "symbol", "reasoning"} and max(cats.values()) - min(cats.values()) <= 1
    assert len({e.seed for e in suite.episodes}) == len(suite)
    positions = Counter(e.correct for e in suite.episodes)
    assert set(positions) == {1, 2, 3}
    for e in suite.episodes:
        assert len(set(e.options)) == 3
        assert len({g.color for g in e.gates}) == 3 and len({g.shape for g in e.gates}) == 3
        g = e.gates[e.target_index]
        assert f"{g.size} {g.shape} {g.color} gate" in e.prompt_simpler


def test_committed_suites_load():
    smoke = load_suite("smoke")
    v1 = load_suite("cognitivedrone-v1")
    assert 25 <= len(smoke) <= 40
    assert len(v1) >= 300
    cats = Counter(e.category for e in v1.episodes)
    assert max(cats.values()) - min(cats.values()) <= 1
    fams = Counter(e.family for e in v1.episodes)
    assert len(fams) >= 9


def _one(suite, **change):
    raw = suite.to_json()
    raw["episodes"] = [dict(raw["episodes"][0], **change)]
    return raw


@pytest.mark.parametrize("change, field", [
    ({"options": ["digit:1", "digit:2", "animal:unicorn_dragon"]}, "options"),
    ({"correct": 4}, "correct"),
    ({"correct": 0}, "correct"),
    ({"gates": [{"size": "big", "shape": "round", "color": "red"}] * 3}, "gates"),
    ({"gates": [{"size": "huge", "shape": "round", "color": "red"}, {"size": "big", "shape": "square", "color": "green"}, {"size": "big", "shape": "triangle", "color": "blue"}]}, "gates[0].size"),
    ({"category": "cooking"}, "category"),
    ({"options": ["digit:1", "digit:1", "digit:2"]}, "options"),
    ({"seed": -5}, "seed"),
    ({"id": "../../escape"}, "id"),
    ({"gates": [{"size": "big", "shape": "round", "color": "red"}, {"size": "small", "shape": "square", "color": "red"}, {"size": "big", "shape": "triangle", "color": "blue"}]}, "gates"),
    ({"seed": "seven"}, "seed"),
])
def test_bad_field_names_episode_and_field(suite, change, field):
    raw = _one(suite, **change)
    with pytest.raises(SuiteError) as err:
        suite_from_json(raw, source="bad.json")
    msg = str(err.value)
    assert "\n" not in msg
    assert (suite.episodes[0].id in msg or field == "id") and f"'{field}'" in msg


def test_missing_field(suite):
    raw = suite.to_json()
    del raw["episodes"][0]["prompt_simpler"]
    with pytest.raises(SuiteError, match=r"episode 't-0000'.*'prompt_simpler' is missing"):
        suite_from_json(raw)


def test_malformed_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "episodes": [')
    with pytest.raises(SuiteError, match=r"bad\.json: not valid JSON.*line 1"):
        load_suite(bad)


def test_unknown_suite_name():
    with pytest.raises(SuiteError, match="not found"):
        load_suite("no-such-suite")


def test_families_restrict_a_suite():
    s = make_suite("only", 8, seed=5, families=("reasoning/arithmetic", "symbol/letter"))
    assert [e.family for e in s.episodes[:4]] == ["reasoning/arithmetic", "symbol/letter"] * 2
    assert {e.category for e in s.episodes} == {"reasoning", "symbol"}
    with pytest.raises(ValueError, match="unknown family"):
        make_suite("bad", 3, seed=5, families=("reasoning/astrology",))


def test_deeply_nested_json_is_a_suite_error(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    with pytest.raises(SuiteError, match=r"deep\.json: .*nested"):
        load_suite(deep)


@pytest.mark.parametrize("ep_id", ["t-0000\n", "t-0000\r", "\nt-0000", "t 0000", ""])
def test_episode_id_with_a_newline_is_refused(suite, ep_id):
    """ID_PATTERN ended in `$`, which also matches before a trailing newline: 't-0000\\n' loaded."""
    with pytest.raises(SuiteError, match="'id'"):
        suite_from_json(_one(suite, id=ep_id), source="bad.json")


def test_suite_name_with_a_newline_is_refused():
    with pytest.raises(ValueError, match="suite name"):
        make_suite("t\n", 3, seed=1)
