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

import argparse
import hashlib
import json
import math
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.tasks.suite import Episode

DART_SIGMA = (0.35, 0.35, 0.2, 0.4)  # m/s, m/s, m/s, rad/s: sigma at noise_scale 1
OU_THETA = 0.3  # per control step: noise correlation time ~ 1/theta = 3 steps (0.3 s at 10 Hz)
CLEAN_EVERY = 4  # episode i with i % CLEAN_EVERY == CLEAN_EVERY - 1 flies without noise
SEED_SALT = "cognitivedrone-datagen"
FORMAT_VERSION = 1  # bump when what a config generates changes


class DatagenError(ValueError):
    """A problem with the user's request (bad config, a taken --out, a committed seed): one line."""


def _default_sim() -> "SimConfig":
    from cognitivedrone.sim.env import SimConfig

    return SimConfig()


@dataclass(frozen=True)
class DatagenConfig:
    episodes: int
    seed: int
    out: str
    workers: int = 2
    shard_episodes: int = 50  # episodes per data file: the unit of resumption
    noise_scale: float = 1.0  # DART: per-episode sigma ~ U(0, noise_scale) * DART_SIGMA
    sim: "SimConfig" = field(default_factory=_default_sim)
    families: tuple[str, ...] = ()  # only these task families (e.g. for fine-tuning); () = all
    looks: str = "classic"  # "NAME" or a mix "classic:1,randomized:3" of training looks (sim/look.py)
    look_seed: int = 0

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
        """What must match for a rerun to resume a folder (not workers, not out)."""
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

def fly_episode(env: "DroneEnv", pilot, episode: "Episode", index: int, noise_scale: float, task_index: int,
                look=None):
    """Fly one episode with the expert under DART noise in `look` (None: classic); returns an
    EpisodeRecord whose meta carries the look's values."""
    from cognitivedrone.data.lerobot_format import EpisodeRecord, encode_image, image_stats
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import judge
    from cognitivedrone.types import VelocityCommand

    obs, info = env.reset(seed=episode.seed, options=scene_options(episode, episode.prompt, look))
    pilot.reset(env.world.gates[episode.target_index].pose,
                camera=None if look is None or look.is_classic else env.camera_config)
    a = env.airframe
    lim = np.array([a.max_vxy, a.max_vxy, a.max_vz, a.max_yaw_rate])
    sigma = episode_sigma(index, episode.seed, noise_scale)
    rng = np.random.default_rng([episode.seed, 2])
    decay = 1.0 - OU_THETA
    drive = sigma * math.sqrt(1.0 - decay ** 2)  # keeps the OU process's stationary std at sigma
    noise = sigma * rng.standard_normal(4)  # start in the stationary distribution
    frames, images, states, labels, executed = [], [], [], [], []
    while True:
        frames.append(obs["image"])
        images.append(encode_image(obs["image"]))
        states.append(obs["state"])
        label = np.clip(pilot.act(obs["state"]).as_array(), -lim, lim)
        # What is flown is exactly what is stored (float32).
        ex = np.clip(label + noise, -lim, lim).astype(np.float32)
        labels.append(label.astype(np.float32))
        executed.append(ex)
        obs, _, terminated, truncated, info = env.step(VelocityCommand.from_array(ex))
        noise = decay * noise + drive * rng.standard_normal(4)
        if terminated or truncated:
            break
    outcome = judge(info["event"], info.get("gate_index"), episode.target_index)
    meta = {
        "episode_id": episode.id, "category": episode.category, "family": episode.family,
        "success": outcome == "success", "outcome": outcome, "prompt": episode.prompt,
        "prompt_simpler": episode.prompt_simpler, "seed": int(episode.seed), "options": list(episode.options),
        "correct": int(episode.correct), "gates": [g.describe() for g in episode.gates],
        "noise_sigma": [float(v) for v in sigma.astype(np.float32)],
    }
    if look is not None and not look.is_classic:
        meta["look"] = look.to_dict()
    return EpisodeRecord(
        episode_index=index, images=images, states=np.stack(states), actions=np.stack(labels),
        executed=np.stack(executed), task_index=task_index, meta=meta, image_stats=image_stats(frames),
    )


_worker: dict = {}
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """A parent killed by SIGKILL cannot shut its pool down, and a worker waiting on the task
    queue never sees it go (the workers hold the queue's write end too): have the kernel send
    SIGTERM when the parent dies (Linux; strictly, when the thread that started this worker
    ends: generate() submits and shuts the pool down on one thread), else poll for it.
    Checked once after, in case the parent died before this ran."""
    try:
        import ctypes

        armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) == 0
    except (OSError, AttributeError):  # not Linux
        armed = False
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _init_worker(sim: "SimConfig", noise_scale: float, root: str, notify, parent: int | None = None,
                 cfg: "DatagenConfig | None" = None) -> None:
    if parent is not None:  # a pool worker (None: flying in the main process)
        _die_with_parent(parent)
    # One BLAS/OpenMP thread per worker: the workers are the parallelism.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from cognitivedrone.expert import ExpertPilot
    from cognitivedrone.sim.env import DroneEnv

    _worker.update(env=DroneEnv(sim), pilot=ExpertPilot(), noise_scale=noise_scale, root=root,
                   fps=sim.control_hz, notify=notify, cfg=cfg)


