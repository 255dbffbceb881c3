"""Other wordings of the simple form: each parses back to its Target; held-out templates stay
out of training; the same seed gives the same wordings; training swaps them in."""

import itertools
import random
import re

import numpy as np
import pytest

from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES
from cognitivedrone.tasks.simple_form import _SHAPE_WORDS, _SIZE_WORDS, Target, parse_simple_form
from cognitivedrone.tasks.vocabulary import ENTRIES
from cognitivedrone.tasks.wordings import (
    HELDOUT_MARKERS,
    HELDOUT_ORDER,
    as_target,
    heldout_paraphrase,
    paraphrase,
    paraphrase_set,
)
from cognitivedrone.training.config import TrainConfig

ASSETS = [f"{e.kind}:{e.name}" for e in ENTRIES]
LOOKS = [t for t in itertools.product((None,) + GATE_SIZES, (None,) + GATE_SHAPES, (None,) + GATE_COLORS) if any(t)]


def _targets():
    """Gate only (every combination of looks), picture only (every asset), and both (every
    asset, with looks drawn in turn)."""
    yield from (Target(*looks) for looks in LOOKS)
    yield from (Target(asset=a) for a in ASSETS)
    yield from (Target(*LOOKS[i * 7 % len(LOOKS)], asset=a) for i, a in enumerate(ASSETS))
    yield from (Target(size, shape, color, a) for a in ("digit:0", "letter:A", "letter:I", "letter:B")
                for size, shape, color in itertools.product(GATE_SIZES, GATE_SHAPES, GATE_COLORS))


def test_every_wording_parses_back_to_its_target():
    bad = []
    for n, target in enumerate(_targets()):
        rng = random.Random(n)
        for _ in range(50):
            text = paraphrase(target, rng)
            if parse_simple_form(text) != target:
                bad.append((target, text, parse_simple_form(text)))
    assert not bad, bad[:10]


def test_every_heldout_wording_parses_back_and_is_heldout():
    bad = []
    for n, target in enumerate(_targets()):
        rng = random.Random(10_000 + n)
        for _ in range(10):
            text = heldout_paraphrase(target, rng)
            if parse_simple_form(text) != target or not any(m in text.lower() for m in HELDOUT_MARKERS):
                bad.append((target, text, parse_simple_form(text)))
    assert not bad, bad[:10]


_KIND = {**{w: "size" for w in _SIZE_WORDS}, **{w: "shape" for w in _SHAPE_WORDS}, **{c: "color" for c in GATE_COLORS}}


def _looks_order(text: str) -> tuple[str, ...]:
    m = re.search(r"((?:\w+[\s,]+){0,3})gate\b", text.lower())
    return tuple(_KIND[w] for w in re.split(r"[\s,]+", m.group(1)) if w in _KIND) if m else ()


def test_paraphrase_never_emits_a_heldout_template():
    seen_orders = set()
    for n, target in enumerate(_targets()):
        rng = np.random.default_rng(n)
        for _ in range(20):
            text = paraphrase(target, rng)
            low = text.lower()
            assert not any(m in low for m in HELDOUT_MARKERS), text
            order = _looks_order(text)
            assert order != HELDOUT_ORDER, text
            seen_orders.add(order)
    # Every other order of three looks is trained.
    assert len({o for o in seen_orders if len(o) == 3}) == 5
    # ...and the held-out order does come up in held-out wordings.
    rng = random.Random(0)
    full = Target("big", "round", "red", "digit:7")
    assert any(_looks_order(heldout_paraphrase(full, rng)) == HELDOUT_ORDER for _ in range(100))


def test_wordings_vary():
    """The generator covers the axes it claims: verbs, articles, case, bare characters."""
    rng = random.Random(1)
    texts = [paraphrase(Target("big", "round", "red", "digit:4"), rng) for _ in range(300)]
    low = [t.lower() for t in texts]
    for phrase in ("go through", "pass ", "head to", "with 4", "with number 4", "showing", "marked with",
                   "on its billboard", "large", "circular", "red big", "red gate"):
        assert any(phrase in t for t in low), phrase
    assert any(t == t.upper() for t in texts) and any(t == t.lower() for t in texts)
    assert any(t.lower().startswith("big") or t.lower().startswith("the ") for t in texts)  # no verb
    letters = [paraphrase(Target(asset="letter:B"), rng) for _ in range(200)]
    assert any(re.search(r"\b(with|showing|shows) b\b", t.lower()) for t in letters)


def test_same_seed_same_wordings():
    t = Target("small", "triangle", "green", "animal:cat")
    assert [paraphrase(t, random.Random(5)) for _ in range(3)] == [paraphrase(t, random.Random(5)) for _ in range(3)]
    assert paraphrase(t, 5) == paraphrase(t, 5)
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    assert [paraphrase(t, a) for _ in range(10)] == [paraphrase(t, b) for _ in range(10)]
    assert len({paraphrase(t, s) for s in range(50)}) > 20
    assert heldout_paraphrase(t, 3) == heldout_paraphrase(t, 3)


