"""Other wordings of the simple form, so the policy flies to the right gate however it is phrased.

Our reasoner writes the canonical sentence (`Target.sentence()`: "Fly through the big round red
gate with the digit 7"), but other reasoners and users write "fly through red gate with number
4", "Go through the red big round gate with 7.", "head to the gate showing a zebra". Every
wording here names exactly what the canonical sentence names, and `parse_simple_form` reads it
back to the same Target (tests/training/test_wordings.py holds both to that).

`paraphrase(target, rng)` draws one wording; `paraphrase_set(target, n, seed)` the n distinct
wordings a training table keeps per simple prompt (seeded by the seed and the target, so the
set does not depend on the dataset's order). `heldout_paraphrase(target, rng)` draws a wording
from templates `paraphrase` never emits, to measure how the policy does on phrasings it was not
trained on.

Trained templates (what `paraphrase` draws from)
-------------------------------------------------
* verb: "Fly through", "Fly to", "Fly into", "Go through", "Go to", "Pass through", "Pass",
  "Head to", "Head for", "Get through", "Move through", or none (the noun phrase alone);
* gate: "the" / "a" / no article; size, shape and colour in any order but shape-colour-size,
  optionally comma-separated, each by any synonym the parser knows (big/large, small/little,
  round/circular/circle, square, triangle/triangular);
* picture attached by "with P", "showing P", "that shows P", "marked with P", "with P on it",
  "with P on the billboard", "that has P on its billboard", "having P on its billboard"; with
  no looks also "Fly to P" (with the verbs "Fly to", "Go to", "Head to", "Head for" or none)
  and "the P gate" (P not a bare character);
* P: an emoji label with its article, without it, or with "the" ("a zebra", "zebra", "the
  zebra"); a digit as "the digit 4", "digit 4", "number 4", "the number 4", "4", "a 4"; a
  letter as "the letter B", "letter B", "B", "a B" / "an A" (a bare "A" or "I" only as a
  capital in mixed-case text: see the parser's docstring);
* end: nothing, ".", "!" or ", please"; case: as written, all lower, all upper, or Title Case.

Held-out templates (only `heldout_paraphrase`; never emitted by `paraphrase`)
------------------------------------------------------------------------------
* verbs "Navigate through", "Steer through", "Make your way through", and the frame
  "Your target is ...";
* the picture attached by "bearing P" or "whose billboard displays P";
* a digit as "the numeral 4", a letter as "the capital letter B";
* the order shape-colour-size ("the round red big gate").
Every held-out wording uses a held-out frame (the first point) and, where the target allows,
draws the others too. `HELDOUT_MARKERS` lists the words that mark them.
"""

from __future__ import annotations

import random
import re

import numpy as np

from cognitivedrone.tasks.simple_form import Target, parse_simple_form
from cognitivedrone.tasks.vocabulary import ENTRY_BY_ID

Rng = random.Random | np.random.Generator | int

VERBS = ("Fly through", "Fly to", "Fly into", "Go through", "Go to", "Pass through", "Pass", "Head to", "Head for",
         "Get through", "Move through", "")
ATTACH = ("with {}", "showing {}", "that shows {}", "marked with {}", "with {} on it", "with {} on the billboard",
          "that has {} on its billboard", "having {} on its billboard")
HELDOUT_VERBS = ("Navigate through", "Steer through", "Make your way through", "Your target is")
HELDOUT_ATTACH = ("bearing {}", "whose billboard displays {}")
HELDOUT_ORDER = ("shape", "color", "size")
# Lower-case words that only held-out wordings contain (the order is checked separately).
HELDOUT_MARKERS = ("navigate", "steer", "make your way", "your target", "bearing", "whose billboard", "numeral",
                   "capital letter")

_SYNONYMS = {"big": ("big", "large"), "small": ("small", "little"), "round": ("round", "circular", "circle"),
             "square": ("square",), "triangle": ("triangle", "triangular"),
             "red": ("red",), "green": ("green",), "blue": ("blue",)}
_TOWARDS = ("Fly to", "Go to", "Head to", "Head for", "", "Your target is")  # "Fly to the zebra", not "through"
_AN_LETTERS = set("AEFHILMNORSX")  # "an F", "an S": said with a vowel sound


def _random(rng: Rng) -> random.Random:
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, np.random.Generator):
        return random.Random(int(rng.integers(1 << 62)))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return random.Random(int(rng))
    raise TypeError(f"rng must be a random.Random, a numpy Generator or an int seed, got {type(rng).__name__}")


def as_target(target: Target | str) -> Target:
    """A Target, or the Target a simple-form sentence (an episode's `prompt_simpler`) names."""
    if isinstance(target, Target):
        if not target.names_something():
            raise ValueError("the target names nothing")
        return target
    parsed = parse_simple_form(target)
    if parsed is None:
        raise ValueError(f"not a simple-form instruction (parse_simple_form refused it): {target!r}")
    return parsed


