"""Strategies the fuzz modules share: hostile numbers, text and JSON."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import strategies as st

HUGE = (1e308, -1e308, 1e300, -1e300, 3.4e38, 1e16, -1e16, 2.0 ** 63, 5e-324, -5e-324)
NON_FINITE = (math.nan, math.inf, -math.inf, -math.nan)

# Any float, with the hostile ones drawn often.
any_float = st.one_of(
    st.sampled_from(NON_FINITE + HUGE + (0.0, -0.0)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 10),
)
# What a number slot may hold when the caller is careless: numbers of every kind, and None.
number_like = st.one_of(
    any_float,
    st.integers(-(2 ** 70), 2 ** 70),
    st.sampled_from([np.float32("nan"), np.float32(1.0), np.float64("inf"), np.float64(-2.5), np.int64(3)]),
    st.none(),
)
# A clock: mostly plausible, sometimes anything.
clock_step = st.one_of(st.floats(0.0, 0.1), st.floats(0.0, 0.1), st.floats(-0.5, 0.0), st.floats(0.1, 5.0), st.just(0.0))

# Text: any code point (lone surrogates included), some of them long.
any_text = st.one_of(
    st.text(st.characters(blacklist_categories=())),
    st.text(),
    st.text(alphabet=" \t\n\r\x00\u200b\ufeff", max_size=50),
    st.integers(0, 5000).map(lambda n: "a" * n),
)

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2 ** 80), 2 ** 80),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)


def json_values(max_leaves: int = 20):
    return st.recursive(
        json_scalars,
        lambda children: st.one_of(st.lists(children, max_size=5),
                                   st.dictionaries(st.text(max_size=10), children, max_size=5)),
        max_leaves=max_leaves,
    )


def _nested(depth: int, kind: str) -> str:
    return ("[" * depth + "]" * depth) if kind == "[" else ('{"a":' * depth + "1" + "}" * depth)


# JSON text that is hostile as text: deep, huge numbers, NaN/Infinity, cut short, in odd encodings.
hostile_json_text = st.one_of(
    st.builds(_nested, st.integers(0, 3000), st.sampled_from("[{")),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "[NaN]", '{"a": Infinity}', "1e999", "-1e400", "[1e309]",
                     "9" * 5000, "[" + "9" * 4400 + "]", "", " ", "\ufeff{}", "{", '"', '"\\', '"\\"', "[\"\\\\\"",
                     "\x00", "nul", "tru", '{"a":1,}', "[1,]", "{'a': 1}", '{"a" 1}', "\"\ud800\"", "[\"\\ud800\"]"]),
    st.builds(lambda n: '"' + '\\"' * n, st.integers(0, 2000)),  # unterminated: the regex's worst case
    json_values().map(json.dumps),
    json_values().map(lambda v: json.dumps(v)[: max(0, len(json.dumps(v)) // 2)]),
    st.text(max_size=200),
)


def encodings(text_strategy):
    """Text as str, or as bytes in one of the encodings json.loads accepts (or does not)."""
    return st.tuples(text_strategy, st.sampled_from([None, "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                                     "utf-32", "latin-1"])).map(_encode)


def _encode(pair):
    text, enc = pair
    if enc is None:
        return text
    return text.encode(enc, errors="surrogatepass" if enc.startswith("utf") else "replace")
