"""Train the billboard reader (reader.py) on scene crops and synthetic crops; resumes from its
last save (the weights and the step; the optimiser starts afresh, with the schedule where it was).

Held out: the last scene shard, read end to end as the reasoner reads it: the perception grid
finds the billboards, the reader names each from the grid's own centre and size.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cognitivedrone.bounded_json import load_file
from cognitivedrone.reasoning.offline.boards import crop_boards
from cognitivedrone.reasoning.offline.configuration import READER_WEIGHTS, ReaderConfig
from cognitivedrone.reasoning.offline.perception import load_perception
from cognitivedrone.reasoning.offline.reader import ReaderNet, load_reader, save_reader
from cognitivedrone.reasoning.offline.reader_data import (
    TEXTURE_PX,
    VALIDATION_ART,
    load_scene_files,
    scene_crops,
    synthetic_crops,
    texture_pool,
)
from cognitivedrone.reasoning.offline.train_perception import (
    load_scenes,
    match_billboards,
)

STATE = "reader_state.json"


def cached_arrays(path: Path, make) -> dict[str, np.ndarray]:
    if path.is_file():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    arrays = make()
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return arrays


def scene_crop_cache(path: Path, files: list[Path], cut, label: str, seed: int, desc: str) -> dict[str, np.ndarray]:
    """Two cuts of every billboard in the training shards (all but the last), cached in `path`."""
    from tqdm import tqdm

    def make():
        rng = np.random.default_rng([seed, 1 if label == "asset" else 3])
        parts = [scene_crops(load_scenes([f]), 2, rng, cut, label=label) for f in tqdm(files[:-1], desc=desc, unit="shard")]
        return {"images": np.concatenate([p[0] for p in parts]), "labels": np.concatenate([p[1] for p in parts])}

    return cached_arrays(path, make)


def resume_training(out: Path, state_name: str, weights_name: str, load, fresh, lr: float, steps: int):
    """(model, optimiser, schedule, step): the last save in `out` and its step, else `fresh()` at 0;
    AdamW with a 200-step warm-up and a cosine decay, the schedule moved on to the step."""
    state = out / state_name
    if state.is_file() and (out / weights_name).is_file():
        model, start = load(out).train(), int(load_file(state)["step"])
    else:
        model, start = fresh(), 0
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    for group in opt.param_groups:  # what a schedule made at a later step needs
        group.setdefault("initial_lr", lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 200) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)), last_epoch=start - 1)
    return model, opt, sched, start


def log_and_save(out: Path, step: int, steps: int, save_every: int, metrics_name: str, metrics: dict | None,
                 save, state_name: str, t0: float) -> None:
    """After training step `step` (counted from 1): `metrics` (when given) as a line of
    out/metrics_name; every `save_every` steps and at the last, the weights (`save()`) and the step."""
    if metrics is not None:
        with open(out / metrics_name, "a") as f:
            f.write(json.dumps({"step": step, **metrics, "elapsed_s": round(time.time() - t0, 1)}) + "\n")
    if step % save_every == 0 or step == steps:
        save()
        (out / state_name).write_text(json.dumps({"step": step}))


@torch.no_grad()
def evaluate_reader(reader: ReaderNet, perception, data: dict[str, np.ndarray]) -> dict:
    """On held-out scenes, of the billboards fully in view that the grid finds (within 1.5 cells):
    the share whose picture the grid names right, and the share the reader names right."""
    reader.eval()
    total = grid_ok = reader_ok = 0
    for b, _, pairs in match_billboards(perception, data, 32):
        for k, d in pairs:
            if d is None:
                continue
            total += 1
            grid_ok += int(d.asset_probs.argmax() == data["asset"][b, k])
            crop = crop_boards(data["images"][b], np.array([[d.u, d.v]]), np.array([d.scale]), reader.config.crop,
                               reader.config.margin)
            reader_ok += int(reader(torch.from_numpy(crop)).argmax() == data["asset"][b, k])
    reader.train()
    return {"billboards": total, "grid_asset_accuracy": grid_ok / max(total, 1),
            "reader_asset_accuracy": reader_ok / max(total, 1)}


@torch.no_grad()
def unseen_art_accuracy(reader: ReaderNet, art: str = VALIDATION_ART, copies: int = 4, seed: int = 123) -> dict:
    """The share of `art`'s pictures (not digits or letters: fonts print those) the reader names
    right from synthetic crops: how well it reads an art set no training run printed."""
    from cognitivedrone.sim.scene import style_for
    from cognitivedrone.tasks.assets import TextureStyle, art_styles_for, render_texture

    assets = reader.config.assets
    idx = [i for i, a in enumerate(assets) if not a.startswith(("digit:", "letter:")) and art in art_styles_for(a)]
    if not idx:
        return {"art": art, "pictures": 0, "accuracy": None}
    tex = torch.from_numpy(np.stack([render_texture(assets[i], TEXTURE_PX, style_for(TextureStyle(art=art), assets[i]))
                                     for i in idx]))
    labels, g, ok = torch.tensor(idx), torch.Generator().manual_seed(seed), 0
    was_training = reader.training
    reader.eval()
    for _ in range(copies):
        ok += int((reader(synthetic_crops(tex, reader.config.crop, g)).argmax(-1) == labels).sum())
    reader.train(was_training)
    return {"art": art, "pictures": len(idx), "accuracy": ok / (copies * len(idx))}


def train_reader(scenes: str | Path, perception: str | Path, out: str | Path, steps: int = 6000, batch: int = 256,
                 lr: float = 2e-3, styles_per_asset: int = 24, synthetic_share: float = 0.5, seed: int = 0,
                 threads: int = 2, save_every: int = 500, extra_art_share: float = 0.0, restyle_p: float = 0.0,
                 init: str | Path | None = None, stem_stride: int | None = None, log=print) -> dict:
    """`init`: a reader to start from (its pictures must be the perception model's) instead of
    fresh weights; `restyle_p`: the share of synthetic crops restyled (reader_data.restyle);
    `stem_stride`: the first block's stride (None: `init`'s, else ReaderConfig's). The weights do
    not depend on it, so a reader trained at stride 2 can go on at 1, reading at full size."""
    from tqdm import tqdm

    torch.set_num_threads(threads)
    files = load_scene_files(scenes)
    grid = load_perception(perception)
    assets = grid.config.assets
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    def make_pool():
        return dict(zip(("images", "labels"), texture_pool(assets, styles_per_asset, seed, extra_art_share=extra_art_share)))

    # A pool with reader-only art is another pool: it is cached apart.
    pool = cached_arrays(out / ("textures.npz" if not extra_art_share else f"textures-extra{extra_art_share:g}.npz"), make_pool)
    log(f"texture pool: {len(pool['labels'])} billboards ({styles_per_asset} randomized styles and the classic one per picture)")

    def cut(image, uv, width):
        return crop_boards(image, uv, width, ReaderConfig.crop)

    crops = scene_crop_cache(out / "scene_crops.npz", files, cut, "asset", seed, "scene crops")
    log(f"scene crops: {len(crops['labels'])} from {len(files) - 1} shards (2 cuts per billboard)")
    def fresh() -> ReaderNet:
        model = ReaderNet(ReaderConfig(assets=tuple(assets))) if init is None else load_reader(init).train()
        if model.config.assets != tuple(assets):
            raise ValueError(f"{init}: the reader's pictures are not the perception model's; it cannot start from it")
        if stem_stride and stem_stride != model.config.stem_stride:
            restrided = ReaderNet(replace(model.config, stem_stride=stem_stride)).train()
            restrided.load_state_dict(model.state_dict())
            return restrided
        return model

    model, opt, sched, start = resume_training(out, STATE, READER_WEIGHTS, load_reader, fresh, lr, steps)
    rng = np.random.default_rng([seed, 2, start])
    gen = torch.Generator().manual_seed(seed * 100_003 + start)
    textures, tex_labels = torch.from_numpy(pool["images"]), torch.from_numpy(pool["labels"])
    n_syn = int(round(batch * synthetic_share))
    bar = tqdm(range(start, steps), initial=start, total=steps, desc="reader")
    t0 = time.time()
    for step in bar:
        pick = rng.integers(0, len(crops["labels"]), batch - n_syn)
        tpick = torch.from_numpy(rng.integers(0, len(tex_labels), n_syn))
        x = torch.cat([torch.from_numpy(crops["images"][pick]), synthetic_crops(textures[tpick], model.config.crop, gen,
                                                                                  restyle_p=restyle_p)])
        y = torch.cat([torch.from_numpy(crops["labels"][pick]), tex_labels[tpick]])
        if rng.random() < 0.5:  # a few pixels off (never mirrored: a mirrored 7 or flag is another picture)
            x = torch.roll(x, shifts=(int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), dims=(1, 2))
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        metrics = None
        if (step + 1) % 50 == 0:
            metrics = {"loss": float(loss), "accuracy": float((logits.argmax(-1) == y).float().mean())}
            bar.set_postfix(loss=f"{metrics['loss']:.3f}", acc=f"{metrics['accuracy']:.2f}")
        log_and_save(out, step + 1, steps, save_every, "reader_metrics.jsonl", metrics, lambda: save_reader(model, out),
                     STATE, t0)
    result = evaluate_reader(model, grid, load_scenes(files[-1:]))
    result["unseen_art"] = unseen_art_accuracy(model)
    (out / "reader_eval.json").write_text(json.dumps(result, indent=1) + "\n")
    log(f"held-out scenes: {result}")
    return result