def _gate_phrase(t: Target, r: random.Random, heldout: bool) -> str:
    looks = [(k, v) for k, v in (("size", t.size), ("shape", t.shape), ("color", t.color)) if v]
    if heldout and len(looks) == 3 and r.random() < 0.5:
        order = {k: i for i, k in enumerate(HELDOUT_ORDER)}
        looks.sort(key=lambda kv: order[kv[0]])
    else:
        while True:
            r.shuffle(looks)
            if len(looks) < 3 or tuple(k for k, _ in looks) != HELDOUT_ORDER:
                break
    words = [r.choice(_SYNONYMS[v]) for _, v in looks]
    sep = ", " if len(words) > 1 and r.random() < 0.15 else " "
    article = r.choice(("the ", "the ", "the ", "a ", ""))
    return f"{article}{sep.join(words) + ' ' if words else ''}gate"


def _picture(asset: str, r: random.Random, case: str, bare_ok: bool, heldout: bool) -> tuple[str, bool]:
    """A phrase naming the picture, and whether it is a bare character (needs a cue word before it)."""
    e = ENTRY_BY_ID[asset]
    if e.kind == "digit":
        d = e.name
        if heldout and r.random() < 0.5:
            return f"the numeral {d}", False
        forms = [(f"the digit {d}", False), (f"digit {d}", False), (f"number {d}", False), (f"the number {d}", False)]
        if bare_ok:
            forms += [(d, True), (d, True), (f"a {d}", True)]
        return r.choice(forms)
    if e.kind == "letter":
        c = e.name
        if heldout and r.random() < 0.5:
            return f"the capital letter {c}", False
        forms = [(f"the letter {c}", False), (f"letter {c}", False)]
        if bare_ok:
            art = "an" if c in _AN_LETTERS else "a"
            forms.append((f"{art} {c}", True))
            # A bare "A" / "I" is the letter only as a capital in mixed-case text.
            if c not in "AI" or case in ("keep", "title"):
                forms += [(c, True), (c, True)]
        return r.choice(forms)
    label = e.label
    bare = re.sub(r"^(the|a|an) ", "", label)
    return r.choice((label, label, bare, f"the {bare}")), False


def _case(text: str, case: str) -> str:
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    if case == "title":
        return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    return text[:1].upper() + text[1:]


def _wording(target: Target | str, rng: Rng, heldout: bool) -> str:
    t = as_target(target)
    r = _random(rng)
    case = r.choices(("keep", "lower", "upper", "title"), weights=(6, 3, 1, 1))[0]
    verb = r.choice(HELDOUT_VERBS if heldout else VERBS)
    has_looks = any((t.size, t.shape, t.color))
    if t.asset is None:
        body = _gate_phrase(t, r, heldout)
    else:
        attach_forms = ATTACH + (HELDOUT_ATTACH * 2 if heldout else ())
        style = "attach" if has_looks else r.choice(("attach", "attach", "attach", "noun", "gate"))
        if style == "noun" and verb in _TOWARDS:
            body, _ = _picture(t.asset, r, case, False, heldout)  # "Fly to the zebra"
        elif style == "gate":
            pic, _ = _picture(t.asset, r, case, False, heldout)
            body = f"the {re.sub(r'^(the|a|an) ', '', pic)} gate"  # "the zebra gate"
        else:
            gate = _gate_phrase(t, r, heldout)
            pic, _ = _picture(t.asset, r, case, True, heldout)
            body = f"{gate} {r.choice(attach_forms).format(pic)}"
    text = f"{verb} {body}" if verb else body
    text += r.choices(("", ".", "!", ", please"), weights=(5, 4, 1, 1))[0]
    return _case(text, case)


def paraphrase(target: Target | str, rng: Rng) -> str:
    """One wording of the target (a Target or a simple-form sentence) from the trained templates."""
    return _wording(target, rng, heldout=False)


def heldout_paraphrase(target: Target | str, rng: Rng) -> str:
    """One wording from the held-out templates (evaluation only; see the module docstring)."""
    return _wording(target, rng, heldout=True)


def paraphrase_set(target: Target | str, n: int, seed: int = 0) -> list[str]:
    """Up to `n` distinct trained wordings of the target, none of them its canonical sentence;
    the same for the same (target, n, seed) in any process and any order of calls."""
    t = as_target(target)
    r = random.Random(f"wordings:{seed}:{t.sentence()}")  # str seeds hash with SHA-512: stable across runs
    canonical, out = t.sentence(), []
    for _ in range(20 * n):
        if len(out) >= n:
            break
        text = paraphrase(t, r)
        if text != canonical and text not in out:
            out.append(text)
    return out
