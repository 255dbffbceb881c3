"""Train the perception model on rendered scenes (`scenes.py`). Resumes from its last save."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from cognitivedrone.bounded_json import load_file
from cognitivedrone.reasoning.offline.boards import decode
from cognitivedrone.reasoning.offline.configuration import PerceptionConfig
from cognitivedrone.reasoning.offline.perception import PerceptionNet, load_perception, save_perception
from cognitivedrone.reasoning.offline.scenes import asset_ids
from cognitivedrone.tasks.gates import GATE_COLORS, GATE_SHAPES, GATE_SIZES

KEYS = ("images", "uv", "seen", "scale", "asset", "look")


def load_scenes(files: list[Path]) -> dict[str, np.ndarray]:
    parts = [np.load(f) for f in files]
    return {k: np.concatenate([p[k] for p in parts]) for k in KEYS}


def _batch(data: dict[str, np.ndarray], idx: np.ndarray, rng: np.random.Generator | None) -> dict[str, torch.Tensor]:
    images = data["images"][idx]
    if rng is not None:  # brightness/contrast jitter per image: lighting the renderer did not try
        gain = rng.uniform(0.75, 1.25, (len(idx), 1, 1, 1))
        bias = rng.uniform(-20, 20, (len(idx), 1, 1, 1))
        images = np.clip(images * gain + bias, 0, 255).astype(np.uint8)
    return {"images": torch.from_numpy(images), "uv": torch.from_numpy(data["uv"][idx]),
            "seen": torch.from_numpy(data["seen"][idx]), "scale": torch.from_numpy(data["scale"][idx]),
            "asset": torch.from_numpy(data["asset"][idx].astype(np.int64)),
            "look": torch.from_numpy(data["look"][idx].astype(np.int64))}


@torch.no_grad()
def match_billboards(model: PerceptionNet, data: dict[str, np.ndarray], batch: int = 64):
    """Scenes read by the grid, frame by frame: (frame index, its detections, [(label index k, the
    detection within 1.5 cells of billboard k, or None)] for each billboard fully in view, centre
    inside and not tiny). The held-out figures of the grid and of both readers are counted on this."""
    g = model.config.grid
    was_training = model.training
    model.eval()
    try:
        for s in range(0, len(data["images"]), batch):
            idx = np.arange(s, min(s + batch, len(data["images"])))
            dets = decode({k: v.numpy() for k, v in model(torch.from_numpy(data["images"][idx])).items()}, model.config)
            for j, b in enumerate(idx):
                pairs = []
                for k in range(data["uv"].shape[1]):
                    u, v = data["uv"][b, k]
                    if not (data["seen"][b, k] and abs(u) < 0.9 and abs(v) < 0.9 and data["scale"][b, k] > 0.06):
                        continue
                    near = [d for d in dets[j] if abs(d.u - u) * g / 2 < 1.5 and abs(d.v - v) * g / 2 < 1.5]
                    pairs.append((k, near[0] if near else None))
                yield int(b), dets[j], pairs
    finally:
        model.train(was_training)


def evaluate(model: PerceptionNet, data: dict[str, np.ndarray], batch: int = 64) -> dict[str, float]:
    """On held-out scenes: of the billboards fully in view (centre inside, not tiny), the share
    found within 1.5 cells, and of those the share whose picture and gate looks are right."""
    found = correct = looks_ok = total = false_pos = 0
    for b, dets, pairs in match_billboards(model, data, batch):
        total += len(pairs)
        used = {id(d) for _, d in pairs if d is not None}
        false_pos += len(dets) - len(used)
        for k, d in pairs:
            if d is None:
                continue
            found += 1
            correct += int(d.asset_probs.argmax() == data["asset"][b, k])
            size, shape, colour = data["look"][b, k]
            looks_ok += int((d.size, d.shape, d.color) == (GATE_SIZES[size], GATE_SHAPES[shape], GATE_COLORS[colour]))
    return {"recall": found / max(total, 1), "asset_accuracy": correct / max(found, 1),
            "looks_accuracy": looks_ok / max(found, 1), "false_positives_per_frame": false_pos / len(data["images"]),
            "billboards": total}


def train_perception(scenes: str | Path, out: str | Path, steps: int = 4000, batch: int = 48, lr: float = 2e-3,
                     threads: int = 2, save_every: int = 500, log=print) -> dict:
    from tqdm import tqdm

    torch.set_num_threads(threads)
    files = sorted(Path(scenes).glob("scenes-*.npz"))
    if len(files) < 2:
        raise ValueError(f"{scenes}: need at least 2 scene shards (one is held out), found {len(files)}")
    train_data, held_out = load_scenes(files[:-1]), load_scenes(files[-1:])
    out = Path(out)
    state_file = out / "train_state.json"
    if state_file.is_file():
        model, start = load_perception(out).train(), int(load_file(state_file)["step"])
    else:
        model, start = PerceptionNet(PerceptionConfig(assets=tuple(asset_ids()))), 0
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 200) * 0.5 * (1 + math.cos(math.pi * s / steps)))
    for _ in range(start):
        sched.step()
    rng = np.random.default_rng(start)
    n = len(train_data["images"])
    metrics_file = out / "metrics.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(range(start, steps), initial=start, total=steps, desc="perception")
    t0 = time.time()
    for step in bar:
        loss, m = model.loss(_batch(train_data, rng.integers(0, n, batch), rng))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 50 == 0:
            bar.set_postfix(loss=f"{float(loss):.3f}", acc=f"{m.get('asset_accuracy', 0):.2f}")
            with open(metrics_file, "a") as f:
                f.write(json.dumps({"step": step + 1, "loss": float(loss), **m, "elapsed_s": round(time.time() - t0, 1)}) + "\n")
        if (step + 1) % save_every == 0 or step + 1 == steps:
            save_perception(model, out)
            state_file.write_text(json.dumps({"step": step + 1}))
    result = evaluate(model, held_out)
    (out / "eval.json").write_text(json.dumps(result, indent=1) + "\n")
    log(f"held-out scenes: {result}")
    return result
