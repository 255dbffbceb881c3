"""Mutations of a valid JSON document: the hostile files that look almost right."""

from __future__ import annotations

import copy
import math

from hypothesis import strategies as st

from .strategies import json_values

# Values a mutation puts somewhere: any JSON, and the numbers and strings that readers trip on.
replacements = st.one_of(
    json_values(6),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 2 ** 63, 2 ** 63 - 1, -1, 0, 1, 3, 4, True, False,
                     None, "", " ", "\n", "a\n", "../x", "/etc/passwd", "{chunk_index[0]}", "{0}", "{x}", "{chunk_index:s}",
                     "{chunk_index:>300}", "x" * 5000, "\x00", "\ud800", 10 ** 30, 1e-320, [], {}, [[]], [None] * 4]),
)


def _nodes(doc, path=()):
    """Every (path, value) of the document, the root included."""
    out = [(path, doc)]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _nodes(v, path + (i,))
    return out


def _apply(doc, mutation):
    pick, action, value = mutation
    value = copy.deepcopy(value)  # the sampled replacements are shared: never mutate them
    nodes = _nodes(doc)
    path, node = nodes[pick % len(nodes)]
    if not path:
        return value if action == "replace" else doc
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "replace":
        parent[key] = value
    elif action == "delete":
        del parent[key]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(node))
    elif action == "wrap":
        parent[key] = [node]
    elif action == "add" and isinstance(node, dict):
        node[str(value)[:20]] = value
    elif action == "append" and isinstance(node, list):
        node.append(value)
    return doc


def mutated(doc):
    """A strategy: `doc` (deep-copied) after 1..4 mutations."""
    mutation = st.tuples(st.integers(0, 10 ** 6), st.sampled_from(["replace", "replace", "delete", "duplicate", "wrap",
                                                                    "add", "append"]), replacements)
    return st.lists(mutation, min_size=1, max_size=4).map(lambda ms: _mutate_all(doc, ms))


def _mutate_all(doc, mutations):
    doc = copy.deepcopy(doc)
    for m in mutations:
        doc = _apply(doc, m)
    return doc
