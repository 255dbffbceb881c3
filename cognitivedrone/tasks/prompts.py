"""Which words an episode is flown with: its own prompt, its simple form, or the simple form
reworded as another reasoner or a user might write it."""

from __future__ import annotations

import random
from typing import Literal, get_args

from cognitivedrone.tasks.suite import Episode
from cognitivedrone.tasks.wordings import heldout_paraphrase

# "reworded": the simple form in a wording training never used (tasks/wordings.py, held-out
# templates), as another reasoner or a user might write it; one per episode, from its seed.
PromptMode = Literal["original", "simple", "reworded"]
PROMPT_MODES: tuple[str, ...] = get_args(PromptMode)


def episode_prompt(episode: Episode, mode: str) -> str:
    if mode not in PROMPT_MODES:
        raise ValueError(f"prompt mode must be one of {PROMPT_MODES}, got {mode!r}")
    if mode == "reworded":
        return heldout_paraphrase(episode.prompt_simpler, random.Random(f"reworded:{episode.seed}"))
    return episode.prompt if mode == "original" else episode.prompt_simpler
