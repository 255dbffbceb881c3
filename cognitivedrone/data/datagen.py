"""`cognitivedrone datagen`: expert demonstrations with DART noise, written as a LeRobotDataset v3.

Tasks come from ``make_suite(f"datagen-s{seed}", episodes, seed)`` (balanced over categories,
round-robin over families), each episode flown in ``DroneEnv`` exactly as the benchmark flies
it (``scene_options``, same ``SimConfig``) by the privileged expert.

DART (Laskey et al. 2017): at every step the expert's command is recorded as the LABEL
(``action``); the drone EXECUTES the label plus temporally correlated noise (``action.executed``),
an Ornstein-Uhlenbeck process per axis (``OU_THETA`` per step, stationary std = the episode's
sigma), clipped to the airframe's command limits. Per episode, sigma = U(0, noise_scale) *
``DART_SIGMA`` (vx, vy, vz, yaw_rate); every ``CLEAN_EVERY``-th episode flies noise-free, so
clean trajectories are represented. Failed episodes are kept (their labels are still the
expert's corrections) with ``success`` False.

Episode seeds never repeat a committed suite's episode seed (``cognitivedrone/tasks/suites/*.json``): a
colliding seed is replaced by a salted rehash until free. A ``--seed`` that reproduces a
committed suite (its first episode's seed, or several, collide: the suite was made with that
seed) is refused. The check is per episode seed: the master seed a suite was made with is not
stored in its file.

Resumable: shard k holds episodes [k*shard_episodes, (k+1)*shard_episodes) and is written by
one worker; it is done when its episodes-metadata file exists (renamed into place last).
A rerun with the same configuration skips done shards, redoes half-written ones, and refuses a
folder made with a different configuration. meta/ is rewritten from the shards on disk after
every shard and at the end.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cognitivedrone.bench.agents import BaseAgent
from cognitivedrone.cli_types import CommaList
from cognitivedrone.pool import JobsFailed, notify, parse_executor, run_jobs
from cognitivedrone.sim.config import SimConfig

if TYPE_CHECKING:
    from cognitivedrone.sim.env import DroneEnv
    from cognitivedrone.tasks.suite import Episode

DART_SIGMA = (0.35, 0.35, 0.2, 0.4)  # m/s, m/s, m/s, rad/s: sigma at noise_scale 1
OU_THETA = 0.3  # per control step: noise correlation time ~ 1/theta = 3 steps (0.3 s at 10 Hz)
CLEAN_EVERY = 4  # episode i with i % CLEAN_EVERY == CLEAN_EVERY - 1 flies without noise
SEED_SALT = "cognitivedrone-datagen"
FORMAT_VERSION = 1  # bump when what a config generates changes


class DatagenError(ValueError):
    """A problem with the user's request (bad config, a taken --out, a committed seed): one line."""


@dataclass(frozen=True)
class DatagenConfig:
    """Fly the expert with DART noise and record demonstrations (LeRobotDataset v3); rerun with
    the same settings to resume."""

    episodes: int  # number of episodes (trajectories)
    seed: int  # task seed (not one a committed suite was made with)
    out: str  # dataset folder (LeRobotDataset v3); rerun with the same arguments to resume
    workers: int = 2  # worker processes
    # where the workers run: local (processes on this machine) or ray[:ADDRESS] (Ray actors; no
    # address: a Ray of its own here; auto or HOST:PORT: that cluster, with --out on storage every
    # worker sees). The same dataset either way
    executor: str = "local"
    shard_episodes: int = 50  # episodes per data file, the unit of resumption
    noise_scale: float = 1.0  # DART noise multiplier: per-episode sigma ~ U(0, noise_scale) * DART_SIGMA; 0: none
    sim: SimConfig = field(default_factory=SimConfig)
    families: CommaList = ()  # task families to record, comma-separated (default: all, balanced)
    # the look of the world: a training look (classic, randomized) or a mix with weights, e.g.
    # classic:1,randomized:3 (held-out looks are refused; sim/look.py)
    looks: str = "classic"
    look_seed: int = 0  # seed of the per-episode look draws

    def look_mix(self) -> list[tuple[str, float]]:
        return parse_look_mix(self.looks)

    def episode_look(self, episode: "Episode"):
        """The look episode `episode` is flown in: a name drawn from the mix by its seed, then that
        look's draw for the seed, without its lens (frames are stored before the lens; training
        puts one on: sim/look.py, without_lens)."""
        from cognitivedrone.sim.look import mixed_look, without_lens

        look = mixed_look(self.look_mix(), self.look_seed, episode.seed)
        return look if look.is_classic else without_lens(look)

    def identity(self) -> dict:
        """What must match for a rerun to resume a folder (not workers, executor or out)."""
        d = {"format": FORMAT_VERSION, "seed": self.seed, "episodes": self.episodes,
             "shard_episodes": self.shard_episodes, "noise_scale": float(self.noise_scale),
             "dart_sigma": list(DART_SIGMA), "ou_theta": OU_THETA, "clean_every": CLEAN_EVERY,
             "sim": asdict(self.sim)}
        if self.families:  # absent when all families: folders written before this field still resume
            d["families"] = list(self.families)
        if self.looks != "classic":  # absent for classic: folders written before looks still resume
            from cognitivedrone.sim.look import LOOKS_VERSION

            d["looks"], d["look_seed"], d["looks_version"] = self.looks, self.look_seed, LOOKS_VERSION
        return json.loads(json.dumps(d))

    @property
    def n_shards(self) -> int:
        return math.ceil(self.episodes / self.shard_episodes)

    def shard_range(self, k: int) -> range:
        return range(k * self.shard_episodes, min((k + 1) * self.shard_episodes, self.episodes))


