"""LeRobot interop, checked with lerobot itself (run inside the venv scripts/check_lerobot.sh makes;
no cognitivedrone import here: that venv holds lerobot's torch, not ours).

    python scripts/lerobot_interop.py load ROOT [ROOT ...]   lerobot's LeRobotDataset reads ours
    python scripts/lerobot_interop.py write ROOT             lerobot writes a dataset with a video camera

`load` opens each folder with `LeRobotDataset(repo_id, root=ROOT)` and compares what lerobot
returns for the first, a middle and the last frame of every episode with the files themselves
(the image decoded with PIL from the parquet cell, the action): exit 1 on any difference.
`write` makes a two-episode dataset the way a LeRobot user records one (LeRobotDataset.create,
add_frame, save_episode: the camera encoded to AV1 MP4 by lerobot), for `data from-lerobot`.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from PIL import Image


def load(roots: list[str]) -> int:
    import lerobot
    import torch
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    failures = 0
    for root in map(Path, roots):
        ds = LeRobotDataset(repo_id=f"local/{root.name}", root=root)
        rows = {}
        for f in sorted((root / "data").glob("**/*.parquet")):
            t = pq.read_table(f).to_pydict()
            for r, index in enumerate(t["index"]):
                rows[int(index)] = {k: v[r] for k, v in t.items()}
        checked = 0
        for e in range(ds.meta.total_episodes):
            ep = ds.meta.episodes[e]
            start, end = int(ep["dataset_from_index"]), int(ep["dataset_to_index"])
            for i in sorted({start, (start + end) // 2, end - 1}):
                item, row = ds[i], rows[i]
                image = item["observation.image"]  # float C x H x W in [0, 1], as lerobot hands it to a policy
                mine = np.asarray(Image.open(io.BytesIO(row["observation.image"]["bytes"])).convert("RGB"))
                theirs = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                same = theirs.shape == mine.shape and np.array_equal(theirs, mine) and \
                    torch.allclose(item["action"], torch.tensor(row["action"], dtype=torch.float32)) and \
                    int(item["episode_index"]) == e and isinstance(item["task"], str) and bool(item["task"])
                failures += not same
                checked += 1
        print(f"{root}: lerobot {lerobot.__version__} (torch {torch.__version__}) read {len(ds)} frames, "
              f"{ds.meta.total_episodes} episodes, fps {ds.fps}; {checked} frames compared with the files: "
              f"{'all equal' if not failures else f'{failures} differ'}")
    return 1 if failures else 0


def write(root: str) -> int:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    features = {"observation.images.front": {"dtype": "video", "shape": (96, 128, 3), "names": ["height", "width", "channels"]},
                "observation.state": {"dtype": "float32", "shape": (6,), "names": None},
                "action": {"dtype": "float32", "shape": (6,), "names": None}}
    ds = LeRobotDataset.create("local/written-by-lerobot", fps=15, features=features, root=root, use_videos=True)
    for e, task in enumerate(["follow the red car", "land on the pad"]):
        for k in range(20):
            frame = np.full((96, 128, 3), 20 + 9 * k, np.uint8)  # frame k of an episode: a grey of 20 + 9 k
            ds.add_frame({"observation.images.front": frame,
                          "observation.state": np.array([0, 0, 1, 0, 0, 0], np.float32),
                          "action": np.array([0.1 * k, -0.2, 0.05 * e, 0, 0, 0.3], np.float32), "task": task})
        ds.save_episode()
    ds.finalize()
    print(f"{root}: written by lerobot, {ds.meta.total_episodes} episodes, {ds.meta.total_frames} frames, "
          f"camera as {ds.meta.video_keys}")
    return 0


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    sys.exit(load(args) if verb == "load" else write(args[0]))
