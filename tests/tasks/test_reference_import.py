"""Importing the reference system's task files (synthetic fixtures in tests/tasks/data/)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from cognitivedrone.tasks.reference_import import (
    ImportReport,
    ReferenceImportError,
    import_reference_files,
    infer_category,
    map_option,
)
from cognitivedrone.tasks.suite import GateLook, suite_from_json

DATA = Path(__file__).parent / "data"
MATH = DATA / "ref_math.json"
LETTERS = DATA / "ref_letters.json"
ANIMALS = DATA / "ref_animals.json"
MIXED = DATA / "ref_mixed.json"


def _entry(**over) -> dict:
    e = {
        "prompt": "Fly through the gate with number equal 1+1",
        "prompt_simpler": "Fly through the big round red gate with 2",
        "options": ["one.dae", "two.dae", "three.dae"],
        "correct": 2,
        "gates": [
            {"gate": "1", "size": "small", "shape": "square", "color": "green"},
            {"gate": "2", "size": "big", "shape": "round", "color": "red"},
            {"gate": "3", "size": "small", "shape": "triangle", "color": "blue"},
        ],
        "background": "room",
    }
    e.update(over)
    return e


def _write(tmp_path: Path, name: str, payload) -> Path:
    p = tmp_path / name
    p.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return p


# ----------------------------------------------------------------------------- map_option


@pytest.mark.parametrize(
    "name, expected",
    [
        ("seven.dae", "digit:7"),
        ("Seven.dae", "digit:7"),
        ("ZERO.dae", "digit:0"),
        ("nine", "digit:9"),
        ("4.dae", "digit:4"),
        ("Digits/three.dae", "digit:3"),
        ("Q.dae", "letter:Q"),
        ("q.dae", "letter:Q"),
        ("Symbols/A.dae", "letter:A"),
        ("zebra.dae", "animal:zebra"),
        ("Zebra.dae", "animal:zebra"),
        ("Animals/zebra.dae", "animal:zebra"),
        ("zebras.dae", "animal:zebra"),
        ("a_zebra.dae", "animal:zebra"),
        ("zebra_1.dae", "animal:zebra"),
        ("rhino.dae", "animal:rhinoceros"),
        ("an_umbrella.dae", "object:umbrella"),
        ("hot-dog.dae", "food:hot_dog"),
        ("hippo.dae", "animal:hippopotamus"),
        ("alligator.dae", "animal:crocodile"),
        ("Isaac_Newton.dae", None),
        ("ten.dae", None),
        ("", None),
    ],
)
def test_map_option(name, expected):
    assert map_option(name) == expected


@pytest.mark.parametrize("name, tag", [("Healthy/healthy_15.dae", "healthy"), ("Unhealthy/unhealthy_5.dae", "unhealthy"),
                                       ("Healthy/healthy_1.dae", "healthy")])
def test_numbered_foods_map_to_a_food_of_that_category(name, tag):
    from cognitivedrone.tasks.assets import get_asset

    asset = get_asset(map_option(name))
    assert asset.kind == "food" and tag in asset.tags
    assert map_option("Healthy/healthy_2.dae") != map_option("Healthy/healthy_3.dae")


def test_map_option_windows_separators_and_no_extension():
    assert map_option("Reasoning\\Digits\\eight.dae") == "digit:8"
    assert map_option("K") == "letter:K"


# ----------------------------------------------------------------------------- importing


def test_math_file_numbers_prompts_gates():
    rep = import_reference_files([MATH])
    assert isinstance(rep, ImportReport)
    assert rep.unmapped == {} and rep.skipped_episodes == 0 and rep.files == [str(MATH)]
    eps = rep.suite.episodes
    assert [e.options for e in eps] == [
        ("digit:2", "digit:7", "digit:0"),
        ("digit:6", "digit:9", "digit:1"),
        ("digit:8", "digit:3", "digit:4"),
    ]
    raw = json.loads(MATH.read_text())
    assert [e.prompt for e in eps] == [r["prompt"] for r in raw]  # verbatim
    assert [e.prompt_simpler for e in eps] == [r["prompt_simpler"] for r in raw]
    assert [e.correct for e in eps] == [2, 1, 3]  # still 1-based
    assert [e.id for e in eps] == ["ref_math-0000", "ref_math-0001", "ref_math-0002"]
    assert {e.family for e in eps} == {"imported/ref_math"}
    assert {e.category for e in eps} == {"reasoning"}
    assert {e.background for e in eps} == {"room"}
    assert [e.seed for e in eps] == [zlib.crc32(e.id.encode()) for e in eps]
    # the third entry lists its gates out of order; the "gate" key puts them back
    assert eps[2].gates == (
        GateLook("small", "triangle", "green"),
        GateLook("big", "square", "red"),
        GateLook("big", "round", "blue"),
    )
    assert eps[2].gates[eps[2].target_index] == GateLook("big", "round", "blue")


def test_letters_dict_gates_and_spelling_normalised():
    rep = import_reference_files([LETTERS])
    a, b = rep.suite.episodes
    assert a.options == ("letter:N", "letter:Q", "letter:Z")
    assert b.options == ("letter:P", "letter:K", "letter:D")
    assert a.gates[1] == GateLook("big", "triangle", "blue")
    assert b.gates == (
        GateLook("big", "triangle", "red"),
        GateLook("big", "square", "blue"),
        GateLook("small", "round", "green"),
    )
    # prompts are verbatim even when they use the reference's own words ("circle")
    assert b.prompt_simpler == "Fly through the small circle green gate with a letter d"
    assert {e.category for e in rep.suite.episodes} == {"symbol"}


def test_animals_mapped():
    rep = import_reference_files([ANIMALS])
    a, b = rep.suite.episodes
    assert a.options == ("animal:zebra", "animal:lion", "animal:cat")
    assert b.options == ("animal:tiger", "animal:elephant", "animal:dog")
    assert b.prompt == "Fly through the gate with a elephant"
    assert {e.category for e in rep.suite.episodes} == {"symbol"}


def test_unmapped_without_skip_lists_every_name_with_count():
    with pytest.raises(ReferenceImportError) as ei:
        import_reference_files([MATH, MIXED])
    msg = str(ei.value)
    assert "\n" not in msg
    assert "--skip-unmapped" in msg
    assert str(MIXED) in msg
    for name, count in [("Isaac_Newton.dae", 1), ("Marie_Curie.dae", 1), ("ten.dae", 1)]:
        assert f"{name!r} ({count})" in msg
    assert "healthy" not in msg  # numbered (un)healthy foods map to foods of that category
    # sorted by name
    assert msg.index("'Isaac_Newton.dae'") < msg.index("'Marie_Curie.dae'") < msg.index("'ten.dae'")


def test_unmapped_with_skip_drops_and_counts():
    rep = import_reference_files([MATH, MIXED], skip_unmapped=True)
    assert rep.skipped_episodes == 2
    assert rep.unmapped == {"Isaac_Newton.dae": 1, "Marie_Curie.dae": 1, "ten.dae": 1}
    ids = [e.id for e in rep.suite.episodes]
    # ids keep the entry's position in its file
    assert ids == ["ref_math-0000", "ref_math-0001", "ref_math-0002", "ref_mixed-0000", "ref_mixed-0001"]
    kept = rep.suite.episodes[-1]
    assert kept.options == ("digit:1", "digit:2", "digit:5")
    assert kept.category == "symbol"  # "Fly through the gate with two": no reasoning cue
    assert rep.files == [str(MATH), str(MIXED)]
    assert rep.suite.name == "ref_math+ref_mixed"


def test_all_skipped_is_an_error(tmp_path):
    p = _write(tmp_path, "celebs.json", [_entry(options=["Bill_Gates.dae", "one.dae", "two.dae"])])
    with pytest.raises(ReferenceImportError, match="no episodes to import.*Bill_Gates"):
        import_reference_files([p], skip_unmapped=True)


def test_round_trip_through_suite_json(tmp_path):
    rep = import_reference_files([MATH, LETTERS, ANIMALS], name="imported-ref")
    d = rep.suite.to_json()
    back = suite_from_json(json.loads(json.dumps(d)), source="roundtrip")
    assert back == rep.suite
    assert back.name == "imported-ref"
    assert len(back) == 7
    saved = rep.suite.save(tmp_path / "out.json")
    assert suite_from_json(json.loads(saved.read_text())) == rep.suite


def test_deterministic():
    a = import_reference_files([MATH, ANIMALS]).suite.to_json()
    b = import_reference_files([MATH, ANIMALS]).suite.to_json()
    assert a == b


def test_category_argument_overrides():
    rep = import_reference_files([ANIMALS], category="reasoning")
    assert {e.category for e in rep.suite.episodes} == {"reasoning"}
    with pytest.raises(ReferenceImportError, match="category 'bogus'"):
        import_reference_files([ANIMALS], category="bogus")


def test_infer_category_rules():
    assert infer_category("Math_prompt_valid", "Fly through the gate with 9") == "reasoning"
    assert infer_category("Celebrities_valid", "Fly through the gate with Isaac Newton") == "human"
    assert infer_category("Patterns_valid", "Fly through the gate with a hat") == "human"
    assert infer_category("letters_validation", "Fly through the gate with a letter L") == "symbol"
    assert infer_category("validation_food", "Fly to the gate with healthy food") == "reasoning"
    assert infer_category("tasks", "Fly through the gate with number equal 4+2") == "reasoning"
    assert infer_category("tasks", "Fly through the gate with a person with a hat") == "human"
    assert infer_category("validation_logo", "Fly through the gate with facebook") == "symbol"


# ----------------------------------------------------------------------------- bad files


def test_malformed_json_names_file(tmp_path):
    p = _write(tmp_path, "broken.json", '[{"prompt": "x",')
    with pytest.raises(ReferenceImportError, match=r"broken\.json: not valid JSON.*line 1"):
        import_reference_files([p])


def test_top_level_not_a_list(tmp_path):
    p = _write(tmp_path, "setup.json", _entry())
    with pytest.raises(ReferenceImportError, match=r"setup\.json: expected a JSON list.*got dict"):
        import_reference_files([p])


def test_missing_file(tmp_path):
    with pytest.raises(ReferenceImportError, match=r"nope\.json: file not found"):
        import_reference_files([tmp_path / "nope.json"])


@pytest.mark.parametrize("field", ["prompt", "prompt_simpler", "options", "correct", "gates"])
def test_missing_field_names_file_entry_field(tmp_path, field):
    bad = _entry()
    del bad[field]
    p = _write(tmp_path, "tasks.json", [_entry(), bad])
    with pytest.raises(ReferenceImportError) as ei:
        import_reference_files([p])
    msg = str(ei.value)
    assert "tasks.json" in msg and "entry #1" in msg and repr(field) in msg and "\n" not in msg


@pytest.mark.parametrize(
    "over, field",
    [
        ({"correct": 4}, "'correct'"),
        ({"correct": 0}, "'correct'"),
        ({"gates": [{"gate": "1", "size": "big", "shape": "hexagon", "color": "red"},
                    {"gate": "2", "size": "big", "shape": "round", "color": "green"},
                    {"gate": "3", "size": "big", "shape": "round", "color": "blue"}]}, "gates[0].shape"),
        ({"gates": [{"size": "big", "shape": "round", "color": "red"}] * 3}, "'gates'"),
        ({"gates": [{"size": "big", "shape": "round", "color": "red"}] * 2}, "'gates'"),
        ({"options": ["one.dae", "two.dae"]}, "'options'"),
        ({"options": "one.dae"}, "'options'"),
        ({"prompt": "   "}, "'prompt'"),
    ],
)
def test_invalid_entry_reports_file_entry_field(tmp_path, over, field):
    p = _write(tmp_path, "tasks.json", [_entry(), _entry(), _entry(**over)])
    with pytest.raises(ReferenceImportError) as ei:
        import_reference_files([p])
    msg = str(ei.value)
    assert "tasks.json" in msg and "entry #2" in msg and field in msg and "\n" not in msg


def test_entry_not_an_object(tmp_path):
    p = _write(tmp_path, "tasks.json", [_entry(), "oops"])
    with pytest.raises(ReferenceImportError, match=r"tasks\.json: entry #1: expected an object"):
        import_reference_files([p])


def test_correct_as_digit_string_and_no_background(tmp_path):
    e = _entry(correct="3")
    del e["background"]
    rep = import_reference_files([_write(tmp_path, "tasks.json", [e])])
    (ep,) = rep.suite.episodes
    assert ep.correct == 3 and ep.background is None
    assert "background" not in ep.to_json()


def test_same_stem_twice_is_an_error(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    p1 = _write(tmp_path / "a", "tasks.json", [_entry()])
    p2 = _write(tmp_path / "b", "tasks.json", [_entry()])
    with pytest.raises(ReferenceImportError, match="ids would collide"):
        import_reference_files([p1, p2])


def test_deeply_nested_json_names_file(tmp_path):
    p = _write(tmp_path, "deep.json", "[" * 100_000)
    with pytest.raises(ReferenceImportError, match=r"deep\.json: .*nested"):
        import_reference_files([p])
