"""bounded_json regressions found by the fuzz suite (tests/fuzz/test_json_inputs.py)."""

from __future__ import annotations

import json
import time

import pytest

from cognitivedrone.bounded_json import MAX_BYTES, JsonInputError, loads_bounded, nesting_depth


def test_a_megabyte_of_escaped_quotes_is_refused_at_once():
    # An unterminated string of `\"`: the string regex rescanned the rest from every quote, O(n^2)
    # (~95 s for 128 kB, hours for a 1 MiB HTTP body or rewrite).
    body = '"' + '\\"' * (MAX_BYTES // 2 - 1)
    t0 = time.perf_counter()
    with pytest.raises(JsonInputError, match="not valid JSON"):
        loads_bounded(body)
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "utf-32", "utf-16-be"])
def test_nesting_is_counted_in_utf16_and_utf32_too(encoding):
    # json.loads reads UTF-16/32 bytes; counted on the raw bytes, `\"` became backslash+NUL and a
    # quote, the strings were misaligned and 500 levels were counted as 1.
    text = '["\\"", ' + "[" * 500 + '"x"' + "]" * 500 + "]"
    with pytest.raises(JsonInputError, match="nested 501 levels"):
        loads_bounded(text.encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
def test_json_in_any_encoding_json_reads_still_parses(encoding):
    value = {"a": [1, 2.5, "é\"[{", {"b": None}], "c": "\\"}
    assert loads_bounded(json.dumps(value, ensure_ascii=False).encode(encoding)) == value
    assert loads_bounded(json.dumps(value)) == value


@pytest.mark.parametrize("text", ["1e999", "[-1e400]", '{"q99": [1e309, 0, 0, 0]}'])
def test_floats_beyond_range_are_refused_like_infinity(text):
    # json.loads turns 1e999 into inf: Infinity by another name.
    with pytest.raises(JsonInputError, match="beyond a float's range"):
        loads_bounded(text)
    with pytest.raises(JsonInputError):
        loads_bounded(text.encode())


def test_unterminated_string_hides_nothing_json_would_parse():
    assert nesting_depth(b'[[["abc') == 3
    assert nesting_depth(b'["[[[') == 1
    assert nesting_depth(b'"\\') == 0
    with pytest.raises(JsonInputError):
        loads_bounded('[[["abc')
