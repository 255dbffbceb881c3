"""Task families: every draw has exactly one right answer, and the answer is what the prompt asks."""

import re

import numpy as np
import pytest

from cognitivedrone.tasks.assets import get_asset
from cognitivedrone.tasks.families import FAMILIES, MEMBERSHIP, sample_task

N = 60


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_family_draws_are_well_formed(family):
    rng = np.random.default_rng(0)
    prompts = set()
    positions = set()
    for _ in range(N):
        t = sample_task(family, rng)
        assert len(set(t.options)) == 3, t
        for o in t.options:
            get_asset(o)
        assert 0 <= t.correct < 3
        positions.add(t.correct)
        prompts.add(t.prompt)
        assert t.prompt[0].isupper()
    assert positions == {0, 1, 2}
    assert len(prompts) > N // 3, "phrasings should vary"


def _eval(a: int, op: str, b: int) -> int:
    return {"+": a + b, "-": a - b, "*": a * b, "plus": a + b, "minus": a - b, "times": a * b,
            "sum": a + b, "difference": a - b, "product": a * b}[op]


def test_arithmetic_answer_is_the_result():
    rng = np.random.default_rng(1)
    fam = next(f for f in FAMILIES if f.name == "reasoning/arithmetic")
    for _ in range(200):
        t = sample_task(fam, rng)
        m = (re.search(r"(\d)\s*([+*-])\s*(\d)", t.prompt) or re.search(r"(\d) (plus|minus|times) (\d)", t.prompt))
        if m:
            a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
        else:
            m = re.search(r"(sum|difference|product) of (\d) and (\d)", t.prompt)
            op, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        result = _eval(a, op, b)
        assert 0 <= result <= 9
        values = [get_asset(o).value for o in t.options]
        assert values[t.correct] == result and values.count(result) == 1


def test_membership_answer_is_unique():
    rng = np.random.default_rng(2)
    fam = next(f for f in FAMILIES if f.name == "reasoning/membership")
    phrase_to_tag = {p: (kind, tag) for kind, tag, phrases, _ in MEMBERSHIP for p in phrases}
    for _ in range(200):
        t = sample_task(fam, rng)
        hits = [(k, tag) for p, (k, tag) in phrase_to_tag.items() if p in t.prompt]
        kind, tag = max(hits, key=lambda h: len(h[1]))
        has = [tag in get_asset(o).tags for o in t.options]
        assert has[t.correct] and sum(has) == 1, (t, tag)


NEGATED = {"not wearing a hat": "hat", "without a beard": "beard", "not healthy": "healthy",
           "cannot fly": "flies", "not a mammal": "mammal", "not even": "even", "not a vowel": "vowel"}


def test_named_distractors_are_not_confusable():
    from cognitivedrone.tasks.families import CONFUSABLE
    rng = np.random.default_rng(4)
    for fam in FAMILIES:
        for _ in range(100):
            t = sample_task(fam, rng)
            target = t.options[t.correct]
            for group in CONFUSABLE:
                if target in group:
                    assert len(group & set(t.options)) == 1, (fam.name, t)


def test_negation_answer_is_the_odd_one_out():
    rng = np.random.default_rng(3)
    fam = next(f for f in FAMILIES if f.name == "reasoning/negation")
    for _ in range(100):
        t = sample_task(fam, rng)
        kinds = [get_asset(o).kind for o in t.options]
        target_kind = kinds[t.correct]
        others = [k for i, k in enumerate(kinds) if i != t.correct]
        if any(k in t.prompt for k in ("does not show", "only gate without", "Avoid the gates", "whose picture is not")):
            assert others[0] == others[1] != target_kind
        else:  # "the food that is not healthy": same kind, the target lacks what both others have
            assert len(set(kinds)) == 1
            tag = next(tag for phrase, tag in NEGATED.items() if phrase in t.prompt)
            has = [tag in get_asset(o).tags for o in t.options]
            assert not has[t.correct] and sum(has) == 2, (t, tag)
