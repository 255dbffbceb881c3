"""Task families: how an instruction, three billboard pictures and the right answer are drawn.

A family samples (prompt, options, correct) from a random generator; the answer is unique by
construction (distractors are drawn so that exactly one option satisfies the instruction).
Every family has several phrasings so a policy cannot key on one sentence.

Categories, as the reference benchmark: `human` (people, professions, visible attributes),
`symbol` (digits, letters, animals, flags, objects), `reasoning` (arithmetic, category
membership, relations, negation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cognitivedrone.tasks.assets import KINDS, Asset, get_asset, list_assets

VERBS = ("Fly through", "Go through", "Pass through", "Navigate through", "Head through")


@dataclass(frozen=True)
class Task:
    prompt: str
    options: tuple[str, str, str]  # asset ids in gate order
    correct: int  # 0-based


class NoTask(Exception):
    """A draw that could not produce a unique answer; the caller draws again."""


def _pick(rng: np.random.Generator, items: list, k: int = 1) -> list:
    if len(items) < k:
        raise NoTask(f"need {k} items, have {len(items)}")
    idx = rng.choice(len(items), size=k, replace=False)
    return [items[i] for i in idx]


# Pictures one instruction could name together ("a car" also fits the taxi; "the person who
# enforces the law" also fits the guard): never a target and a distractor in one task.
CONFUSABLE = (
    {"vehicle:car", "vehicle:taxi", "vehicle:police_car"},
    {"food:candy", "food:lollipop", "food:chocolate"},
    {"food:cake", "food:cupcake"},
    {"animal:fish", "animal:shark"},
    {"animal:sparrow", "animal:crow"},
    {"person:police_officer", "person:detective", "person:guard"},
    {"person:white_haired_person", "person:older_person"},
    {"person:prince", "person:princess", "person:person_with_crown"},
)


def _unlike(target: Asset, pool: list[Asset]) -> list[Asset]:
    """The pool without the target and anything an instruction for the target could also name."""
    group = next((g for g in CONFUSABLE if target.id in g), {target.id})
    return [a for a in pool if a.id not in group]


def _arrange(rng: np.random.Generator, target: Asset, distractors: list[Asset]) -> tuple[tuple[str, str, str], int]:
    """Put the target at a uniformly random gate, distractors in the others."""
    correct = int(rng.integers(3))
    others = [d.id for d in distractors]
    options = others[:correct] + [target.id] + others[correct:]
    return tuple(options), correct


def _fill(template: str, rng: np.random.Generator, **kw) -> str:
    text = template.format(verb=VERBS[int(rng.integers(len(VERBS)))], **kw)
    return text[0].upper() + text[1:]


def _phrase(rng: np.random.Generator, templates: tuple[str, ...], **kw) -> str:
    return _fill(templates[int(rng.integers(len(templates)))], rng, **kw)


def _bare(label: str) -> str:
    """'an astronaut' -> 'astronaut'; 'the digit 7' stays."""
    for art in ("a ", "an "):
        if label.startswith(art):
            return label[len(art):]
    return label


NAMED = (
    "{verb} the gate with {label}",
    "{verb} the gate showing {label}",
    "Find {label} and fly through that gate",
    "{verb} the gate under the picture of {label}",
    "The target is the gate marked with {label}; fly through it",
)


# -- human ---------------------------------------------------------------------------------------

def human_profession(rng):
    people = list_assets(kind="person")
    target = _pick(rng, [a for a in people if "profession" in a.tags])[0]
    distractors = _pick(rng, _unlike(target, people), 2)
    options, correct = _arrange(rng, target, distractors)
    templates = NAMED + ("{verb} the gate with the {bare}", "Fly to the {bare} and go through the gate below")
    return Task(_phrase(rng, templates, label=target.label, bare=_bare(target.label)), options, correct)


ATTRIBUTE_PHRASES = {
    "hat": ("the person wearing a hat", "the person with something on their head", "the one in a hat"),
    "beard": ("the person with a beard", "the bearded person", "the one who has a beard"),
    "glasses": ("the person wearing glasses", "the one with glasses", "the person in spectacles"),
    "blond_hair": ("the person with blond hair", "the blond person"),
    "red_hair": ("the person with red hair", "the redhead"),
    "white_hair": ("the person with white hair", "the white-haired person"),
    "curly_hair": ("the person with curly hair",),
    "bald": ("the bald person", "the person with no hair"),
    "crown": ("the person wearing a crown", "the royal with a crown"),
}


def human_attribute(rng):
    people = list_assets(kind="person")
    usable = [t for t in ATTRIBUTE_PHRASES
              if sum(t in a.tags for a in people) >= 1 and sum(t not in a.tags for a in people) >= 2]
    tag = usable[int(rng.integers(len(usable)))]
    target = _pick(rng, [a for a in people if tag in a.tags])[0]
    # A hat hides the hair: nobody in a hat is a distractor for a hair question.
    hair = tag in ("bald", "blond_hair", "red_hair", "white_hair", "curly_hair")
    distractors = _pick(rng, [a for a in _unlike(target, people) if tag not in a.tags and not (hair and "hat" in a.tags)], 2)
    options, correct = _arrange(rng, target, distractors)
    who = ATTRIBUTE_PHRASES[tag][int(rng.integers(len(ATTRIBUTE_PHRASES[tag])))]
    templates = ("{verb} the gate with {who}", "{verb} the gate that shows {who}",
                 "Look for {who} and fly through that gate", "{verb} the gate below {who}")
    return Task(_phrase(rng, templates, who=who), options, correct)


def human_role(rng):
    people = list_assets(kind="person")
    target = _pick(rng, [a for a in people if "profession" in a.tags and a.clues])[0]
    distractors = _pick(rng, [a for a in _unlike(target, people) if "profession" in a.tags], 2)
    options, correct = _arrange(rng, target, distractors)
    clue = target.clues[int(rng.integers(len(target.clues)))]
    templates = ("{verb} the gate with the person {clue}", "{verb} the gate showing someone {clue}",
                 "Find the person {clue} and fly through that gate")
    return Task(_phrase(rng, templates, clue=clue), options, correct)


# -- symbol --------------------------------------------------------------------------------------

def _named_of_kinds(kinds: tuple[str, ...], same_kind_distractors: bool = True):
    def family(rng):
        pool = [a for k in kinds for a in list_assets(kind=k)]
        target = _pick(rng, pool)[0]
        dpool = _unlike(target, list_assets(kind=target.kind) if same_kind_distractors else pool)
        distractors = _pick(rng, dpool, 2)
        options, correct = _arrange(rng, target, distractors)
        return Task(_phrase(rng, NAMED, label=target.label), options, correct)
    return family


def symbol_digit(rng):
    target = _pick(rng, list_assets(kind="digit"))[0]
    distractors = _pick(rng, [a for a in list_assets(kind="digit") if a.id != target.id], 2)
    options, correct = _arrange(rng, target, distractors)
    n = target.value
    templates = NAMED + ("{verb} the gate with the number {n}", "{verb} the gate with number {n}",
                         "{verb} the gate marked {n}")
    return Task(_phrase(rng, templates, label=target.label, n=n), options, correct)


def symbol_letter(rng):
    target = _pick(rng, list_assets(kind="letter"))[0]
    distractors = _pick(rng, [a for a in list_assets(kind="letter") if a.id != target.id], 2)
    options, correct = _arrange(rng, target, distractors)
    templates = NAMED + ("{verb} the gate with the letter {n}", "{verb} the gate marked {n}")
    return Task(_phrase(rng, templates, label=target.label, n=target.name), options, correct)


symbol_animal = _named_of_kinds(("animal",))
symbol_object = _named_of_kinds(("flag", "object", "vehicle", "food"))


# -- reasoning -----------------------------------------------------------------------------------

def reasoning_arithmetic(rng):
    while True:
        op = "+-*"[int(rng.integers(3))]
        a, b = int(rng.integers(10)), int(rng.integers(10))
        result = a + b if op == "+" else a - b if op == "-" else a * b
        if 0 <= result <= 9:
            break
    digits = list_assets(kind="digit")
    target = next(d for d in digits if d.value == result)
    distractors = _pick(rng, [d for d in digits if d.value != result], 2)
    options, correct = _arrange(rng, target, distractors)
    sym = {"+": "+", "-": "-", "*": "*"}[op]
    word = {"+": "plus", "-": "minus", "*": "times"}[op]
    noun = {"+": "sum", "-": "difference", "*": "product"}[op]
    templates = (
        "{verb} the gate with number equal {a}{sym}{b}",
        "{verb} the gate with the number equal to {a} {sym} {b}",
        "{verb} the gate whose number is {a} {word} {b}",
        "Compute {a} {word} {b} and fly through the gate showing the answer",
        "{verb} the gate with the {noun} of {a} and {b}",
        "Which gate shows {a}{sym}{b}? Fly through it",
    )
    return Task(_phrase(rng, templates, a=a, b=b, sym=sym, word=word, noun=noun), options, correct)


# (kind, tag, phrases, contrast): the target has the tag; distractors of the same kind lack it
# and, where given, carry one of the contrast tags. A missing tag means "not characteristically",
# so a contrast keeps borderline pictures (an avocado as a "vegetable"?) out of the distractors.
MEMBERSHIP = (
    ("food", "healthy", ("the healthy food", "the food that is good for you", "the healthiest snack"), ()),
    ("food", "unhealthy", ("the unhealthy food", "the junk food", "the food you should eat least"), ()),
    ("food", "fruit", ("the fruit",), ("vegetable", "unhealthy")),
    ("food", "vegetable", ("the vegetable",), ("sweet",)),
    ("animal", "flies", ("the animal that can fly", "an animal that flies", "the creature that can fly"), ()),
    # Many land animals can swim: contrast water animals with fliers, insects and farm animals.
    ("animal", "swims", ("the animal that lives in water", "the water animal"), ("flies", "insect", "farm")),
    ("animal", "mammal", ("the mammal",), ()),
    ("animal", "bird", ("the bird",), ()),
    ("animal", "insect", ("the insect",), ()),
    ("animal", "farm", ("the farm animal",), ("wild",)),
)


def reasoning_membership(rng):
    while True:
        kind, tag, phrases, contrast = MEMBERSHIP[int(rng.integers(len(MEMBERSHIP)))]
        pool = list_assets(kind=kind)
        others = [a for a in pool if tag not in a.tags and (not contrast or a.tags & set(contrast))]
        try:
            target = _pick(rng, [a for a in pool if tag in a.tags])[0]
            distractors = _pick(rng, others, 2)
            break
        except NoTask:
            continue
    options, correct = _arrange(rng, target, distractors)
    what = phrases[int(rng.integers(len(phrases)))]
    templates = ("{verb} the gate with {what}", "{verb} the gate that shows {what}",
                 "Find {what} and fly through its gate", "Only one gate shows {what}: fly through it")
    return Task(_phrase(rng, templates, what=what), options, correct)


def _relational_digits(rng):
    digits = list_assets(kind="digit")
    mode = ["largest", "smallest", "even", "odd", "greater"][int(rng.integers(5))]
    if mode in ("largest", "smallest"):
        chosen = _pick(rng, digits, 3)
        target = max(chosen, key=lambda d: d.value) if mode == "largest" else min(chosen, key=lambda d: d.value)
        what = {"largest": ("the largest number", "the biggest number", "the highest digit"),
                "smallest": ("the smallest number", "the lowest digit", "the least number")}[mode]
    elif mode in ("even", "odd"):
        other = "odd" if mode == "even" else "even"
        target = _pick(rng, [d for d in digits if mode in d.tags])[0]
        chosen = [target] + _pick(rng, [d for d in digits if other in d.tags], 2)
        what = (f"the {mode} number", f"the only {mode} digit")
    else:
        k = int(rng.integers(2, 8))
        target = _pick(rng, [d for d in digits if d.value > k])[0]
        chosen = [target] + _pick(rng, [d for d in digits if d.value <= k], 2)
        what = (f"the number greater than {k}", f"the digit bigger than {k}", f"a number above {k}")
    distractors = [d for d in chosen if d.id != target.id]
    return target, distractors, what


def _relational_letters(rng):
    letters = sorted(list_assets(kind="letter"), key=lambda a: a.value)
    mode = ["after", "before", "first", "vowel"][int(rng.integers(4))]
    if mode in ("after", "before"):
        i = int(rng.integers(1, 25))
        ref = letters[i]
        target = letters[i + 1] if mode == "after" else letters[i - 1]
        distractors = _pick(rng, [a for a in letters if a.id != target.id], 2)
        what = ((f"the letter that comes right after {ref.name}", f"the letter following {ref.name} in the alphabet")
                if mode == "after" else
                (f"the letter that comes right before {ref.name}", f"the letter just before {ref.name} in the alphabet"))
    elif mode == "first":
        chosen = _pick(rng, letters, 3)
        target = min(chosen, key=lambda a: a.value)
        distractors = [a for a in chosen if a.id != target.id]
        what = ("the letter that comes first in the alphabet", "the earliest letter in the alphabet")
    else:
        target = _pick(rng, [a for a in letters if "vowel" in a.tags])[0]
        distractors = _pick(rng, [a for a in letters if "consonant" in a.tags], 2)
        what = ("the vowel", "the only vowel")
    return target, distractors, what


def reasoning_relational(rng):
    target, distractors, what = (_relational_digits if rng.random() < 0.5 else _relational_letters)(rng)
    options, correct = _arrange(rng, target, distractors)
    w = what[int(rng.integers(len(what)))]
    templates = ("{verb} the gate with {w}", "{verb} the gate that shows {w}", "Find {w} and fly through that gate")
    return Task(_phrase(rng, templates, w=w), options, correct)


# Kinds whose noun excludes every other kind's pictures ("an object" would also fit a vehicle,
# "food" a fish), so "the gate that does not show <noun>" has one answer.
KIND_NOUNS = {
    "digit": ("a number", "a digit"), "letter": ("a letter",), "animal": ("an animal",),
    "person": ("a person", "a human"), "flag": ("a flag",), "vehicle": ("a vehicle",),
}


def reasoning_negation(rng):
    if rng.random() < 0.6:
        # Two of one kind, the target of another: "the gate that does not show an animal".
        k_other = _pick(rng, list(KIND_NOUNS))[0]
        k_target = _pick(rng, [k for k in KINDS if k != k_other])[0]
        distractors = _pick(rng, list_assets(kind=k_other), 2)
        target = _pick(rng, list_assets(kind=k_target))[0]
        nouns = KIND_NOUNS[k_other]
        what = nouns[int(rng.integers(len(nouns)))]
        templates = ("{verb} the gate that does not show {what}", "{verb} the only gate without {what}",
                     "Avoid the gates with {what} and fly through the other one",
                     "{verb} the gate whose picture is not {what}")
    else:
        # Two satisfy a property, the target does not: "the food that is not healthy".
        kind, tag, noun, neg = [
            ("person", "hat", "person", "the person not wearing a hat"),
            ("person", "beard", "person", "the person without a beard"),
            ("food", "healthy", "food", "the food that is not healthy"),
            ("animal", "flies", "animal", "the animal that cannot fly"),
            ("animal", "mammal", "animal", "the animal that is not a mammal"),
            ("digit", "even", "digit", "the number that is not even"),
            ("letter", "vowel", "letter", "the letter that is not a vowel"),
        ][int(rng.integers(7))]
        pool = list_assets(kind=kind)
        distractors = _pick(rng, [a for a in pool if tag in a.tags], 2)
        target = _pick(rng, [a for a in pool if tag not in a.tags])[0]
        what = neg
        templates = ("{verb} the gate with {what}", "Find {what} and fly through that gate")
    options, correct = _arrange(rng, target, distractors)
    return Task(_phrase(rng, templates, what=what), options, correct)


@dataclass(frozen=True)
class Family:
    name: str  # "category/short"
    category: str
    sample: Callable[[np.random.Generator], Task]


FAMILIES: tuple[Family, ...] = (
    Family("human/profession", "human", human_profession),
    Family("human/attribute", "human", human_attribute),
    Family("human/role", "human", human_role),
    Family("symbol/digit", "symbol", symbol_digit),
    Family("symbol/letter", "symbol", symbol_letter),
    Family("symbol/animal", "symbol", symbol_animal),
    Family("symbol/object", "symbol", symbol_object),
    Family("reasoning/arithmetic", "reasoning", reasoning_arithmetic),
    Family("reasoning/membership", "reasoning", reasoning_membership),
    Family("reasoning/relational", "reasoning", reasoning_relational),
    Family("reasoning/negation", "reasoning", reasoning_negation),
)


def get_family(name: str) -> Family:
    for f in FAMILIES:
        if f.name == name:
            return f
    raise ValueError(f"unknown family {name!r}; known: {', '.join(f.name for f in FAMILIES)}")


def families_of(category: str) -> list[Family]:
    return [f for f in FAMILIES if f.category == category]


def sample_task(family: Family, rng: np.random.Generator, tries: int = 50) -> Task:
    for _ in range(tries):
        try:
            return family.sample(rng)
        except NoTask:
            continue
    raise RuntimeError(f"family {family.name} could not draw a task in {tries} tries; is the vocabulary too small?")


def object_prompt(asset_id: str) -> str:
    """The simple form without the gate's looks: only the picture tells the gates apart."""
    return f"Fly through the gate with {get_asset(asset_id).label}"


def simple_prompt(look_size: str, look_shape: str, look_color: str, asset_id: str) -> str:
    """The reference's ground-truth simple form: the gate's size, shape and colour and the object."""
    return f"Fly through the {look_size} {look_shape} {look_color} gate with {get_asset(asset_id).label}"
