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
    video = tmp_path / "video"
    _foreign(video, video=True)
    with pytest.raises(ValueError, match="stored as 'video'"):
        convert_lerobot(FromLeRobotConfig(str(video), str(tmp_path / "c"), ColumnMap(image="observation.images.front")),
                        log=lambda *_: None)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("foreign", "video")]


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
