"""One bounded JSON reader for everything that arrives from outside: ROS messages, HTTP bodies,
suite, dataset and checkpoint files.

`json.loads` recurses once per nesting level, so 100,000 `[` end in a RecursionError, which
callers do not expect (it is not a ValueError); NaN and Infinity are accepted as numbers; and a
reader that takes any size lets one message hold a node for seconds. `loads_bounded` checks size
and depth first, without recursion, and raises `JsonInputError` (a ValueError) for every way the
text can be wrong, so a caller catches one exception and says one line.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

MAX_BYTES = 1 << 20  # a message or HTTP body: 1 MiB
MAX_FILE_BYTES = 64 << 20  # a suite, info.json, stats: 64 MiB
MAX_DEPTH = 64  # no file or message of ours nests deeper than ~6

# A JSON string (with escapes): brackets inside strings do not nest. An unterminated one runs to
# the end, as JSON reads it (a closing quote required made each of n quotes scan the rest: O(n^2),
# hours for a 1 MiB body of `\"`).
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


class JsonInputError(ValueError):
    """Text that is not JSON we accept: too big, too deep, malformed, or with NaN/Infinity."""


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets inside strings ignored)."""
    brackets = np.frombuffer(_NOT_BRACKET.sub(b"", _STRING.sub(b'""', data)), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _no_constant(name: str):
    raise JsonInputError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999: Infinity by another name
        raise JsonInputError(f"{literal[:40]} is beyond a float's range")
    return value


def loads_bounded(text: str | bytes | bytearray, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
                  what: str = "input") -> Any:
    """Parse JSON text no larger than `max_bytes` and no deeper than `max_depth`; `what` names
    the source in the error."""
    if isinstance(text, str):
        data = text.encode("utf-8", errors="surrogatepass")
    elif isinstance(text, (bytes, bytearray)):
        data = bytes(text)
    else:
        raise JsonInputError(f"{what}: expected JSON text, got {type(text).__name__}")
    if len(data) > max_bytes:
        raise JsonInputError(f"{what}: {len(data):,} bytes of JSON; at most {max_bytes:,} are read")
    if not isinstance(text, str):
        # Decoded as json.loads decodes bytes (UTF-8, -16 or -32), so the depth is counted on the
        # text that is parsed: UTF-16's bytes pair a backslash with a NUL and hid the nesting.
        try:
            text = data.decode(json.detect_encoding(data), "surrogatepass")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"{what}: not valid JSON ({str(exc)[:200]})") from None
        data = text.encode("utf-8", errors="surrogatepass")
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JsonInputError(f"{what}: JSON nested {depth} levels deep; at most {max_depth} are read")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except JsonInputError as exc:
        raise JsonInputError(f"{what}: {exc}") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # json's messages say where ("Expecting value: line 1 column 5"); big ints say their limit
        raise JsonInputError(f"{what}: not valid JSON ({str(exc)[:200]})") from None


def load_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON file, bounded as `loads_bounded`; a missing or unreadable file is an OSError."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise JsonInputError(f"{path}: {size:,} bytes; at most {max_bytes:,} are read")
    return loads_bounded(path.read_bytes(), max_bytes, max_depth, what=str(path))
