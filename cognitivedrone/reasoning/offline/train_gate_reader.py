"""Train the gate reader (gate_reader.py) on gate crops cut from rendered scenes; resumes from its
last save (the weights and the step; the optimiser starts afresh, with the schedule where it was).

Crops are cut around each labelled billboard with the errors the grid makes in its centre and
size, then lit, tinted and noised on the fly: exposure, white balance and gamma the scenes' looks
did not try (a gate a person calls red stays red under them).

Held out: the last scene shard, read end to end as the reasoner reads it (the grid finds the
billboards, the gate reader reads the crops under them), with the grid's own guesses beside it
and how often an answer above each confidence is right: the reasoner names a gate's size only
at or above `SIZE_NAMED_ABOVE` (reasoner.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cognitivedrone.reasoning.offline.boards import crop_gates
from cognitivedrone.reasoning.offline.configuration import ATTRIBUTES, GATE_READER_WEIGHTS, GateReaderConfig
from cognitivedrone.reasoning.offline.gate_reader import GateReaderNet, load_gate_reader, save_gate_reader
from cognitivedrone.reasoning.offline.perception import load_perception
from cognitivedrone.reasoning.offline.reader_data import load_scene_files
from cognitivedrone.reasoning.offline.train_perception import (
    load_scenes,
    match_billboards,
)
from cognitivedrone.reasoning.offline.train_reader import (
    log_and_save,
    resume_training,
    scene_crop_cache,
)

STATE = "gate_reader_state.json"
CONFIDENCE_LEVELS = (0.5, 0.7, 0.8, 0.9, 0.95)


def light_jitter(crops: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """uint8 [B, S, S, 3] -> the same crops under another exposure, white balance, gamma and noise."""
    n = crops.shape[0]

    def u(lo, hi, *shape):
        return lo + (hi - lo) * torch.rand(n, *shape, generator=g)

    x = crops.float() * u(0.6, 1.3, 1, 1, 1) * u(0.85, 1.15, 1, 1, 3) + u(-25, 25, 1, 1, 1)
    x = 255 * (x.clamp(0, 255) / 255) ** u(0.75, 1.35, 1, 1, 1)
    x = x + torch.randn(x.shape, generator=g) * u(0, 8, 1, 1, 1)
    return x.clamp(0, 255).round().to(torch.uint8)


@torch.no_grad()
def evaluate_gate_reader(model: GateReaderNet, perception, data: dict[str, np.ndarray]) -> dict:
    """On held-out scenes, of the billboards fully in view that the grid finds (within 1.5 cells):
    per attribute, the share the grid names right, the share the gate reader names right, and for
    each confidence level the share of answers at or above it and how many of those are right."""
    model.eval()
    grid_ok, reader_ok, conf = [], [], []
    for b, _, pairs in match_billboards(perception, data, 32):
        for k, d in pairs:
            if d is None:
                continue
            truth = data["look"][b, k]
            grid_ok.append([getattr(d, name) == values[truth[i]] for i, (name, values) in enumerate(ATTRIBUTES)])
            crop = crop_gates(data["images"][b], np.array([[d.u, d.v]]), np.array([d.scale]), model.config)
            probs = [torch.softmax(x, -1)[0].numpy() for x in model(torch.from_numpy(crop))]
            reader_ok.append([int(p.argmax()) == truth[i] for i, p in enumerate(probs)])
            conf.append([float(p.max()) for p in probs])
    model.train()
    grid_ok, reader_ok, conf = (np.asarray(a, float).reshape(-1, len(ATTRIBUTES)) for a in (grid_ok, reader_ok, conf))
    result = {"billboards": len(reader_ok)}
    for i, (name, _) in enumerate(ATTRIBUTES):
        result[f"grid_{name}_accuracy"] = float(grid_ok[:, i].mean()) if len(grid_ok) else 0.0
        result[f"reader_{name}_accuracy"] = float(reader_ok[:, i].mean()) if len(reader_ok) else 0.0
        result[f"{name}_by_confidence"] = {
            str(c): {"share": float((conf[:, i] >= c).mean()) if len(conf) else 0.0,
                     "accuracy": float(reader_ok[conf[:, i] >= c, i].mean()) if (conf[:, i] >= c).any() else 0.0}
            for c in CONFIDENCE_LEVELS}
    return result


def train_gate_reader(scenes: str | Path, perception: str | Path, out: str | Path, steps: int = 3000, batch: int = 256,
                      lr: float = 2e-3, seed: int = 0, threads: int = 2, save_every: int = 500, log=print) -> dict:
    from tqdm import tqdm

    torch.set_num_threads(threads)
    files = load_scene_files(scenes)
    grid = load_perception(perception)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = GateReaderConfig()

    def cut(image, uv, width):
        return crop_gates(image, uv, width, config)

    crops = scene_crop_cache(out / "gate_crops.npz", files, cut, "look", seed, "gate crops")
    log(f"gate crops: {len(crops['labels'])} from {len(files) - 1} shards (2 cuts per billboard)")
    model, opt, sched, start = resume_training(out, STATE, GATE_READER_WEIGHTS, load_gate_reader,
                                               lambda: GateReaderNet(config), lr, steps)
    rng = np.random.default_rng([seed, 4, start])
    gen = torch.Generator().manual_seed(seed * 100_003 + start + 7)
    bar = tqdm(range(start, steps), initial=start, total=steps, desc="gate reader")
    t0 = time.time()
    for step in bar:
        pick = rng.integers(0, len(crops["labels"]), batch)
        x = light_jitter(torch.from_numpy(crops["images"][pick]), gen)
        y = torch.from_numpy(crops["labels"][pick])
        if rng.random() < 0.5:  # mirrored, a gate is the same gate (no picture here to turn into another)
            x = torch.flip(x, dims=(2,))
        logits = model(x)
        loss = sum(F.cross_entropy(lg, y[:, i], label_smoothing=0.02) for i, lg in enumerate(logits))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        metrics = None
        if (step + 1) % 50 == 0:
            accs = [float((lg.argmax(-1) == y[:, i]).float().mean()) for i, lg in enumerate(logits)]
            bar.set_postfix(loss=f"{float(loss):.3f}", acc="/".join(f"{a:.2f}" for a in accs))
            metrics = {"loss": float(loss), **{f"{name}_accuracy": a for (name, _), a in zip(ATTRIBUTES, accs)}}
        log_and_save(out, step + 1, steps, save_every, "gate_reader_metrics.jsonl", metrics,
                     lambda: save_gate_reader(model, out), STATE, t0)
    result = evaluate_gate_reader(model, grid, load_scenes(files[-1:]))
    (out / "gate_reader_eval.json").write_text(json.dumps(result, indent=1) + "\n")
    log(f"held-out scenes: {json.dumps(result)}")
    return result