#: `datagen --config NAME` (flags given beside it win): the demonstrations the shipped default
#: VLA learned from (scripts/train_default.sh, stage 1).
NAMED_CONFIGS = {
    "default": ("12,000 episodes, a quarter classic and the rest randomized looks (the shipped VLA's data)",
                dict(episodes=12000, seed=13, looks="classic:1,randomized:3", look_seed=1, workers=2)),
}


@dataclass
class DatagenReport:
    out: str
    episodes: int  # in the dataset on disk
    frames: int
    successes: int
    skipped_shards: int  # already done before this run
    generated_episodes: int  # flown by this run
    wall_s: float
    trajectories_per_min: float  # generated_episodes per minute of this run's wall time
    complete: bool

    @property
    def success_rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0


# -- tasks and seeds ---------------------------------------------------------------------------------

def parse_look_mix(spec: str) -> list[tuple[str, float]]:
    """sim.look.parse_look_mix, as a DatagenError (one line for the user)."""
    from cognitivedrone.sim.look import parse_look_mix as parse

    try:
        return parse(spec)
    except ValueError as e:
        raise DatagenError(f"--looks: {e}") from None


def committed_suite_seeds(suites_dir: str | Path | None = None) -> dict[int, str]:
    """Episode seed -> name of the committed suite that uses it, over cognitivedrone/tasks/suites/*.json."""
    from cognitivedrone.bounded_json import load_file
    from cognitivedrone.tasks.suite import SUITES_DIR

    out: dict[int, str] = {}
    for path in sorted(Path(suites_dir or SUITES_DIR).glob("*.json")):
        try:
            raw = load_file(path)
        except (OSError, ValueError) as e:  # ValueError: JsonInputError
            raise DatagenError(f"{path}: unreadable suite, so episode seeds cannot be checked against it ({e})") from None
        eps = raw.get("episodes") if isinstance(raw, dict) else None
        for e in eps if isinstance(eps, list) else []:
            s = e.get("seed") if isinstance(e, dict) else None
            if isinstance(s, int) and not isinstance(s, bool):
                out.setdefault(s, path.stem)
    return out


def _rehash(seed: int, k: int) -> int:
    from cognitivedrone.tasks.generate import SEED_SPACE

    h = hashlib.sha256(f"{SEED_SALT}:{seed}:{k}".encode()).digest()
    return int.from_bytes(h[:8], "little") % SEED_SPACE


def free_seeds(seeds: list[int], reserved) -> list[int]:
    """Replace every seed that is reserved (or already used earlier in the list) by a salted
    rehash of it, deterministically, until free."""
    used = set(reserved)
    out = []
    for s in seeds:
        t, k = s, 0
        while t in used:
            k += 1
            t = _rehash(s, k)
        used.add(t)
        out.append(t)
    return out


