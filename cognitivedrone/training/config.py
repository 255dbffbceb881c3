"""What a training run is: one dataclass, saved next to its checkpoints so a resumed run can
check it is continuing the same thing."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Literal


@dataclass
class TrainConfig:
    """Train the VLA on demonstrations (resumable from its last save; torchrun for DDP)."""

    # a LeRobotDataset v3 directory (`cognitivedrone datagen`, `cognitivedrone data from-bag`), or
    # several joined by commas: simulated demonstrations and recorded flights train together
    data: str
    out: str  # the run directory; the final checkpoint is written here
    init: str | None = None  # fine-tune from this checkpoint (its normaliser and architecture)
    # action head: tokens256 (256 bins; the better at 3,000 and 6,000 steps) or chunk_l1 (continuous chunks)
    head: Literal["tokens256", "chunk_l1"] = "tokens256"
    chunk_size: int = 4  # actions predicted per step by chunk_l1
    steps: int = 3000  # optimiser steps
    batch_size: int = 128  # samples per step per process
    lr: float = 1e-3  # peak learning rate
    weight_decay: float = 1e-4  # AdamW weight decay
    warmup_steps: int = 100  # linear warm-up steps before the cosine decay
    simple_prompt_prob: float = 0.5  # per sample: train on the simple or the original instruction
    # Of the simple-form texts (the simple picks and the decision samples), the share replaced by
    # another wording of the same target (tasks/wordings.py); 0 disables. A saved config
    # without this key predates paraphrases: from_dict reads it as 0.0.
    paraphrase_prob: float = 0.5
    paraphrases_per_prompt: int = 3  # fixed wordings pre-encoded per distinct simple-form text (~12 ms each to encode)
    augment: bool = True  # brightness/contrast jitter and a few pixels of shift
    early_boost: float = 2.0  # extra sampling weight of each episode's first 20 frames (the decision)
    # Recorded flights with a pose (data from-bag): the pointer learns where each flight went, its
    # end projected into each earlier frame, and its first frame is a decision sample; off:
    # flights train the actions alone
    hindsight_pointer: bool = True
    only_successful: bool = False  # train on every demonstration (labels are the expert's) or only successes
    families: str = ""  # comma-separated family names to keep ("" = all); -name drops one, written --families=-name
    seed: int = 0  # random seed
    log_every: int = 20  # write a metrics.jsonl line every N steps
    save_every: int = 500  # checkpoint every N steps
    eval_every: int = 0  # fly the eval suite every N steps (0: only at the end; -1: never)
    eval_suite: str = "smoke"  # suite for evaluations ("" to skip)
    eval_workers: int = 2  # bench workers for evaluations
    threads: int = 0  # torch intra-op threads per process (0: torch's default)

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        """Settings that would fail only mid-run, refused before anything is loaded or written."""
        at_least = {"steps": 1, "batch_size": 1, "chunk_size": 1, "warmup_steps": 0, "log_every": 1,
                    "save_every": 1, "eval_every": -1, "eval_workers": 1, "threads": 0,
                    "paraphrases_per_prompt": 0}
        for name, low in at_least.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ValueError(f"--{name.replace('_', '-')} must be an integer >= {low}, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"--lr must be a finite number > 0, got {self.lr!r}")
        if not (isinstance(self.simple_prompt_prob, (int, float)) and 0.0 <= self.simple_prompt_prob <= 1.0):
            raise ValueError(f"--simple-prompt-prob must be in [0, 1], got {self.simple_prompt_prob!r}")
        p = self.paraphrase_prob
        if not (isinstance(p, (int, float)) and not isinstance(p, bool) and 0.0 <= p <= 1.0):
            raise ValueError(f"--paraphrase-prob must be in [0, 1], got {p!r}")
        if p > 0 and self.paraphrases_per_prompt < 1:
            raise ValueError("--paraphrase-prob > 0 needs --paraphrases-per-prompt >= 1")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training config keys: {', '.join(sorted(unknown))}")
        # Runs saved before paraphrases (or hindsight pointer targets) existed trained without
        # them: resuming one keeps it so (or says that the settings differ) instead of silently
        # changing what it learns.
        d = {"paraphrase_prob": 0.0, "hindsight_pointer": False, **d}
        return cls(**d)

    # What may differ between a run and its resumption without changing what is learned.
    RESUMABLE_CHANGES = ("steps", "log_every", "save_every", "eval_every", "eval_suite", "eval_workers", "threads")


#: `train --config NAME` (flags given beside it win): how the shipped default VLA was trained
#: (scripts/train_default.sh, stage 2: `torchrun --nproc_per_node 2`, so 2 x 64 samples a step).
NAMED_CONFIGS = {
    "default": ("6,000 steps of tokens256 at 64 samples per process (two processes under torchrun)",
                dict(steps=6000, batch_size=64, head="tokens256", threads=1, save_every=500, eval_every=2000,
                     eval_suite="smoke")),
}
