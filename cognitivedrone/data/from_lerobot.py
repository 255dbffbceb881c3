"""`cognitivedrone data from-lerobot ROOT --out DATASET`: a LeRobot v3 dataset from elsewhere (its
standard columns, no instruction family or scene) -> the layout `train` reads (docs/design.md,
Recorded flights). A column map says which image feature is the camera, which four entries of
which vector are (vx, vy, vz, yaw rate), and in which frame; the instruction is the frame's task.

A camera is read where LeRobot keeps it: image cells (PNG or JPEG) in the data files, or video
(LeRobot's default: AV1 in MP4, many episodes to a file, each from its `from_timestamp` in
meta/episodes) decoded with PyAV, each row taking the frame at from_timestamp + its timestamp,
as lerobot's own loader does. Episodes are the dataset's own, in frame order; the output is
written like a converted bag (from_bag.write_episodes): whole or not at all, with provenance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from cognitivedrone.data.bag_sync import Sample, enu_to_body
from cognitivedrone.data.from_bag import FromBagReport, NothingUsable, write_episodes


@dataclass
class ColumnMap:
    image: str = "observation.image"  # the camera: an image or video feature
    action: str = "action"
    action_index: tuple[int, ...] = (0, 1, 2, 3)  # where vx, vy, vz, yaw rate are in `action`
    action_frame: str = "body"  # body (FLU) or enu (world frame: turned by the heading `yaw`)
    yaw: str = ""  # for enu: COLUMN:INDEX of the heading (rad), e.g. observation.state:5


@dataclass
class FromLeRobotConfig:
    root: str
    out: str
    columns: ColumnMap = field(default_factory=ColumnMap)
    image_size: int = 128
    min_frames: int = 10


def _features(root: Path) -> dict:
    from cognitivedrone.bounded_json import load_file

    info_path = root / "meta" / "info.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{info_path}: missing (not a LeRobotDataset v3 folder)")
    info = load_file(info_path)
    if not str(info.get("codebase_version", "")).startswith("v3"):
        raise ValueError(f"{info_path}: codebase_version {info.get('codebase_version')!r}; this reads v3 datasets")
    return info


def _tasks(root: Path) -> dict[int, str]:
    import pyarrow.parquet as pq

    t = pq.read_table(root / "meta" / "tasks.parquet").to_pydict()
    name = "task" if "task" in t else next((k for k in t if k != "task_index"), None)  # lerobot keeps it as the index
    if name is None or "task_index" not in t:
        raise ValueError(f"{root / 'meta' / 'tasks.parquet'}: no task_index and task columns")
    return {int(i): str(s) for i, s in zip(t["task_index"], t[name])}


def convert_lerobot(cfg: FromLeRobotConfig, log=print) -> FromBagReport:
    import pyarrow.parquet as pq

    from cognitivedrone.data.lerobot_format import decode_image

    root, out, cm = Path(cfg.root), Path(cfg.out), cfg.columns
    if out.exists():
        raise ValueError(f"--out {out} exists; a dataset is never overwritten: give a new folder")
    info = _features(root)
    features = info.get("features", {})
    for key in (cm.image, cm.action):
        if key not in features:
            raise ValueError(f"{root}: no feature {key!r} (it has: {', '.join(features)}); map yours with "
                             f"--image-key / --action-key")
    stored = features[cm.image].get("dtype")
    if stored not in ("image", "video"):
        raise ValueError(f"{root}: {cm.image} is stored as {stored!r}; a camera is an image or video feature")
    video = stored == "video"
    if len(cm.action_index) != 4 or cm.action_frame not in ("body", "enu") or (cm.action_frame == "enu" and not cm.yaw):
        raise ValueError("the action map is 4 indices (vx, vy, vz, yaw rate), body or enu; enu needs --yaw COLUMN:INDEX")
    yaw_col, _, yaw_i = cm.yaw.partition(":")
    columns = list(dict.fromkeys(([] if video else [cm.image]) + [cm.action, "episode_index", "frame_index",
                                 "task_index", "timestamp"] + ([yaw_col] if cm.yaw else [])))
    files = sorted((root / "data").glob("**/*.parquet"))
    if not files:
        raise ValueError(f"{root / 'data'}: no parquet files")
    tasks = _tasks(root)
    report = FromBagReport(out, fps=float(info.get("fps", 0)) or 0.0)
    rows: dict[int, list[tuple[int, Sample]]] = {}
    for f in files:
        t = pq.read_table(f, columns=columns).to_pydict()
        for r in range(len(t["episode_index"])):
            where = f"{f}: row {r}"
            action = np.asarray(t[cm.action][r], np.float64)
            if action.ndim != 1 or max(cm.action_index) >= len(action) or not np.isfinite(action).all():
                report.dropped[f"{cm.action} not a finite vector with entries {cm.action_index}"] += 1
                continue
            vec = action[list(cm.action_index)].astype(np.float32)
            if cm.action_frame == "enu":
                vec = enu_to_body(vec, float(np.asarray(t[yaw_col][r])[int(yaw_i)]))
            frame = None  # a video's frames are decoded below, file by file
            if not video:
                try:
                    frame = decode_image(t[cm.image][r], where)
                except ValueError as exc:
                    report.dropped[f"{cm.image}: {str(exc).split(': ', 1)[-1][:100]}"] += 1
                    continue
            task = tasks.get(int(t["task_index"][r]), "")
            sample = Sample(float(t["timestamp"][r]), frame, vec, None, task)
            rows.setdefault(int(t["episode_index"][r]), []).append((int(t["frame_index"][r]), sample))
    if video:
        rows = _with_video_frames(root, info, cm.image, rows, cfg.image_size, report.dropped)
    episodes = []
    for e in sorted(rows):
        episode = [s for _, s in sorted(rows[e], key=lambda fs: fs[0])]
        if len(episode) < cfg.min_frames or not episode[0].instruction:
            report.dropped[f"episodes shorter than {cfg.min_frames} frames or without a task"] += 1
            continue
        episodes.append(episode)
    if not episodes:
        raise NothingUsable(f"no episode in {root}: " +
                            ("; ".join(f"{n} {why}" for why, n in report.dropped.most_common(3)) or "no frames"))
    report.fps = report.fps or round(1.0 / float(np.median(np.diff([s.t for s in episodes[0]]))), 2)
    extra = {"from_lerobot": {"root": str(root), "columns": {**vars(cm), "action_index": list(cm.action_index)}}}
    report.episodes, report.frames = write_episodes(out, [(str(root), episodes)], report.fps, cfg.image_size,
                                                    cm.image, extra)
    log(f"{root}: {report.episodes} episode(s)")
    return report


VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"  # LeRobot v3's default


def _with_video_frames(root: Path, info: dict, key: str, rows: dict[int, list[tuple[int, Sample]]], size: int,
                       dropped: Counter) -> dict[int, list[tuple[int, Sample]]]:
    """`rows` with each sample's frame decoded from the video `key`: the frame nearest the
    episode's from_timestamp + the row's timestamp, if one lies within half a frame period (else
    the row is dropped, counted). Frames are cut to `size` as they are decoded (fit_image, as the
    writer would), so a long file is never held at full resolution."""
    import pyarrow.parquet as pq

    from cognitivedrone.policy.inputs import fit_image

    try:
        import av
    except ImportError:
        raise ValueError(f"{root}: {key} is a video; decoding it needs PyAV: pip install av") from None
    cols = [f"videos/{key}/{c}" for c in ("chunk_index", "file_index", "from_timestamp")]
    where: dict[int, tuple[Path, float]] = {}
    template = info.get("video_path") or VIDEO_PATH
    for f in sorted((root / "meta" / "episodes").glob("**/*.parquet")):
        t = pq.read_table(f).to_pydict()
        if any(c not in t for c in cols):
            raise ValueError(f"{f}: no {', '.join(c for c in cols if c not in t)} (where {key}'s episodes lie in its videos)")
        for e, chunk, file, start in zip(t["episode_index"], *(t[c] for c in cols)):
            path = root / template.format(video_key=key, chunk_index=int(chunk), file_index=int(file))
            where[int(e)] = (path, float(start))
    fps = float(info.get("fps") or 0) or 30.0
    wanted: dict[Path, list[tuple[float, int, int]]] = {}  # file -> (time, episode, position in rows[episode])
    for e, samples in rows.items():
        if e not in where:
            dropped[f"{key}: episode not in meta/episodes"] += len(samples)
            continue
        path, start = where[e]
        wanted.setdefault(path, []).extend((start + s.t, e, i) for i, (_, s) in enumerate(samples))
    frames: dict[tuple[int, int], np.ndarray] = {}
    for path, asks in wanted.items():
        if not path.is_file():
            dropped[f"{key}: missing video {path.relative_to(root)}"] += len(asks)
            continue
        try:
            got = _frames_at(av, path, sorted(asks), 0.5 / fps, lambda rgb: fit_image(rgb, size))
        except (av.error.FFmpegError, ValueError) as exc:
            dropped[f"{key}: {path.name} does not decode ({type(exc).__name__})"] += len(asks)
            continue
        frames.update(got)
        if len(got) < len(asks):
            dropped[f"{key}: no video frame within half a frame of its timestamp"] += len(asks) - len(got)
    out = {}
    for e, samples in rows.items():
        kept = [(k, replace(s, frame=frames[(e, i)])) for i, (k, s) in enumerate(samples) if (e, i) in frames]
        if kept:
            out[e] = kept
    return out


def _frames_at(av, path: Path, asks: list[tuple[float, int, int]], tolerance: float, shrink) -> dict:
    """Decode `path` front to back once; for each (time, *id) in `asks` (sorted by time) the
    frame nearest that time, if within `tolerance` seconds: {id: shrink(rgb)}."""
    out, i, prev = {}, 0, None  # prev: (time, frame) of the last frame decoded and kept

    def settle(before: float | None, following) -> None:
        """Asks earlier than `before` (all, if None): the nearer of `prev` and `following`."""
        nonlocal i
        while i < len(asks) and (before is None or asks[i][0] < before):
            t = asks[i][0]
            best = min((c for c in (prev, following) if c is not None), key=lambda c: abs(c[0] - t), default=None)
            if best is not None and abs(best[0] - t) <= tolerance:
                out[asks[i][1:]] = best[1]
            i += 1

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if i >= len(asks):
                break
            if frame.pts is None:
                continue
            t = float(frame.pts * stream.time_base)
            if asks[i][0] - t > tolerance:  # too early for every ask left: not even converted
                prev = None
                continue
            current = (t, shrink(frame.to_ndarray(format="rgb24")))
            settle(t, current)
            prev = current
    settle(None, None)
    return out