def plan_episodes(cfg: DatagenConfig, suites_dir: str | Path | None = None) -> list["Episode"]:
    """The episodes to fly, in order, with seeds free of the committed suites' seeds."""
    from cognitivedrone.tasks.generate import make_suite

    suite = make_suite(f"datagen-s{cfg.seed}", cfg.episodes, cfg.seed, families=cfg.families)
    committed = committed_suite_seeds(suites_dir)
    raw = [e.seed for e in suite.episodes]
    hits = [i for i, s in enumerate(raw) if s in committed]
    if hits and (hits[0] == 0 or len(hits) >= 2):
        name = committed[raw[hits[0]]]
        raise DatagenError(f"--seed {cfg.seed} reproduces the committed suite {name!r} (cognitivedrone/tasks/suites/{name}.json): "
                           "its benchmark episodes would be in the training data; pick another --seed")
    seeds = free_seeds(raw, committed)
    return [replace(e, seed=s) for e, s in zip(suite.episodes, seeds)]


def plan_tasks(episodes: list["Episode"]) -> tuple[list[str], dict[str, int]]:
    """Task strings (original and simple prompts, first appearance order) and their index."""
    index: dict[str, int] = {}
    for e in episodes:
        for t in (e.prompt, e.prompt_simpler):
            index.setdefault(t, len(index))
    return list(index), index


def episode_sigma(index: int, seed: int, noise_scale: float) -> np.ndarray:
    """DART noise std of episode ``index`` (vx, vy, vz, yaw_rate); zeros for clean episodes."""
    if noise_scale <= 0 or index % CLEAN_EVERY == CLEAN_EVERY - 1:
        return np.zeros(4)
    rng = np.random.default_rng([seed, 1])
    return rng.uniform(0.0, noise_scale) * np.asarray(DART_SIGMA)


# -- flying ---------------------------------------------------------------------------------------

class DartAgent(BaseAgent):
    """DART around another agent: its command, clipped to the airframe's limits, is the label;
    what is flown is the label plus an Ornstein-Uhlenbeck noise of std `sigma` per axis (module
    docstring), clipped again. The noise is seeded by the episode, so a rerun flies the same."""

    def __init__(self, inner, sigma: np.ndarray):
        self.inner, self.sigma, self.name = inner, np.asarray(sigma, dtype=np.float64), f"dart({inner.name})"
        self.label: np.ndarray | None = None  # the last decision's label (float32)

    def reset(self, ctx) -> None:
        self.inner.reset(ctx)
        self.limits = np.asarray(ctx.limits, dtype=np.float64)
        self.rng = np.random.default_rng([ctx.episode.seed, 2])
        self.decay = 1.0 - OU_THETA
        self.drive = self.sigma * math.sqrt(1.0 - self.decay ** 2)  # keeps the stationary std at sigma
        self.noise = self.sigma * self.rng.standard_normal(4)  # start in the stationary distribution

    def act(self, obs: dict):
        from cognitivedrone.types import VelocityCommand

        label = np.clip(self.inner.act(obs).as_array(), -self.limits, self.limits)
        executed = np.clip(label + self.noise, -self.limits, self.limits).astype(np.float32)  # flown exactly as stored
        self.label = label.astype(np.float32)
        self.noise = self.decay * self.noise + self.drive * self.rng.standard_normal(4)
        return VelocityCommand.from_array(executed)


class DemoRecorder:
    """An episode hook that keeps each decision's frame (encoded), state, label and executed
    command: one LeRobot episode."""

    def start(self, env, ctx) -> None:
        from cognitivedrone.data.lerobot_format import encode_image

        self.encode = encode_image
        self.frames, self.images, self.states, self.labels, self.executed = [], [], [], [], []

    def step(self, obs: dict, command, agent: DartAgent) -> None:
        self.frames.append(obs["image"])
        self.images.append(self.encode(obs["image"]))
        self.states.append(obs["state"])
        self.labels.append(agent.label)
        self.executed.append(command.as_array().astype(np.float32))

    def end(self, env, obs: dict, outcome: str) -> None:
        pass


