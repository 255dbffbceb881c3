#!/usr/bin/env python
"""What the frame guard measures on the frames a policy is trained on, against frames it must
refuse: the figures its thresholds (cognitivedrone/frame_guard.py, FrameGuardConfig) come from.

Reads a datagen dataset (training looks only: classic and randomized), puts a randomized
episode's frames through a fresh camera each (sim.look.camera_effects, as training does), and
prints percentiles of brightness, contrast (std) and structure per look; then the same for
frames that carry no view: flat grey at several levels with sensor noise, and pure noise.

    .venv/bin/python scripts/guard_stats.py runs/looks/data --shards 24 --every 10
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from tqdm import tqdm

from cognitivedrone.data.lerobot_format import decode_image
from cognitivedrone.frame_guard import FrameGuardConfig, frame_stats
from cognitivedrone.sim.look import camera_effects

PERCENTILES = (0, 0.1, 1, 5, 50)


def dataset_stats(root: Path, shards: int, every: int, seed: int) -> dict[str, np.ndarray]:
    """{look name: [n, 3] (mean, std, structure)} over every `every`-th frame of `shards` shards."""
    files = sorted((root / "data").glob("chunk-*/file-*.parquet"))
    if not files:
        raise SystemExit(f"{root}: no data/chunk-*/file-*.parquet; give a datagen output folder")
    picked = files[:: max(1, len(files) // shards)][:shards]
    looks = {}
    for f in sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet")):
        t = pq.read_table(f, columns=["episode_index", "look"]).to_pydict()
        for i, lk in zip(t["episode_index"], t["look"]):
            looks[i] = json.loads(lk)["name"] if lk else "classic"
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {}
    for f in tqdm(picked, desc="shards", unit="shard"):
        t = pq.read_table(f, columns=["observation.image", "episode_index"])
        images, episodes = t.column("observation.image").to_pylist(), t.column("episode_index").to_pylist()
        for cell, ep in list(zip(images, episodes))[::every]:
            name = looks.get(ep, "classic")
            image = decode_image(cell)
            if name != "classic":  # stored before the lens: the camera a training sample would get
                image = camera_effects(image, rng)
            s = frame_stats(image)
            rows.setdefault(name, []).append((s.mean, s.std, s.structure))
    return {k: np.asarray(v) for k, v in rows.items()}


def viewless_stats(size: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {"flat grey + noise 8": [], "pure noise": []}
    for level in range(20, 240, 10):
        for _ in range(10):
            flat = np.clip(level + rng.normal(0, 8, (size, size, 3)), 0, 255).astype(np.uint8)
            s = frame_stats(flat)
            out["flat grey + noise 8"].append((s.mean, s.std, s.structure))
    for _ in range(200):
        s = frame_stats(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        out["pure noise"].append((s.mean, s.std, s.structure))
    return {k: np.asarray(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", type=Path, help="a datagen output folder (training looks only)")
    ap.add_argument("--shards", type=int, default=24, help="shards to read, spread over the dataset (default 24)")
    ap.add_argument("--every", type=int, default=10, help="take every Nth frame of a shard (default 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="also write the percentiles as JSON here")
    args = ap.parse_args()
    views = dataset_stats(args.dataset, args.shards, args.every, args.seed)
    size = 128
    report = {}
    cfg = FrameGuardConfig()
    print(f"guard thresholds now: mean {cfg.min_mean:g}..{cfg.max_mean:g}, std >= {cfg.min_std:g}, "
          f"structure >= {cfg.min_structure:g}")
    for name, a in {**views, **viewless_stats(size, args.seed)}.items():
        pct = {q: np.percentile(a, q, axis=0) for q in PERCENTILES} | {100: a.max(axis=0)}
        report[name] = {"frames": len(a), **{f"p{q:g}": [round(float(x), 3) for x in v] for q, v in pct.items()}}
        refused = ((a[:, 0] < cfg.min_mean) | (a[:, 0] > cfg.max_mean) | (a[:, 1] < cfg.min_std)
                   | (a[:, 2] < cfg.min_structure)).mean()
        report[name]["refused"] = round(float(refused), 5)
        print(f"{name}: {len(a)} frames, refused by the guard {100 * refused:.2f} %")
        for col, label in enumerate(("mean", "std", "structure")):
            cells = "  ".join(f"p{q:g} {pct[q][col]:7.2f}" for q in (*PERCENTILES, 100))
            print(f"  {label:>9}: {cells}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
