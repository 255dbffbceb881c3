"""`cognitivedrone data from-bag BAG... --out DATASET`: recorded flights -> a LeRobotDataset v3
folder that `train` reads (docs/design.md, Recorded flights).

Each bag is read (bag_streams.py), its frames labelled with the command in force and cut into
episodes (bag_sync.py); each episode becomes one EpisodeRecord: frames centre-cropped and shrunk
to `image_size` as the policy sees them, the label as both `action` and `action.executed` (a
pilot's command is what was flown), the state from the pose (velocities by finite differences of
it; zeros where no pose was recorded), category "flight". Per frame, where it came from (source
bag, camera topic, stamp) goes to meta/provenance.parquet beside the data.

Nothing half-made: the dataset is written into a hidden folder beside `out` and renamed into
place once whole; `out` must not exist. What was dropped is reported, one line per reason, and
a run that finds nothing usable raises NothingUsable (exit 2 on the command line).
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cognitivedrone.data.bag_streams import TopicMap, read_streams
from cognitivedrone.data.bag_sync import Sample, label_frames, split_episodes

PROVENANCE_PATH = "meta/provenance.parquet"
CATEGORY = "flight"


class NothingUsable(ValueError):
    """No bag gave one episode to write."""


@dataclass
class FromBagConfig:
    bags: list[str]
    out: str
    topics: TopicMap = field(default_factory=TopicMap)
    instruction: str = ""  # for bags without an instruction topic
    command_frame: str = "body"  # body (teleop cmd_vel, FLU) or enu (MAVROS set-points)
    image_size: int = 128
    gap_s: float = 1.0
    max_command_age_s: float = 0.5
    max_pose_age_s: float = 0.2
    min_frames: int = 10  # a shorter run is not an episode
    # The camera as the stored square frame sees it (centre crop: a landscape camera's vertical
    # field of view); None: the simulator's (106 degrees, level). Training projects where the
    # flight went into each frame through it (training/data.py, hindsight pointer targets).
    camera_fov_deg: float | None = None
    camera_pitch_deg: float | None = None

    def camera(self) -> dict:
        """The camera given, for each episode's "flight" column; one no lens has is refused."""
        limits = {"fov_deg": (1.0, 179.0), "pitch_deg": (-90.0, 90.0)}
        camera = {}
        for name, (low, high) in limits.items():
            v = getattr(self, f"camera_{name}")
            if v is None:
                continue
            if not (np.isfinite(v) and low <= v <= high):
                raise ValueError(f"--camera-{name.replace('_', '-')} {v:g} is out of range ({low:g} to {high:g} degrees)")
            camera[name] = float(v)
        return camera


@dataclass
class FromBagReport:
    out: Path
    episodes: int = 0
    frames: int = 0
    fps: float = 0.0
    dropped: Counter = field(default_factory=Counter)  # reason -> frames (or messages, or episodes)

    def lines(self) -> list[str]:
        head = f"{self.out}: {self.episodes} episode(s), {self.frames} frame(s) at {self.fps:g} fps"
        return [head] + [f"  dropped {n}: {why}" for why, n in self.dropped.most_common()]


def _states(samples: list[Sample]) -> np.ndarray:
    """(T, 12): x y z roll pitch yaw, then velocities by finite differences of the pose."""
    out = np.zeros((len(samples), 12), np.float32)
    poses = [s.pose for s in samples]
    if all(p is not None for p in poses):
        p = np.stack(poses).astype(np.float64)
        t = np.array([s.t for s in samples])
        out[:, :6] = p
        if len(p) > 1:
            dp = np.gradient(p, t, axis=0)
            dp[:, 3:] = np.gradient(np.unwrap(p[:, 3:], axis=0), t, axis=0)
            out[:, 6:9], out[:, 9:12] = dp[:, :3], dp[:, 3:]
    return out


def _record(index: int, episode: list[Sample], bag: Path, k: int, task_index: int, size: int, camera: dict):
    from cognitivedrone.data.lerobot_format import EpisodeRecord, encode_image, image_stats
    from cognitivedrone.policy.inputs import fit_image

    frames = [fit_image(np.asarray(s.frame), size) for s in episode]
    actions = np.stack([s.action for s in episode]).astype(np.float32)
    text = episode[0].instruction
    meta = {"episode_id": f"{bag.name}-{k:03d}", "category": CATEGORY, "family": "", "success": True,
            "outcome": "recorded", "prompt": text, "prompt_simpler": text, "seed": -1, "options": [],
            "correct": -1, "gates": [], "noise_sigma": [0.0] * 4,
            "flight": {"pose": all(s.pose is not None for s in episode), **camera}}
    return EpisodeRecord(episode_index=index, images=[encode_image(f) for f in frames], states=_states(episode),
                         actions=actions, executed=actions.copy(), task_index=task_index, meta=meta,
                         image_stats=image_stats(frames))


