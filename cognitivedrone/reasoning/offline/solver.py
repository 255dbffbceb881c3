"""From an instruction and what each billboard (probably) shows, to the gate meant.

No model and no `eval`: the instruction is read with patterns for the question types people ask
about pictures (arithmetic, category membership, order and comparison, negation, naming), and each
candidate is scored against the vocabulary's facts (tags, values, names, clues). Candidates come
with probabilities over the vocabulary from the perception model, so a score is an expectation:
an unsure reading counts for less.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from cognitivedrone.tasks.vocabulary import ENTRY_BY_ID

UNSURE_BONUS = 0.5
# The odds that the picture asked for is on no billboard seen (it may be out of view): one seen
# whose reading fits no better than this is no answer. Chosen on the validation art set, which no
# training run prints (reader_data.VALIDATION_ART): asked for one of three pictures in it, the
# reader answered 72 % and was right in 96.7 % of those at 0.01; at 0.05, 60 % and 98.5 %. An
# unanswered task is asked by the picture's name alone, which the policy finds in such art at
# about chance.
NONE_SEEN_ODDS = 0.01
SURE_FIT = 0.8
# A reading whose best billboard fits it less than this gives way to a later reading that fits one
# better ("names the white-haired person" to "has white hair"); with none, it still answers.
WEAK_FIT = 0.1
KIND_READING = "is a "  # how a kind reading's rationale starts (`Solver.fit`)
NEGATION = re.compile(r"\b(not|no|without|avoid|cannot|can't|can not|isn't|doesn't|don't|never|except|other than)\b|n't\b")
MOTION = re.compile(r"\b(fly|go|pass|navigate|head|move|steer|pilot|race|travel)\s+"
                    r"(through|to|into|towards?|across|via|between|past)\b")
# Commands to fly that name no gate and that MOTION leaves: "keep flying forward", "you can fly home".
FLIGHT_COMMAND = re.compile(r"\b(?:keep|start|continue|stop|begin|go|try|resume)\s+flying\b"
                            r"|\byou\s+(?:can|could|may|should|must)\s+fly\b")
# "fly" is the property only where something is said to fly ("an animal that can fly", "birds
# that don't fly"); a bare "fly" is the command ("fly home", "fly up 100 m"), which asks about no
# picture: read as "can fly", it sent the drone through the sparrow's gate.
FLIES = (r"\b(?:can|could|cannot|can't|can not|able to)\s+fly\b"
         r"|\b(?:that|which|who)(?:\s+(?:do|does|did)(?:n't|\s+not)?|\s+never)?\s+fly\b"
         r"|flies|flying|winged|airborne\b")
# A number followed by a unit is a distance or a time, not a picture: "climb above 5 m" (and
# not "above 1" when "10 m" does not fit).
UNITS = r"m|meters?|metres?|cm|km|ft|feet|foot|s|secs?|seconds?|min|minutes?|mph|percent|degrees?"
NOT_A_UNIT = rf"(?!\d)(?!\s*(?:%|(?:{UNITS})\b))"
NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUM = r"(\d+|" + "|".join(NUMBER_WORDS) + r")"
OPS = {"+": "+", "plus": "+", "add": "+", "added to": "+", "-": "-", "−": "-", "minus": "-", "take away": "-",
       "*": "*", "x": "*", "×": "*", "times": "*", "multiplied by": "*", "/": "/", "÷": "/", "divided by": "/",
       "over": "/"}
_OP = "(" + "|".join(re.escape(o) for o in sorted(OPS, key=len, reverse=True)) + ")"
NOUN_OPS = {"sum": "+", "total": "+", "difference": "-", "product": "*", "quotient": "/"}

# phrase pattern -> tag (the vocabulary's tags); the first that matches wins within a group.
TAG_PATTERNS = [
    (r"\bunhealthy|junk|bad for you|eat (the )?least|not good for you\b", "unhealthy"),
    (r"\bhealthy|healthiest|good for you|nutritious\b", "healthy"),
    (r"\bfruits?\b", "fruit"), (r"\bvegetables?|veggie", "vegetable"), (r"\bsweets?|sugary|dessert", "sweet"),
    (r"\bdrinks?|beverage", "drink"),
    (FLIES, "flies"),
    (r"\bswim|swims|in (the )?water|water animal|aquatic|sea creature|ocean\b", "swims"),
    (r"\bmammals?\b", "mammal"), (r"\bbirds?\b", "bird"), (r"\binsects?|bugs?\b", "insect"), (r"\breptiles?\b", "reptile"),
    (r"\bfish\b", "fish"), (r"\bfarm\b", "farm"), (r"\bwild\b", "wild"), (r"\bpets?\b", "pet"),
    (r"\bhat|cap\b|something on (their|his|her) head", "hat"), (r"\bbeard|bearded\b", "beard"),
    (r"\bglasses|spectacles|eyeglasses\b", "glasses"), (r"\bblond|blonde\b", "blond_hair"),
    (r"\bred hair|redhead|red-haired|ginger\b", "red_hair"), (r"\bwhite hair|white-haired|grey hair|gray hair\b", "white_hair"),
    (r"\bcurly\b", "curly_hair"), (r"\bbald|no hair\b", "bald"), (r"\bcrown|royal|king|queen\b", "crown"),
    (r"\bvowels?\b", "vowel"), (r"\bconsonants?\b", "consonant"), (r"\beven\b", "even"), (r"\bodd\b", "odd"),
    (r"\bprime\b", "prime"), (r"\bemergency\b", "emergency"), (r"\btools?\b", "tool"), (r"\binstruments?\b", "instrument"),
    (r"\btoys?\b", "toy"), (r"\bafrica", "africa"), (r"\beurope", "europe"), (r"\basia", "asia"),
    (r"\bamerica", "americas"), (r"\boceania|australia", "oceania"),
]
KIND_PATTERNS = [
    (r"\b(numbers?|digits?|numerals?)\b", "digit"), (r"\bletters?\b", "letter"), (r"\banimals?|creatures?\b", "animal"),
    (r"\b(person|people|human|man|woman|someone)\b", "person"), (r"\bflags?\b", "flag"), (r"\bvehicles?\b", "vehicle"),
    (r"\bfood|snack|eat\b", "food"),
]


@dataclass(frozen=True)
class Choice:
    index: int  # which candidate
    asset: int  # the vocabulary index it most likely shows, among those that fit
    rationale: str
    margin: float  # best score minus the runner-up's
    fit: float = 1.0  # how well its billboard's reading fits the reading of the words that chose it

    @property
    def weak(self) -> bool:
        """Chosen by the odds of slips: no billboard's reading fits well (WEAK_FIT)."""
        return self.fit < WEAK_FIT


