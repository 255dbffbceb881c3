"""A LeRobot v3 dataset from elsewhere (standard columns, a 6-D action, no instruction family or
scene) imported with a column map (cognitivedrone/data/from_lerobot.py)."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from cognitivedrone.data.from_bag import NothingUsable
from cognitivedrone.data.from_lerobot import ColumnMap, FromLeRobotConfig, convert_lerobot
from cognitivedrone.data.lerobot_format import DemoDataset


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((24, 32, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _foreign(root, video: bool = False):
    """Two episodes of 12 frames: action = (vx, vy, vz, roll rate, pitch rate, yaw rate)."""
    (root / "meta").mkdir(parents=True)
    (root / "data" / "chunk-000").mkdir(parents=True)
    features = {"observation.images.front": {"dtype": "video" if video else "image", "shape": [24, 32, 3]},
                "action": {"dtype": "float32", "shape": [6]}, "observation.state": {"dtype": "float32", "shape": [6]}}
    (root / "meta" / "info.json").write_text(json.dumps({"codebase_version": "v3.0", "fps": 15, "features": features}))
    pq.write_table(pa.table({"task_index": [0, 1], "task": ["follow the red car", "land on the pad"]}),
                   root / "meta" / "tasks.parquet")
    rows = {"observation.images.front": [], "action": [], "observation.state": [], "episode_index": [],
            "frame_index": [], "task_index": [], "timestamp": [], "index": []}
    for e in range(2):
        for k in range(12):
            rows["observation.images.front"].append({"bytes": _png(10 * k), "path": None})
            rows["action"].append([0.1 * k, -0.2, 0.05 * e, 9.0, 9.0, 0.3])
            rows["observation.state"].append([0, 0, 1, 0, 0, np.pi / 2])
            rows["episode_index"].append(e)
            rows["frame_index"].append(k)
            rows["task_index"].append(e)
            rows["timestamp"].append(k / 15)
            rows["index"].append(e * 12 + k)
    pq.write_table(pa.table(rows), root / "data" / "chunk-000" / "file-000.parquet")


def test_a_foreign_dataset_imports_through_a_column_map(tmp_path):
    src = tmp_path / "foreign"
    _foreign(src)
    cm = ColumnMap(image="observation.images.front", action_index=(0, 1, 2, 5))
    report = convert_lerobot(FromLeRobotConfig(str(src), str(tmp_path / "ds"), cm, image_size=16), log=lambda *_: None)
    assert (report.episodes, report.frames, report.fps) == (2, 24, 15.0)
    table = DemoDataset(tmp_path / "ds").frames(["action", "instruction", "observation.image"])
    actions = np.array(table.column("action").to_pylist())
    assert actions[3] == pytest.approx([0.3, -0.2, 0.0, 0.3], abs=1e-6)
    assert table.column("instruction").to_pylist()[0] == "follow the red car"
    assert table.column("instruction").to_pylist()[-1] == "land on the pad"

    # The same velocities given in the world frame, with the heading in the state: turned into the body.
    enu = ColumnMap(image="observation.images.front", action_index=(0, 1, 2, 5), action_frame="enu",
                    yaw="observation.state:5")
    convert_lerobot(FromLeRobotConfig(str(src), str(tmp_path / "enu"), enu, image_size=16), log=lambda *_: None)
    turned = np.array(DemoDataset(tmp_path / "enu").frames(["action"]).column("action").to_pylist())
    assert turned[3] == pytest.approx([-0.2, -0.3, 0.0, 0.3], abs=1e-6)  # facing north: east is to the right


def test_what_cannot_be_imported_says_so_in_one_line(tmp_path):
    src = tmp_path / "foreign"
    _foreign(src)
    with pytest.raises(ValueError, match="no feature 'observation.image' .*--image-key"):
        convert_lerobot(FromLeRobotConfig(str(src), str(tmp_path / "a")), log=lambda *_: None)
    with pytest.raises(NothingUsable, match="no episode"):
        convert_lerobot(FromLeRobotConfig(str(src), str(tmp_path / "b"), ColumnMap(image="observation.images.front"),
                                          min_frames=50), log=lambda *_: None)
    state = tmp_path / "state"
    _foreign(state)
    with pytest.raises(ValueError, match="stored as 'float32'; a camera is an image or video feature"):
        convert_lerobot(FromLeRobotConfig(str(state), str(tmp_path / "c"), ColumnMap(image="observation.state")),
                        log=lambda *_: None)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("foreign", "state")]


def _video_dataset(root, frames_in_video: int = 24):
    """The two episodes of `_foreign` with the camera as LeRobot stores it by default: AV1
    (libsvtav1, yuv420p) in one MP4 for both episodes, each from its from_timestamp in
    meta/episodes. Frame j of the file is a flat grey of 20 + 9 j, so a frame off by one shows."""
    import av

    _foreign(root, video=True)
    table = pq.read_table(root / "data" / "chunk-000" / "file-000.parquet").drop(["observation.images.front"])
    pq.write_table(table, root / "data" / "chunk-000" / "file-000.parquet")  # video cameras are not in the data files
    key = "observation.images.front"
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True)
    pq.write_table(pa.table({"episode_index": [0, 1], f"videos/{key}/chunk_index": [0, 0],
                             f"videos/{key}/file_index": [0, 0], f"videos/{key}/from_timestamp": [0.0, 12 / 15],
                             f"videos/{key}/to_timestamp": [12 / 15, 24 / 15]}),
                   root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    path = root / "videos" / key / "chunk-000" / "file-000.mp4"
    path.parent.mkdir(parents=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libsvtav1", rate=15, options={"crf": "30", "g": "2"})
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for j in range(frames_in_video):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 20 + 9 * j, np.uint8), format="rgb24")))
        out.mux(stream.encode(None))


def test_a_video_camera_decodes_each_row_to_its_own_frame(tmp_path):
    src = tmp_path / "video"
    _video_dataset(src)
    cm = ColumnMap(image="observation.images.front", action_index=(0, 1, 2, 5))
    report = convert_lerobot(FromLeRobotConfig(str(src), str(tmp_path / "ds"), cm, image_size=16), log=lambda *_: None)
    assert (report.episodes, report.frames) == (2, 24), report.lines()
    table = DemoDataset(tmp_path / "ds").frames(["observation.image", "episode_index", "frame_index"])
    from cognitivedrone.data.lerobot_format import decode_image

    grey = [float(decode_image(c, "test").mean()) for c in table.column("observation.image").to_pylist()]
    # episode 1 starts 12 frames into the file (its from_timestamp): row k of it is frame 12 + k
    assert grey == pytest.approx([20 + 9 * j for j in range(24)], abs=3)

    # The file ends early: the rows past its end are dropped and counted, the rest stand.
    short = tmp_path / "short"
    _video_dataset(short, frames_in_video=22)
    report = convert_lerobot(FromLeRobotConfig(str(short), str(tmp_path / "ds2"), cm, image_size=16),
                             log=lambda *_: None)
    assert (report.episodes, report.frames) == (2, 22)
    assert report.dropped["observation.images.front: no video frame within half a frame of its timestamp"] == 2


def test_the_command_line_imports_with_a_column_map(tmp_path):
    import subprocess
    import sys

    src = tmp_path / "foreign"
    _foreign(src)
    run = subprocess.run([sys.executable, "-m", "cognitivedrone.cli", "data", "from-lerobot", str(src), "--out",
                          str(tmp_path / "ds"), "--image-key", "observation.images.front", "--action-index", "0,1,2,5"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "2 episode(s), 24 frame(s) at 15 fps" in run.stdout
