"""Generate a suite from a seed: balanced over categories, round-robin over each category's
families, gates as the reference (three different shapes and three different colours, sizes at
random), the correct gate uniform over the three positions."""

from __future__ import annotations

import numpy as np

from cognitivedrone.tasks.families import families_of, get_family, sample_task, simple_prompt
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES
from cognitivedrone.tasks.suite import CATEGORIES, ID_PATTERN, Episode, GateLook, Suite

SEED_SPACE = 2**31 - 1


def make_suite(name: str, episodes: int, seed: int, categories: tuple[str, ...] = CATEGORIES,
               families: tuple[str, ...] = ()) -> Suite:
    """`families` (names like "reasoning/arithmetic") restricts the suite to those families,
    round-robin; otherwise every family of `categories` takes part, balanced by category."""
    if episodes < 1:
        raise ValueError("a suite needs at least one episode")
    if not ID_PATTERN.match(name):
        raise ValueError(f"suite name {name!r} must be letters, digits, '.', '_' or '-' (it prefixes episode ids)")
    rng = np.random.default_rng(seed)
    if families:
        chosen = [get_family(f) for f in families]
        plan = [chosen[i % len(chosen)] for i in range(episodes)]
    else:
        # Balanced: category c gets episodes // len + (1 if c < remainder), then its families in turn.
        counters = {c: 0 for c in categories}
        plan = []
        for i in range(episodes):
            cat = categories[i % len(categories)]
            fams = families_of(cat)
            plan.append(fams[counters[cat] % len(fams)])
            counters[cat] += 1
    out = []
    for i, fam in enumerate(plan):
        cat = fam.category
        task = sample_task(fam, rng)
        shapes = rng.permutation(GATE_SHAPES)
        colors = rng.permutation(GATE_COLORS)
        gates = tuple(GateLook(str(rng.choice(GATE_SIZES)), str(s), str(c)) for s, c in zip(shapes, colors))
        g = gates[task.correct]
        out.append(Episode(
            id=f"{name}-{i:04d}", category=cat, family=fam.name, prompt=task.prompt,
            prompt_simpler=simple_prompt(g.size, g.shape, g.color, task.options[task.correct]),
            options=task.options, correct=task.correct + 1, gates=gates,
            seed=int(rng.integers(SEED_SPACE)),
        ))
    return Suite(name=name, episodes=out)
