"""Boundary 3: a reasoner's answer -> `parse_simple_form`. Never raises; None, or a Target that
names something and whose canonical sentence parses back to the same Target."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cognitivedrone.tasks.gates import GATE_COLORS
from cognitivedrone.tasks.simple_form import _SHAPE_WORDS, _SIZE_WORDS, Target, _labels, parse_simple_form
from cognitivedrone.tasks.vocabulary import ENTRIES

from .conftest import fuzz_settings
from .strategies import any_text

PHRASES = sorted({p for p, _ in _labels()})
WORDS = sorted(set(_SIZE_WORDS) | set(_SHAPE_WORDS) | set(GATE_COLORS)) + ["gate", "gates", "the", "with", "fly",
                                                                          "through", "and", "or", "not", ","]
# Sentences built of the words the parser looks for, in any order, with any separators and case.
vocab_text = st.lists(
    st.tuples(st.one_of(st.sampled_from(WORDS), st.sampled_from(PHRASES), any_text.map(lambda t: t[:12])),
              st.sampled_from([" ", "  ", ",", ", ", "\n", "\t", "", "-", ".", "!"]),
              st.sampled_from([str, str.upper, str.title, str.capitalize])),
    max_size=12,
).map(lambda parts: "".join(case(w) + sep for w, sep, case in parts))

targets = st.builds(
    Target,
    st.one_of(st.none(), st.sampled_from(sorted(set(_SIZE_WORDS.values())))),
    st.one_of(st.none(), st.sampled_from(sorted(set(_SHAPE_WORDS.values())))),
    st.one_of(st.none(), st.sampled_from(list(GATE_COLORS))),
    st.one_of(st.none(), st.sampled_from([f"{e.kind}:{e.name}" for e in ENTRIES])),
)

answers = st.one_of(
    vocab_text,
    any_text,
    targets.filter(Target.names_something).map(Target.sentence),
    st.tuples(targets.filter(Target.names_something).map(Target.sentence), any_text, any_text)
      .map(lambda t: t[1][:40] + " " + t[0] + " " + t[2][:40]),
    st.sampled_from([None, b"the red gate", 7, ["the red gate"], {"text": "the red gate"}, 3.5]),
    st.integers(480, 520).map(lambda n: ("the red gate " * 60)[:n]),
)


def check(text) -> None:
    target = parse_simple_form(text)
    if target is None:
        return
    assert isinstance(target, Target) and target.names_something()
    sentence = target.sentence()
    assert isinstance(sentence, str) and sentence.startswith("Fly through the ") and len(sentence) <= 500
    assert parse_simple_form(sentence) == target, f"{text!r} -> {target} -> {sentence!r} -> {parse_simple_form(sentence)}"


@fuzz_settings(800)
@given(text=answers)
def test_parse_simple_form_never_raises_and_round_trips(text):
    check(text)


@fuzz_settings(300)
@given(target=targets.filter(Target.names_something))
def test_every_canonical_sentence_parses_back(target):
    assert parse_simple_form(target.sentence()) == target
