"""What a gate can be: the one definition of gate sizes, shapes, colours and openings.

The suite files name gates with these words, the simulator builds them to these openings, the
policy and the perception models have one output per word, and the reasoners write them in
rewrites. Plain data: a drone without the renderer (Pilot) needs it too.
"""

from __future__ import annotations

GATE_SIZES = ("big", "small")
GATE_SHAPES = ("round", "square", "triangle")
GATE_COLORS = ("red", "green", "blue")

# Size of the opening, m: inner radius (round), inner half-side (square) and incircle radius
# (triangle). "small" still leaves > 3x the cf2x's diameter, "big" roughly 1.1 m across.
OPENING = {
    ("round", "big"): 0.55,
    ("round", "small"): 0.35,
    ("square", "big"): 0.50,
    ("square", "small"): 0.32,
    ("triangle", "big"): 0.40,
    ("triangle", "small"): 0.26,
}