def write_episodes(out: Path, sources: list[tuple[str, list[list[Sample]]]], fps: float, image_size: int,
                   topic: str, extra: dict, camera: dict | None = None) -> tuple[int, int]:
    """Labelled episodes -> a dataset folder at `out`, one shard per source (a bag, a dataset),
    whole or not at all: written into a hidden folder beside it, renamed once complete. Each
    frame's source, `topic` and stamp go to meta/provenance.parquet; each episode's "flight"
    column says whether it has a pose, and `camera` (FromBagConfig.camera). Returns (episodes, frames)."""
    import pyarrow as pa

    from cognitivedrone.data.lerobot_format import DatasetWriter, write_parquet_atomic, write_shard

    tasks = sorted({e[0].instruction for _, kept in sources for e in kept})
    task_of = {t: i for i, t in enumerate(tasks)}
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)  # a run that died before the rename
    episodes = frames = 0
    try:
        provenance = {"index": [], "source": [], "topic": [], "stamp": []}
        for shard, (source, kept) in enumerate(sources):
            records = []
            for k, episode in enumerate(kept):
                records.append(_record(episodes, episode, Path(source), k, task_of[episode[0].instruction], image_size,
                                       camera or {}))
                episodes += 1
                for s in episode:
                    provenance["source"].append(source)
                    provenance["topic"].append(topic)
                    provenance["stamp"].append(s.t)
            frames += write_shard(tmp, shard, records, fps)
        provenance["index"] = list(range(frames))
        DatasetWriter(tmp, len(sources), tasks, fps=fps, robot_type="recorded", image_size=image_size,
                      extra=extra).finalize()
        write_parquet_atomic(pa.table(provenance), tmp / PROVENANCE_PATH)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return episodes, frames


def convert(cfg: FromBagConfig, log=print) -> FromBagReport:
    out = Path(cfg.out)
    if out.exists():
        raise ValueError(f"--out {out} exists; a dataset is never overwritten: give a new folder")
    if not cfg.bags:
        raise ValueError("give at least one bag")
    camera = cfg.camera()
    report = FromBagReport(out)
    per_bag: list[tuple[Path, list[list[Sample]]]] = []
    intervals = []
    for bag in map(Path, cfg.bags):
        streams = read_streams(bag, cfg.topics)
        for why, n in streams.unreadable.items():
            report.dropped[f"{bag.name}: unreadable {why}"] += n
        samples, drops = label_frames(
            streams.frames, streams.commands, streams.poses, streams.instructions, command_frame=cfg.command_frame,
            default_instruction=cfg.instruction, max_command_age_s=cfg.max_command_age_s,
            max_pose_age_s=cfg.max_pose_age_s)
        for why, n in drops.counts.items():
            report.dropped[f"{bag.name}: {why}"] += n
        kept = []
        for episode in split_episodes(samples, cfg.gap_s):
            if len(episode) < cfg.min_frames:
                report.dropped[f"{bag.name}: frames in runs shorter than {cfg.min_frames} (an episode is longer)"] += \
                    len(episode)
                continue
            kept.append(episode)
            intervals += list(np.diff([s.t for s in episode]))
        per_bag.append((bag, kept))
        log(f"{bag}: {len(streams.frames)} frames, {len(kept)} episode(s)")
    if not any(kept for _, kept in per_bag):
        raise NothingUsable("no episode in " + ", ".join(cfg.bags) + ": " +
                            ("; ".join(f"{n} {why}" for why, n in report.dropped.most_common(3)) or "no frames"))
    report.fps = round(1.0 / float(np.median(intervals)), 2)
    extra = {"from_bag": {"bags": [str(b) for b, kept in per_bag if kept], "topics": vars(cfg.topics),
                          "command_frame": cfg.command_frame}}
    report.episodes, report.frames = write_episodes(out, [(str(b), kept) for b, kept in per_bag if kept], report.fps,
                                                    cfg.image_size, cfg.topics.camera, extra, camera)
    return report
