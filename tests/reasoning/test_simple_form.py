"""The guard between a reasoner's words and the policy: parse_simple_form."""

import pytest

from cognitivedrone.bench.assets import list_assets
from cognitivedrone.bench.families import object_prompt, simple_prompt
from cognitivedrone.bench.vocabulary import GATE_COLORS, GATE_SHAPES, GATE_SIZES
from cognitivedrone.reasoning.simple_form import Target, parse_simple_form


def test_every_canonical_sentence_parses_back_to_itself():
    for a in list_assets():
        text = object_prompt(a.id)
        assert parse_simple_form(text) == Target(asset=a.id), text
        for size in GATE_SIZES:
            for shape in GATE_SHAPES:
                for color in GATE_COLORS:
                    text = simple_prompt(size, shape, color, a.id)
                    target = parse_simple_form(text)
                    assert target == Target(size, shape, color, a.id) and target.sentence() == text, text


@pytest.mark.parametrize("text, expect", [
    ("fly through red gate with number 4", Target(color="red", asset="digit:4")),  # the paper's rewrites
    ("Fly through the small blue square gate with the zebra", Target("small", "square", "blue", "animal:zebra")),
    # One object, named twice.
    ("Fly through the red gate with the digit 7 (the number 7)", Target(color="red", asset="digit:7")),
    # Labels inside labels: the longest reading names one object, not two.
    ("Fly through the green gate with a hot dog", Target(color="green", asset="food:hot_dog")),
    ("Fly through the green gate with a teddy bear", Target(color="green", asset="object:teddy_bear")),
    ("Fly through the green gate with a police car", Target(color="green", asset="vehicle:police_car")),
    ("Answer: fly through the big round red gate.", Target("big", "round", "red")),
])
def test_plain_rewrites_still_parse(text, expect):
    assert parse_simple_form(text) == expect


@pytest.mark.parametrize("text", [
    "Do not fly through the red gate",
    "DON'T fly through the red gate",
    "Don\u2019t fly through the red gate",  # a typographic apostrophe
    "dont fly through the red gate",
    "don t fly through the red gate",
    "Don\u00b4t fly through the red gate",
    "Do n\u0336o\u0336t\u0336 fly through the red gate",  # combining strike-through marks
    "Never fly through the red gate with the zebra",
    "Fly through the red gate? No.",
    "Fly through the gate with no zebra",
    "Fly through the gate that is not the red gate",
    "Fly through any gate but not the red gate",
    "Avoid the red gate",
    "Fly through every gate except the red gate",
    "Fly through the blue gate instead of the zebra",
    "Fly through a gate other than the red gate",
    "Fly through the green gate rather than the zebra",
    "Fly through the gate without the zebra",
    "Fly through the red gate. It isn't the zebra.",
    "Fly through the red gate? You shouldnt",
    "Skip the red gate with the zebra",
    "Stay away from the red gate",
    "Fly around the red gate",
    "Do n\u200bot fly through the red gate",  # a zero-width space inside "not"
    "D\u043e not fly through the red gate",  # a Cyrillic "o": a look-alike letter hides the word
    "\uff44\uff4f \uff4e\uff4f\uff54 fly through the red gate",  # full-width letters
])
def test_negated_rewrites_are_refused(text):
    """The policy gets the sentence rebuilt from the names alone: "Do not fly through the red gate"
    would reach it as "Fly through the red gate". A negated answer is refused, never repaired."""
    assert parse_simple_form(text) is None


@pytest.mark.parametrize("text", [
    "Fly through the red gate with the zebra and the digit 7",
    "Fly through the red gate with the zebra or the digit 7",
    "the zebra, the digit 7",
    "Fly through the gate with a hot dog and a dog",
    "Fly through the red gate with number 4 or number 5",
])
def test_two_objects_are_refused(text):
    """Which one is meant is a guess: today's parser took whichever label is longest."""
    assert parse_simple_form(text) is None


def test_the_attackers_doubly_named_rewrite_is_refused():
    assert parse_simple_form("Fly through the gate with the zebra, not the digit 7") is None