def _notify(success: bool) -> None:
    n = _worker["notify"]
    if callable(n):
        n(success)
    elif n is not None:
        n.put(bool(success))


def _run_shard(shard: int, items: list[tuple[int, "Episode", int]]) -> tuple[int, int, int, int]:
    """Fly a shard's episodes and write it. Returns (shard, episodes, frames, successes)."""
    from cognitivedrone.data.lerobot_format import write_shard

    records = []
    for index, episode, task_index in items:
        cfg = _worker["cfg"]
        look = cfg.episode_look(episode) if cfg is not None else None
        rec = fly_episode(_worker["env"], _worker["pilot"], episode, index, _worker["noise_scale"], task_index, look)
        records.append(rec)
        _notify(rec.meta["success"])
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

        if todo and cfg.workers <= 1:
            _init_worker(cfg.sim, cfg.noise_scale, str(root), tick, None, cfg)
            try:
                for k in todo:
                    generated += _run_shard(k, items[k])[1]
                    writer.finalize()
            finally:
                _worker["env"].close()
                _worker.clear()
        elif todo:
            ctx = mp.get_context("spawn")
            q = ctx.Queue()

            def drain() -> None:
                while True:
                    try:
                        tick(q.get_nowait())
                    except queue.Empty:
                        return

            pool = ProcessPoolExecutor(min(cfg.workers, len(todo)), mp_context=ctx, initializer=_init_worker,
                                       initargs=(cfg.sim, cfg.noise_scale, str(root), q, os.getpid(), cfg))
            try:
                pending = {pool.submit(_run_shard, k, items[k]) for k in todo}
                while pending:
                    finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                    drain()
                    for fut in finished:
                        generated += fut.result()[1]
                        writer.finalize()
                drain()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
            drain()
        bar.update(task, completed=cfg.episodes)
    info = writer.finalize()
    wall = time.perf_counter() - t0
    return DatagenReport(
        out=str(root), episodes=info["total_episodes"], frames=info["total_frames"],
        successes=info["cognitivedrone"]["successes"], skipped_shards=len(done), generated_episodes=generated,
        wall_s=round(wall, 3), trajectories_per_min=round(generated / wall * 60.0, 1) if wall > 0 else 0.0,
        complete=bool(info["cognitivedrone"]["complete"]),
    )


# -- CLI ------------------------------------------------------------------------------------------

def add_datagen_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--episodes", type=int, required=True, help="number of episodes (trajectories)")
    parser.add_argument("--seed", type=int, required=True, help="task seed (not one a committed suite was made with)")
    parser.add_argument("--out", required=True, help="dataset folder (LeRobotDataset v3); rerun with the same arguments to resume")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--shard-episodes", type=int, default=50, help="episodes per data file, the unit of resumption (default 50)")
    parser.add_argument("--noise-scale", type=float, default=1.0,
                        help="DART noise multiplier; 0 flies every episode noise-free (default 1.0)")
    parser.add_argument("--families", default="", help="comma list of task families to record (default: all, balanced)")
    parser.add_argument("--looks", default="classic",
                        help="the look of the world: a training look (classic, randomized) or a mix with weights, "
                             "e.g. classic:1,randomized:3 (default classic; held-out looks are refused)")
    parser.add_argument("--look-seed", type=int, default=0, help="seed of the per-episode look draws (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def run_datagen(args: argparse.Namespace) -> int:
    from cognitivedrone.data.lerobot_format import DatasetError

    cfg = DatagenConfig(episodes=args.episodes, seed=args.seed, out=args.out, workers=args.workers,
                        shard_episodes=args.shard_episodes, noise_scale=args.noise_scale,
                        families=tuple(f.strip() for f in args.families.split(",") if f.strip()),
                        looks=args.looks, look_seed=args.look_seed)
    try:
        rep = generate(cfg, progress=not getattr(args, "quiet", False))
    except (DatagenError, DatasetError) as e:
        print(f"cognitivedrone: error: {e}", file=sys.stderr)
        return 2
    state = "complete" if rep.complete else "incomplete: rerun to finish"
    print(f"wrote {rep.out}: {rep.episodes} episodes, {rep.frames} frames, success {rep.success_rate:.1%} ({state}); "
          f"this run flew {rep.generated_episodes} episodes in {rep.wall_s:.1f} s ({rep.trajectories_per_min:.0f} traj/min), "
          f"{rep.skipped_shards} shard(s) already done")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = add_datagen_arguments(argparse.ArgumentParser(prog="cognitivedrone datagen", description=__doc__.split("\n")[0]))
    return run_datagen(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