def _n(tok: str) -> int:
    return int(tok) if tok.isdigit() else NUMBER_WORDS[tok]


def _arithmetic(text: str) -> tuple[int, str] | None:
    m = re.search(_NUM + r"\s*" + _OP + r"\s*" + _NUM, text)
    if m:
        a, op, b = _n(m.group(1)), OPS[m.group(2)], _n(m.group(3))
    else:
        m = re.search(r"\b(sum|total|difference|product|quotient)\s+(?:of|between)\s+" + _NUM + r"\s+and\s+" + _NUM, text)
        if not m:
            return None
        op, a, b = NOUN_OPS[m.group(1)], _n(m.group(2)), _n(m.group(3))
    if op == "/" and (b == 0 or a % b):
        return None
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0}[op]
    return value, f"{a} {op} {b} = {value}"


class Solver:
    def __init__(self, asset_ids: tuple[str, ...]):
        self.entries = [ENTRY_BY_ID[a] for a in asset_ids]
        self.kind = np.array([e.kind for e in self.entries])
        self.value = np.array([(e.value if e.value is not None else -1) for e in self.entries], float)
        self.tags = [set(e.tags) for e in self.entries]
        self.names = []  # per asset: phrases that name it in an instruction
        for e in self.entries:
            label = e.label.lower()
            phrases = {label, re.sub(r"^(the|a|an) ", "", label)}
            if e.kind not in ("digit", "letter") and len(e.name) > 2:
                phrases.add(e.name.replace("_", " ").lower())
            phrases |= {c.lower() for c in e.clues}
            if e.kind in ("digit", "letter"):  # "the number 6", "the gate marked W"
                n = e.name.lower()
                phrases |= {f"{w} {n}" for w in ("number", "digit", "numeral", "marked", "letter", "showing")}
            self.names.append(sorted(phrases, key=len, reverse=True))

    # -- the fit of every vocabulary entry to the instruction --------------------------------------
    def fit(self, text: str) -> tuple[list[tuple[np.ndarray, str]], str | None]:
        """Readings of an instruction, most specific first: (fit per asset in [0, 1], rationale),
        and the set relation ("max"/"min") if it asks for an extreme."""
        t = " " + re.sub(r"\s+", " ", text.lower()) + " "
        # The imperative is not part of the question: "fly through" must not read as "can fly".
        t = FLIGHT_COMMAND.sub(" ", MOTION.sub(" ", t))
        arith = _arithmetic(t)
        if arith is not None:
            value, why = arith
            return [(((self.kind == "digit") & (self.value == value)).astype(float), why)], None
        m = re.search(r"\b(right |just |immediately |directly )?(after|following|follows|before|preceding|precedes)\s+"
                      r"(?:the letter\s+)?([a-z])\b", t)
        if m and "letter" in t or (m and m.group(1)):
            ref = ord(m.group(3)) - ord("a") + 1
            step = 1 if m.group(2) in ("after", "following", "follows") else -1
            return [(((self.kind == "letter") & (self.value == ref + step)).astype(float), f"letter {m.group(2)} {m.group(3).upper()}")], None
        for pat, rel in ((r"\b(largest|biggest|highest|greatest|maximum|largest)\b", "max"),
                         (r"\b(smallest|lowest|least|minimum|tiniest)\b", "min"),
                         (r"\b(first|earliest)\b.*\balphabet", "min"), (r"\b(last|latest)\b.*\balphabet", "max")):
            if re.search(pat, t) and not re.search(r"eat (the )?least", t):
                kind = "letter" if "alphabet" in t or "letter" in t else "digit"
                return [((self.kind == kind).astype(float), f"the {rel} {kind}")], rel
        m = re.search(r"\b(greater|bigger|larger|more|higher|above|over|less|smaller|fewer|lower|below|under)\s+(?:than\s+)?"
                      + _NUM + NOT_A_UNIT, t)
        if m:
            k = _n(m.group(2))
            above = m.group(1) in ("greater", "bigger", "larger", "more", "higher", "above", "over")
            ok = (self.kind == "digit") & ((self.value > k) if above else (self.value < k))
            return [(ok.astype(float), f"number {'>' if above else '<'} {k}")], None

        t = re.sub(r"\bno hair\b", "bald", t)  # a property, not a negation
        negated = bool(NEGATION.search(t))
        readings = []  # most specific first: a name, then properties, then kinds
        named = [i for i, names in enumerate(self.names) if any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", t) for p in names)]
        if named:
            fit = np.zeros(len(self.entries))
            fit[named] = 1.0
            readings.append((fit, "names " + ", ".join(self.entries[i].label for i in named[:3])))
        tags = [tag for pat, tag in TAG_PATTERNS if re.search(pat, t)]
        if tags:
            readings.append((np.array([float(any(tag in ts for tag in tags)) for ts in self.tags]), "is " + "/".join(tags)))
        kinds = [kind for pat, kind in KIND_PATTERNS if re.search(pat, t)]
        if kinds:  # the kind is never the weak fallback's answer (`choose`): it fits what the name does
            readings.append((np.isin(self.kind, kinds).astype(float), KIND_READING + "/".join(kinds)))
        if negated:
            readings = [(1.0 - f, "not " + why) for f, why in readings]
        return readings, None

    def named_picture(self, text: str) -> int | None:
        """The one vocabulary picture the instruction itself names ("the pilot", "marked J", "7 - 5",
        "the letter after C"), found without looking: its index, else None (a category, a
        comparison, a negation, or nothing understood)."""
        readings, relation = self.fit(text)
        if relation is not None or not readings:
            return None
        fit = readings[0][0]
        return int(fit.argmax()) if fit.sum() == 1 else None

    # -- choosing among what is seen -----------------------------------------------------------------
    def choose(self, text: str, candidates: list[np.ndarray], partly_seen: list[bool] | None = None) -> Choice | None:
        """candidates: per billboard, probabilities over the vocabulary; partly_seen: per billboard,
        whether part of it is outside the image (default: none is). None when the instruction is
        not understood or no candidate stands out."""
        if len(candidates) < 2:
            return None
        readings, relation = self.fit(text)
        p = np.stack(candidates)  # [C, A]
        cut = np.zeros(len(p)) if partly_seen is None else np.asarray(partly_seen, float)
        weak: Choice | None = None
        for fit, why in readings:  # the first reading that singles a candidate out
            if relation is None:
                # A billboard cut by the image edge, read with little confidence, might show
                # anything: it keeps a chance of fitting, so when every clear one is ruled out it
                # wins by elimination. One seen whole but misread is no such candidate: the answer
                # may be on a billboard out of view.
                fits = np.clip(p @ fit + UNSURE_BONUS * cut * (1.0 - p.max(axis=1)), 0.0, 1.0 - 1e-6)
                # One billboard shows what is asked for (or none in view): the chance that it is
                # billboard i is in proportion to the odds of its reading, fits/(1 - fits). Read
                # thus, a picture in an unfamiliar art read at 0.15 beside two read at 0.01 is found.
                # Above SURE_FIT a reading counts as sure, and two sure ones tie: "two billboards
                # both fit" is no answer, however the last percent falls.
                odds = fits / np.maximum(1.0 - fits, 1.0 - SURE_FIT)
                scores = odds / (odds.sum() + NONE_SEEN_ODDS)
                runner_up = max(np.sort(scores)[-2], NONE_SEEN_ODDS / (odds.sum() + NONE_SEEN_ODDS))
            else:
                mass = p @ fit  # how likely each candidate is of the right kind
                values = (p * fit) @ self.value / np.maximum(mass, 1e-6)
                scores = np.where(mass > 0.5, values if relation == "max" else -values, -np.inf)
            order = np.argsort(-scores)
            best, second = order[0], order[1]
            if relation is None:
                margin = float(scores[best] - runner_up)
            else:
                margin = float(scores[best] - scores[second]) if np.isfinite(scores[second]) else float("inf")
            if not np.isfinite(scores[best]) or margin < (0.2 if relation is None else 0.5):
                continue
            # The picture to name: the likeliest one that fits (a named one even if barely seen).
            asset = int(np.argmax(p[best] * fit + 1e-6 * fit + 1e-9 * p[best]) if relation is None
                        else np.argmax(p[best] * fit + 1e-9 * p[best]))
            choice = Choice(int(best), asset, why, margin, float(p[best] @ fit) if relation is None else 1.0)
            # A reading no billboard fits well singles one out by the odds of slips: "the person
            # with white hair" names a picture (the white-haired person) and a property (the
            # wizard has white hair too). Where a later property reading fits one well, it speaks;
            # a kind ("is a flag") does not: every flag fits it, the one named or not.
            if choice.weak:
                weak = weak or choice
                continue
            if weak is not None and why.startswith(KIND_READING):
                return weak
            return choice
        return weak
