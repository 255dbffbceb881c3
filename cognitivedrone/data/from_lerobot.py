"""`cognitivedrone data from-lerobot ROOT --out DATASET`: a LeRobot v3 dataset from elsewhere (its
standard columns, no instruction family or scene) -> the layout `train` reads (docs/design.md,
Recorded flights). A column map says which image feature is the camera, which four entries of
which vector are (vx, vy, vz, yaw rate), and in which frame; the instruction is the frame's task.

Frames stored as images (PNG or JPEG cells) are read; a camera stored as video is refused in one
line (decode it to images first). Episodes are the dataset's own, in frame order; the output is
written like a converted bag (from_bag.write_episodes): whole or not at all, with provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cognitivedrone.data.bag_sync import Sample, enu_to_body
from cognitivedrone.data.from_bag import FromBagReport, NothingUsable, write_episodes


@dataclass
class ColumnMap:
    image: str = "observation.image"  # an image feature (dtype "image")
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
    if features[cm.image].get("dtype") != "image":
        raise ValueError(f"{root}: {cm.image} is stored as {features[cm.image].get('dtype')!r}; this reads image "
                         "features (decode a video camera to images first)")
    if len(cm.action_index) != 4 or cm.action_frame not in ("body", "enu") or (cm.action_frame == "enu" and not cm.yaw):
        raise ValueError("the action map is 4 indices (vx, vy, vz, yaw rate), body or enu; enu needs --yaw COLUMN:INDEX")
    yaw_col, _, yaw_i = cm.yaw.partition(":")
    columns = list(dict.fromkeys([cm.image, cm.action, "episode_index", "frame_index", "task_index", "timestamp"]
                                 + ([yaw_col] if cm.yaw else [])))
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
            try:
                frame = decode_image(t[cm.image][r], where)
            except ValueError as exc:
                report.dropped[f"{cm.image}: {str(exc).split(': ', 1)[-1][:100]}"] += 1
                continue
            task = tasks.get(int(t["task_index"][r]), "")
            sample = Sample(float(t["timestamp"][r]), frame, vec, None, task)
            rows.setdefault(int(t["episode_index"][r]), []).append((int(t["frame_index"][r]), sample))
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