def fly_episode(env: "DroneEnv", agent: DartAgent, episode: "Episode", index: int, task_index: int, look=None):
    """Fly one episode with `agent` (the expert under DART noise) in `look` (None: classic)
    through the benchmark's episode loop; returns an EpisodeRecord whose meta carries the look's
    values."""
    from cognitivedrone.bench.episode import run_episode
    from cognitivedrone.data.lerobot_format import EpisodeRecord, image_stats

    demo = DemoRecorder()
    result, _ = run_episode(env, agent, episode, "original", look=look, hooks=(demo,))
    meta = {
        "episode_id": episode.id, "category": episode.category, "family": episode.family,
        "success": result.outcome == "success", "outcome": result.outcome, "prompt": episode.prompt,
        "prompt_simpler": episode.prompt_simpler, "seed": int(episode.seed), "options": list(episode.options),
        "correct": int(episode.correct), "gates": [g.describe() for g in episode.gates],
        "noise_sigma": [float(v) for v in agent.sigma.astype(np.float32)],
    }
    if look is not None and not look.is_classic:
        meta["look"] = look.to_dict()
    return EpisodeRecord(
        episode_index=index, images=demo.images, states=np.stack(demo.states), actions=np.stack(demo.labels),
        executed=np.stack(demo.executed), task_index=task_index, meta=meta, image_stats=image_stats(demo.frames),
    )


_worker: dict = {}
def _init_worker(sim: SimConfig, noise_scale: float, root: str, cfg: "DatagenConfig | None" = None) -> None:
    from cognitivedrone.bench.agents import ExpertAgent
    from cognitivedrone.sim.env import DroneEnv

    _worker.update(env=DroneEnv(sim), expert=ExpertAgent(), noise_scale=noise_scale, root=root,
                   fps=sim.control_hz, cfg=cfg)


def _close_worker() -> None:
    _worker["env"].close()
    _worker.clear()


def _run_shard(shard: int, items: list[tuple[int, "Episode", int]]) -> tuple[int, int, int, int]:
    """Fly a shard's episodes and write it. Returns (shard, episodes, frames, successes)."""
    from cognitivedrone.data.lerobot_format import write_shard

    records = []
    for index, episode, task_index in items:
        cfg = _worker["cfg"]
        look = cfg.episode_look(episode) if cfg is not None else None
        agent = DartAgent(_worker["expert"], episode_sigma(index, episode.seed, _worker["noise_scale"]))
        rec = fly_episode(_worker["env"], agent, episode, index, task_index, look)
        records.append(rec)
        notify(rec.meta["success"])
    frames = write_shard(Path(_worker["root"]), shard, records, _worker["fps"])
    return shard, len(records), frames, sum(r.meta["success"] for r in records)


# -- the run --------------------------------------------------------------------------------------

def _validate(cfg: DatagenConfig) -> None:
    if not isinstance(cfg.episodes, int) or cfg.episodes < 1:
        raise DatagenError(f"--episodes must be >= 1, got {cfg.episodes}")
    if not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise DatagenError(f"--seed must be a non-negative integer, got {cfg.seed}")
    if not isinstance(cfg.shard_episodes, int) or cfg.shard_episodes < 1:
        raise DatagenError(f"--shard-episodes must be >= 1, got {cfg.shard_episodes}")
    if not isinstance(cfg.workers, int) or cfg.workers < 1:
        raise DatagenError(f"--workers must be >= 1, got {cfg.workers}")
    try:
        parse_executor(cfg.executor)
    except ValueError as exc:
        raise DatagenError(str(exc)) from None
    if not (math.isfinite(cfg.noise_scale) and cfg.noise_scale >= 0):
        raise DatagenError(f"--noise-scale must be a finite number >= 0, got {cfg.noise_scale}")
    if not cfg.sim.render_images:
        raise DatagenError("demonstrations need camera frames: SimConfig.render_images must be True")


def _check_out(root: Path, identity: dict) -> None:
    from cognitivedrone.data.lerobot_format import INFO_PATH, DatasetError, read_info

    if not root.exists():
        return
    if not root.is_dir():
        raise DatagenError(f"--out {root} exists and is not a folder; pick a new --out")
    if (root / INFO_PATH).exists():
        try:
            info = read_info(root)
        except DatasetError as e:
            raise DatagenError(f"--out {root}: {e}; pick a new --out") from None
        got = (info.get("cognitivedrone") or {}).get("datagen")
        if got != identity:
            if not isinstance(got, dict):
                raise DatagenError(f"--out {root} holds a dataset not made by datagen; pick a new --out")
            diffs = [f"{k} {got.get(k)!r} there vs {identity[k]!r} now" for k in identity if got.get(k) != identity[k]]
            raise DatagenError(f"--out {root} holds a dataset made with a different configuration ({'; '.join(diffs)}): "
                               "rerun with the same arguments to resume it, or pick a new --out")
    elif any(root.iterdir()):
        raise DatagenError(f"--out {root} is not empty and has no meta/info.json (not a datagen dataset); pick a new --out")


