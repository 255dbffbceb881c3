"""Fly a whole suite: episodes spread over worker processes (cognitivedrone/pool.py), a progress bar, results in
order.

Each worker builds one simulator and one agent and reuses them for all its episodes (a
pybullet client per process; nothing is shared). Textures are rendered once in the parent
before the workers start, so workers only read the cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from cognitivedrone.bench.agents import make_agent
from cognitivedrone.bench.episode import run_episode
from cognitivedrone.bench.results import EpisodeResult
from cognitivedrone.pool import run_jobs
from cognitivedrone.sim.env import DroneEnv, SimConfig
from cognitivedrone.sim.look import Look, episode_look
from cognitivedrone.sim.scene import scene_options
from cognitivedrone.tasks.suite import Episode, Suite


@dataclass(frozen=True)
class BenchConfig:
    policy: str = "expert"
    engine: str = "torch"  # for checkpoint policies: torch, onnxruntime or tensorrt
    reasoner: str = "none"  # for checkpoint policies: see cognitivedrone.reasoning.make_reasoner
    prompt: str = "original"
    workers: int = 2
    executor: str = "local"  # pool.run_jobs: local or ray[:ADDRESS]
    sim: SimConfig = SimConfig()
    video_episodes: int = 0  # record the first K episodes
    out_dir: str | None = None
    look: str = "classic"  # a named look (cognitivedrone.sim.look.NAMED_LOOKS), drawn per episode
    look_seed: int = 0

    def episode_look(self, episode: Episode) -> Look:
        return episode_look(self.look, self.look_seed, episode.seed)


_worker: dict = {}


def _init_worker(cfg: BenchConfig) -> None:
    # Every pilot gets camera frames, even those that ignore them, so wall times compare.
    _worker["env"] = DroneEnv(cfg.sim)
    _worker["agent"] = make_agent(cfg.policy, cfg.engine, cfg.reasoner)
    _worker["cfg"] = cfg


def _run_one(index: int, episode: Episode) -> tuple[int, EpisodeResult, str | None]:
    cfg: BenchConfig = _worker["cfg"]
    record = index < cfg.video_episodes and cfg.out_dir is not None
    look = cfg.episode_look(episode)
    result, rec = run_episode(_worker["env"], _worker["agent"], episode, cfg.prompt, record=record, look=look)
    video = None
    if rec is not None:
        from cognitivedrone.bench.video import write_episode_video

        name = episode.id if look.is_classic else f"{episode.id}-{look.name}"
        video = str(write_episode_video(rec, Path(cfg.out_dir) / "videos" / f"{name}.mp4"))
    return index, result, video


def prepare_textures(suite: Suite, look: str = "classic", look_seed: int = 0) -> None:
    """Render every texture the suite's episodes need in this look, before workers start."""
    for e in suite.episodes:
        scene_options(e, e.prompt, episode_look(look, look_seed, e.seed))  # renders them into the cache


def run_suite(suite: Suite, cfg: BenchConfig, progress: bool = True, done: dict[str, EpisodeResult] | None = None,
              on_result: Callable[[EpisodeResult], None] | None = None) -> tuple[list[EpisodeResult], list[str], float]:
    """Returns (results in suite order, video paths, wall seconds).

    `done`: results already flown (by episode id, e.g. from a journal, cognitivedrone.bench.journal):
    those episodes are not flown again. `on_result` is called with each newly flown result as it lands.
    """
    make_agent(cfg.policy, cfg.engine, cfg.reasoner)  # fail fast on a bad policy name, before any process starts
    t0 = time.perf_counter()
    done = done or {}
    results: list[EpisodeResult | None] = [done.get(ep.id) for ep in suite.episodes]
    todo = [(i, ep) for i, ep in enumerate(suite.episodes) if results[i] is None]
    if todo:
        prepare_textures(Suite(suite.name, [ep for _, ep in todo]), cfg.look, cfg.look_seed)
    videos: list[str] = []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("success {task.fields[ok]}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        n_done = len(suite.episodes) - len(todo)
        ok = sum(r.success for r in results if r is not None)
        task = bar.add_task(f"{suite.name} · {cfg.policy}" + (f" · {cfg.look}" if cfg.look != "classic" else ""),
                            total=len(suite.episodes), completed=n_done, ok=f"{ok}/{n_done}")

        def collect(index, result, video):
            nonlocal ok, n_done
            results[index] = result
            n_done += 1
            ok += result.success
            if video:
                videos.append(video)
            if on_result is not None:
                on_result(result)
            bar.update(task, advance=1, ok=f"{ok}/{n_done}")

        run_jobs(todo, _run_one, _init_worker, (cfg,), cfg.workers, on_result=lambda r: collect(*r),
                 close=lambda: _worker["env"].close(), executor=cfg.executor,
                 describe=lambda job: f"episode {job[1].id} (seed {job[1].seed})", log=bar.console.print)
    return [r for r in results if r is not None], sorted(videos), time.perf_counter() - t0
