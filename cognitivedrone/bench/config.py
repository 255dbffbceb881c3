"""What `cognitivedrone bench` is asked to do: one dataclass, from which the command line is
generated (tyro; each field's comment is its help). `bench.json` in a run's folder records these
settings, and `--resume` compares them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cognitivedrone.pool import parse_executor
from cognitivedrone.runtime.factory import EngineName
from cognitivedrone.tasks.prompts import PromptMode


@dataclass
class BenchRunConfig:
    """Fly every episode of a suite with a policy; print a per-category table with 95% Wilson
    intervals; with --out, write results.json, report.md, a plot and videos."""

    suite: str = "smoke"  # a suite name (cognitivedrone/tasks/suites/) or a path to a suite JSON
    policy: str = "expert"  # expert (privileged), hover, random, or a checkpoint directory
    # the original instruction, the simple ground-truth one, or the simple one reworded in a way
    # training never saw (other verbs and phrasings, as another reasoner writes)
    prompt: PromptMode = "original"
    # rewrite instructions first: none, offline, hf:PATH, openai:URL[#model], or module:Class. The
    # default is none, unlike fly and reason (offline), so that `bench --policy X` measures X
    # alone and every run's bench.json keeps meaning what it did; `make bench` flies offline
    reasoner: str = "none"
    # inference engine for a checkpoint policy (and the offline reasoner's networks: torch, else
    # onnxruntime); onnxruntime/tensorrt export to ONNX first if needed
    engine: EngineName = "torch"
    workers: int = 2  # worker processes, 1 or more
    # where the workers run: local (processes on this machine) or ray[:ADDRESS] (Ray actors; no
    # address: a Ray of its own here; auto or HOST:PORT: that cluster). The same episodes either way
    executor: str = "local"
    # a new or empty folder for bench.json (the run's settings, written before anything flies),
    # results.json, report.md, success_by_category.png and videos/
    out: str | None = None
    # --out may hold an earlier run: remove that run's files first (other files are never removed)
    overwrite: bool = False
    # carry on the run in --out (cut short, e.g. by a session ending): episodes it finished are kept
    # (episodes.jsonl), the rest are flown; the settings must match (--workers may change)
    resume: bool = False
    video: int = 0  # record videos of the first K episodes (needs --out; 0: none)
    limit: int = 0  # fly only the first N episodes (0: all of them)
    airframe: str = "cf2x"  # cf2x or racer
    image_size: int = 128  # camera resolution in pixels (square)
    control_hz: float = 10.0  # decisions per second
    # how the world looks: classic (every committed result), randomized (the training
    # distribution), or a held-out look: studio, outdoor, dim. Several, comma-separated, fly the
    # suite once per look and add a looks x categories table
    look: str = "classic"
    look_seed: int = 0  # seed of the per-episode look draws
    quiet: bool = False  # no progress bar

    def usage_problems(self) -> list[str]:
        """What is wrong with the settings as typed (`--flag: what`), before anything is loaded."""
        problems = [f"--{name}: must be {low} or more{note}, got {getattr(self, name)}"
                    for name, low, note in (("workers", 1, ""), ("video", 0, ""), ("limit", 0, " (0: all)"))
                    if getattr(self, name) < low]
        try:
            parse_executor(self.executor)
        except ValueError as exc:
            problems.append(str(exc))
        if self.overwrite and self.resume:
            problems.append("--resume: not allowed with --overwrite (carry a run on, or replace it)")
        return problems

    def settings(self) -> dict:
        """What bench.json records: every setting that changes what is flown or where it goes."""
        return {k: v for k, v in asdict(self).items() if k not in ("quiet", "overwrite")}


_EVERY_LOOK = "classic,studio,outdoor,dim,randomized"
#: `bench --config NAME`: the runs every committed checkpoint is measured with (README). Any flag
#: given beside it wins.
NAMED_CONFIGS = {
    "looks-simple": ("cognitivedrone-v1 in every look on the simple instructions, onnxruntime",
                     dict(suite="cognitivedrone-v1", policy="checkpoints/default", engine="onnxruntime",
                          prompt="simple", look=_EVERY_LOOK)),
    "looks-offline": ("cognitivedrone-v1 in every look on the original instructions with the offline reasoner",
                      dict(suite="cognitivedrone-v1", policy="checkpoints/default", engine="onnxruntime",
                           prompt="original", reasoner="offline", look=_EVERY_LOOK)),
}