def test_paraphrase_set_is_fixed_distinct_and_not_canonical():
    text = "Fly through the big round red gate with the digit 7"
    s = paraphrase_set(text, 8, seed=0)
    assert len(s) == 8 and len(set(s)) == 8 and text not in s
    assert s == paraphrase_set(as_target(text), 8, seed=0)  # the text or its Target: the same set
    assert s != paraphrase_set(text, 8, seed=1)
    assert all(parse_simple_form(w) == as_target(text) for w in s)
    assert paraphrase_set(text, 3, seed=0) == s[:3]


def test_targets_from_simple_prompts():
    assert as_target("Fly through the big square blue gate with 9") == Target("big", "square", "blue", "digit:9")
    with pytest.raises(ValueError):
        as_target("Do not fly through the red gate")
    with pytest.raises(ValueError):
        as_target(Target())
    with pytest.raises(TypeError):
        paraphrase(Target(color="red"), "seed")


# -- training -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demos(tmp_path_factory):
    from cognitivedrone.data.datagen import DatagenConfig, generate

    out = tmp_path_factory.mktemp("d") / "demos"
    generate(DatagenConfig(episodes=3, seed=21, out=str(out), workers=1, shard_episodes=3), progress=False)
    return str(out)


def test_training_swaps_simple_texts_for_their_wordings(demos):
    from cognitivedrone.policy.filmcnn.processing import ActionNormalizer
    from cognitivedrone.training.data import TrainingData

    plain = TrainingData(demos, chunk_size=4, decision_frac=0.5)
    data = TrainingData(demos, chunk_size=4, decision_frac=0.5, paraphrases=8, paraphrase_seed=0)
    assert set(plain.texts) < set(data.texts)
    simple = {plain.texts[r] for r in np.unique(np.r_[plain.text_simple, plain.ep_gate_text.ravel()])}
    assert len(data.texts) == len(plain.texts) + 8 * len(simple)  # 8 distinct wordings each, none shared here
    assert data.paraphrase_rows.shape == (len(data.texts), 8)
    assert TrainingData(demos, chunk_size=4, paraphrases=8, paraphrase_seed=0).texts == data.texts  # fixed per seed
    norm = ActionNormalizer.from_data(plain.actions)

    def texts(d, b):
        return [d.texts[r] for r in b["text_rows"][b["text_index"]].numpy()]

    # paraphrase_prob 0: the batch of old, draw for draw.
    r0, r1 = np.random.default_rng(3), np.random.default_rng(3)
    assert texts(plain, plain.batch(r0, 32, norm, 0.5, False)) == texts(data, data.batch(r1, 32, norm, 0.5, False, 0.0))
    assert r0.random() == r1.random()
    # paraphrase_prob 1: every simple-form text is reworded, originals are left alone; the
    # wording names the same gate and picture.
    before = texts(plain, plain.batch(np.random.default_rng(4), 64, norm, 0.5, False))
    after = texts(data, data.batch(np.random.default_rng(4), 64, norm, 0.5, False, paraphrase_prob=1.0))
    originals = {plain.texts[r] for r in plain.text_original}
    swapped = 0
    for b, a in zip(before, after):
        if b not in simple:
            assert a == b
        elif b in originals and a == b:  # an original that reads like a simple form: left alone
            continue
        else:
            assert a != b and parse_simple_form(a) == parse_simple_form(b), (b, a)
            swapped += 1
    assert swapped >= 32  # at least the decision samples
    with pytest.raises(ValueError):
        plain.batch(np.random.default_rng(0), 8, norm, 0.5, False, paraphrase_prob=0.5)


def test_config_paraphrase_settings():
    cfg = TrainConfig(data="d", out="o")
    assert cfg.paraphrase_prob == 0.5 and cfg.paraphrases_per_prompt == 3
    cfg.validate()
    old = {k: v for k, v in cfg.to_dict().items() if k not in ("paraphrase_prob", "paraphrases_per_prompt")}
    assert TrainConfig.from_dict(old).paraphrase_prob == 0.0  # an old run trained without them
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    for bad in ({"paraphrase_prob": 1.5}, {"paraphrase_prob": float("nan")}, {"paraphrase_prob": True},
                {"paraphrases_per_prompt": 0}, {"paraphrases_per_prompt": -1}):
        with pytest.raises(ValueError):
            TrainConfig(data="d", out="o", **bad).validate()
    TrainConfig(data="d", out="o", paraphrase_prob=0.0, paraphrases_per_prompt=0).validate()
