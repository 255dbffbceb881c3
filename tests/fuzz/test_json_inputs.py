"""Boundary 5: JSON from outside. `loads_bounded` raises JsonInputError and nothing else, and
what it returns is within its bounds (depth, no NaN or infinity); `parse_chat_completion` raises
ReasonerError and nothing else, and returns a stripped string of at most MAX_CONTENT characters."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from cognitivedrone.bounded_json import MAX_DEPTH, JsonInputError, loads_bounded
from cognitivedrone.reasoning.base import ReasonerError
from cognitivedrone.reasoning.openai_server import MAX_CONTENT, parse_chat_completion

from .conftest import fuzz_settings
from .strategies import any_text, encodings, hostile_json_text, json_values


def depth_and_finite(value) -> tuple[int, bool]:
    """Nesting depth of a parsed JSON value, and whether every float in it is finite (no recursion)."""
    deepest, finite = 0, True
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            deepest = max(deepest, d + 1)
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))
        elif isinstance(v, float) and not math.isfinite(v):
            finite = False
    return deepest, finite


def reference(text):
    """What plain json.loads makes of it, or None where loads_bounded must refuse it anyway."""
    try:
        v = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, RecursionError):
        return None
    depth, finite = depth_and_finite(v)
    return (v,) if finite and depth <= MAX_DEPTH else None


json_input = st.one_of(
    encodings(hostile_json_text),
    st.binary(max_size=300),
    st.sampled_from([None, 1, 1.5, [], {}, object()]),  # not text at all
)


@fuzz_settings(600)
@given(text=json_input, max_depth=st.sampled_from([MAX_DEPTH, 2, 0]), max_bytes=st.sampled_from([1 << 20, 64]))
def test_loads_bounded_raises_only_json_input_error_and_returns_bounded_values(text, max_depth, max_bytes):
    try:
        value = loads_bounded(text, max_bytes=max_bytes, max_depth=max_depth, what="fuzz")
    except JsonInputError as exc:
        assert str(exc).startswith("fuzz: ") and "\n" not in str(exc)[:300].split("(")[0]
        return
    depth, finite = depth_and_finite(value)
    assert depth <= max_depth, f"returned JSON nested {depth} deep (max_depth {max_depth})"
    assert finite, f"returned a non-finite number: {value!r}"[:300]
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    assert size <= max_bytes


@fuzz_settings(400)
@given(value=json_values(40), as_bytes=st.booleans(), indent=st.sampled_from([None, 1]))
def test_loads_bounded_reads_what_json_reads(value, as_bytes, indent):
    """Within the bounds, the same value as json.loads: hardening refuses nothing valid."""
    text = json.dumps(value, indent=indent)
    expected = reference(text)
    data = text.encode() if as_bytes else text
    if expected is None or len(text.encode()) > 1 << 20:
        return
    assert loads_bounded(data) == expected[0]


def completion(content) -> dict:
    return {"id": "x", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


content_values = st.one_of(
    any_text,
    st.lists(st.one_of(st.fixed_dictionaries({"type": st.just("text"), "text": any_text}), json_values(5)), max_size=4),
    json_values(5),
)


def _mutate(body: dict, where: int, replacement) -> dict:
    """Replace one level of the completion's path (body, choices, choices[0], message) by anything."""
    if where == 0:
        return replacement
    if where == 1:
        body["choices"] = replacement
    elif where == 2:
        body["choices"][0] = replacement
    elif where == 3:
        body["choices"][0]["message"] = replacement
    return body


bodies = st.one_of(
    content_values.map(completion).map(lambda b: json.dumps(b).encode()),
    st.builds(_mutate, content_values.map(completion), st.integers(0, 4), json_values(8)).map(lambda b: json.dumps(b).encode()),
    encodings(hostile_json_text).map(lambda t: t.encode("utf-8", "surrogatepass") if isinstance(t, str) else t),
    st.binary(max_size=400),
    any_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@fuzz_settings(600)
@given(body=bodies)
def test_parse_chat_completion_raises_only_reasoner_error(body):
    try:
        text = parse_chat_completion(body, "fuzz-server")
    except ReasonerError as exc:
        assert "\n" not in str(exc), f"a multi-line error: {str(exc)[:200]!r}"
        return
    assert isinstance(text, str) and text == text.strip() and len(text) <= MAX_CONTENT


@fuzz_settings(300)
@given(content=any_text)
def test_parse_chat_completion_returns_the_content(content):
    body = json.dumps(completion(content)).encode("utf-8", "surrogatepass")
    stripped = content.strip()
    try:
        got = parse_chat_completion(body)
    except ReasonerError:
        assert len(stripped) > MAX_CONTENT
        return
    assert got == stripped