def generate(cfg: DatagenConfig, progress: bool = True) -> DatagenReport:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from cognitivedrone.data.lerobot_format import DatasetWriter, episodes_path, read_shard_episodes, remove_tmp_files
    from cognitivedrone.sim.scene import scene_options

    t0 = time.perf_counter()
    _validate(cfg)
    cfg.look_mix()  # a bad --looks fails before anything is written
    root = Path(cfg.out)
    plan = plan_episodes(cfg)
    tasks, task_of = plan_tasks(plan)
    identity = cfg.identity()
    _check_out(root, identity)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # under a file, read-only, /proc...
        raise DatagenError(f"--out {root}: cannot make the folder ({e.strerror or e})") from None
    remove_tmp_files(root)
    n_shards = cfg.n_shards
    writer = DatasetWriter(root, n_shards, tasks, fps=cfg.sim.control_hz, robot_type=cfg.sim.airframe,
                           image_size=cfg.sim.image_size, extra={"datagen": identity})
    done: set[int] = set()
    for k in writer.done_shards():
        want = list(cfg.shard_range(k))
        try:
            got = read_shard_episodes(root, k).column("episode_index").to_pylist()
        except Exception:  # noqa: BLE001 - an unreadable marker means the shard is redone
            got = None
        if got == want:
            done.add(k)
        else:
            episodes_path(root, k).unlink()
    writer.finalize()  # info.json (with the config) exists before any worker writes
    todo = [k for k in range(n_shards) if k not in done]
    items = {k: [(i, plan[i], task_of[plan[i].prompt]) for i in cfg.shard_range(k)] for k in todo}
    todo_eps = sum(len(v) for v in items.values())
    for v in items.values():  # every texture the episodes need, rendered once before the workers start
        for _, e, _ in v:
            scene_options(e, e.prompt, cfg.episode_look(e))

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} traj/min"), TextColumn("success {task.fields[ok]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    flown = ok = 0  # progress, from the workers' per-episode messages
    generated = 0  # episodes in shards this run wrote (the report's count)
    t_fly = time.perf_counter()
    with Progress(*columns, disable=not progress, transient=False) as bar:
        skipped_eps = cfg.episodes - todo_eps
        task = bar.add_task(f"datagen {root.name}", total=cfg.episodes, completed=skipped_eps, rate="-", ok="0/0")

        def tick(success: bool) -> None:
            nonlocal flown, ok
            flown += 1
            ok += bool(success)
            rate = flown / max(time.perf_counter() - t_fly, 1e-9) * 60.0
            bar.update(task, advance=1, rate=f"{rate:.0f}", ok=f"{ok}/{flown}")

        def landed(result: tuple[int, int, int, int]) -> None:
            nonlocal generated
            generated += result[1]
            writer.finalize()

        def shard(job: tuple) -> str:
            k, eps = job
            return (f"shard {k} (episodes {eps[0][0]}-{eps[-1][0]}, task seeds {eps[0][1].seed}..{eps[-1][1].seed}, "
                    f"--seed {cfg.seed})")

        try:
            run_jobs([(k, items[k]) for k in todo], _run_shard, _init_worker, (cfg.sim, cfg.noise_scale, str(root), cfg),
                     cfg.workers, on_result=landed, on_message=tick, close=_close_worker, executor=cfg.executor,
                     describe=shard, log=bar.console.print)
        except JobsFailed as exc:
            raise DatagenError(f"{exc}; the other shards are written: rerun the same command to try the failed "
                               "ones again") from None
        bar.update(task, completed=cfg.episodes)
    info = writer.finalize()
    wall = time.perf_counter() - t0
    return DatagenReport(
        out=str(root), episodes=info["total_episodes"], frames=info["total_frames"],
        successes=info["cognitivedrone"]["successes"], skipped_shards=len(done), generated_episodes=generated,
        wall_s=round(wall, 3), trajectories_per_min=round(generated / wall * 60.0, 1) if wall > 0 else 0.0,
        complete=bool(info["cognitivedrone"]["complete"]),
    )
