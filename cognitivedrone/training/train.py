"""`cognitivedrone train`: fit the VLA to demonstrations.

Single process, or data-parallel under torchrun (gloo on CPU, nccl on GPU; multi-node by
torchrun's rendezvous). Every `save_every` steps the run writes a checkpoint it can resume from
(`OUT/checkpoints/step_NNNNNN/`: the policy as safetensors + JSON, and the optimiser state);
starting the same command again continues from the newest one. Metrics go to
`OUT/metrics.jsonl`, one JSON object per line; the final policy is written to OUT itself, so
`cognitivedrone bench --policy OUT` flies it.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from cognitivedrone.bounded_json import load_file
from cognitivedrone.policy.checkpoint import FilmCnnVLA
from cognitivedrone.policy.filmcnn.configuration import FilmCnnConfig
from cognitivedrone.policy.filmcnn.modeling import FilmCnnPolicy
from cognitivedrone.policy.filmcnn.processing import ActionNormalizer
from cognitivedrone.policy.text_encoder import TextEncoder
from cognitivedrone.training.config import TrainConfig
from cognitivedrone.training.data import TextTable, TrainingData, build_text_table

STATE_FILE = "training_state.pt"


class _LossModule(torch.nn.Module):
    """DDP synchronises gradients of what runs through its forward: route the loss through one."""

    def __init__(self, policy: FilmCnnPolicy):
        super().__init__()
        self.policy = policy

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        return self.policy.loss(batch)


def _dist_env() -> tuple[int, int, bool]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world, world > 1


def _lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def _latest_checkpoint(out: Path) -> Path | None:
    steps = sorted(p for p in (out / "checkpoints").glob("step_*") if (p / STATE_FILE).exists())
    return steps[-1] if steps else None


def _check_out(out: Path) -> None:
    """--out is a folder we can write in, or can be made: checked before any work, by making
    (and removing) a probe folder in it or in its nearest existing parent."""
    base = out
    try:
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} exists and is not a folder")
        while not base.exists():
            base = base.parent
        if not base.is_dir():
            raise ValueError(f"--out {out} is under {base}, which is a file, not a folder")
        os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=base))
    except OSError as e:
        raise ValueError(f"--out {out}: cannot make folders in {base} ({e.strerror or e})") from None


def _claim(out: Path, cfg: TrainConfig) -> None:
    """Make the run folder and record what it trains: only once everything has loaded, so a
    run that fails early leaves nothing a later resume could mistake for its own."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / "train_config.json.tmp"
        tmp.write_text(json.dumps(cfg.to_dict(), indent=1))
        tmp.replace(out / "train_config.json")
    except OSError as e:
        raise ValueError(f"--out {out}: cannot write there ({e.strerror or e})") from None


def _check_resumable(out: Path, cfg: TrainConfig) -> None:
    saved_file = out / "train_config.json"
    if not saved_file.exists():
        return
    try:
        saved = TrainConfig.from_dict(load_file(saved_file))
    except (TypeError, ValueError) as e:  # JsonInputError (names the file), or not a config
        raise ValueError(str(e) if str(saved_file) in str(e) else f"{saved_file}: not a training config ({e})") from None
    diff = [k for k, v in cfg.to_dict().items()
            if k not in TrainConfig.RESUMABLE_CHANGES and getattr(saved, k) != v]
    if diff:
        raise ValueError(f"{out} holds a run with other settings ({', '.join(f'{k}: {getattr(saved, k)!r} -> {getattr(cfg, k)!r}' for k in diff)}); "
                         "use a new --out, or the same settings to resume")


def _save(vla: FilmCnnVLA, opt, step: int, rng: np.random.Generator, ckpt: Path) -> None:
    vla.save_pretrained(ckpt)
    tmp = ckpt / (STATE_FILE + ".tmp")
    torch.save({"optimizer": opt.state_dict(), "step": step}, tmp)
    (ckpt / "rng.json").write_text(json.dumps(rng.bit_generator.state))
    tmp.replace(ckpt / STATE_FILE)  # last: a checkpoint without it is never resumed from


def _log(out: Path, record: dict) -> None:
    with open(out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def evaluate(ckpt: Path, suite: str, workers: int, prompt: str = "original") -> dict:
    """Fly a suite with the checkpoint, exactly as `cognitivedrone bench` does."""
    from cognitivedrone.bench.report import summarize
    from cognitivedrone.bench.runner import BenchConfig, run_suite
    from cognitivedrone.tasks.suite import load_suite

    s = load_suite(suite)
    results, _, wall = run_suite(s, BenchConfig(policy=str(ckpt), prompt=prompt, workers=workers), progress=False)
    summary = summarize(results, suite=s.name, policy=str(ckpt), reasoner=None, engine=None, prompt=prompt, wall_s=wall)
    return {"suite": s.name, "prompt": prompt, "success_rate": summary["success_rate"],
            "by_category": {k: v["success_rate"] for k, v in summary["by_category"].items()}}


def train(cfg: TrainConfig, progress: bool = True) -> Path:
    cfg.validate()
    rank, world, distributed = _dist_env()
    if distributed:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    main = rank == 0
    if main:
        _check_out(out)
        _check_resumable(out, cfg)

    # Model: from a checkpoint (fine-tuning keeps its architecture and normaliser) or new.
    if cfg.init:
        init = FilmCnnVLA.from_pretrained(cfg.init)
        pcfg, model, normalizer = init.config, init.model, init.normalizer
    else:
        pcfg = FilmCnnConfig(head=cfg.head, chunk_size=cfg.chunk_size)
        model, normalizer = None, None
    data = TrainingData(cfg.data, chunk_size=max(pcfg.chunk_size, 1), families=cfg.families,
                        only_successful=cfg.only_successful, early_boost=cfg.early_boost,
                        pointer_grid=pcfg.pointer_map_size, hindsight_pointer=cfg.hindsight_pointer,
                        paraphrases=cfg.paraphrases_per_prompt if cfg.paraphrase_prob > 0 else 0,
                        paraphrase_seed=cfg.seed)
    if normalizer is None:
        try:
            normalizer = ActionNormalizer.from_data(data.actions)
        except ValueError as e:
            raise ValueError(f"{cfg.data}: its actions give no usable normalisation: {e}") from None
    torch.manual_seed(cfg.seed)
    if model is None:
        model = FilmCnnPolicy(pcfg)
    model.train()
    encoder = TextEncoder(max_tokens=pcfg.text_tokens)
    text: TextTable = build_text_table(data.texts, encoder)
    encoder.clear_cache()  # its float32 cache is twice the float16 table, and not needed again
    if not cfg.init:  # a fine-tuned model keeps the centering its text head was trained with
        valid = text.mask.unsqueeze(-1).float()
        token_mean = (text.tokens.float() * valid).sum(dim=(0, 1)) / valid.sum().clamp_min(1.0)
        model.text.set_centering(token_mean, text.pooled.mean(dim=0))
    vla = FilmCnnVLA(pcfg, normalizer, model=model, text_encoder=encoder)
    model.train()  # FilmCnnVLA puts its model in eval mode; training needs BatchNorm's batch statistics

    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng([cfg.seed, rank])
    start = 0
    resume = _latest_checkpoint(out)
    if resume is not None:
        vla_r = FilmCnnVLA.from_pretrained(resume, text_encoder=encoder)
        model.load_state_dict(vla_r.model.state_dict())
        state = torch.load(resume / STATE_FILE, weights_only=True)
        opt.load_state_dict(state["optimizer"])
        start = int(state["step"])
        rng_file = resume / "rng.json"
        if rng_file.exists() and world == 1:
            try:
                rng.bit_generator.state = load_file(rng_file)
            except (TypeError, KeyError, ValueError) as e:
                raise ValueError(f"{rng_file}: not a random generator state ({e})") from None
        if main:
            print(f"resuming from {resume} at step {start}")
    if main:
        _claim(out, cfg)
    net = _LossModule(model)
    if distributed:
        net = torch.nn.parallel.DistributedDataParallel(net)
    if main:
        print(f"training {pcfg.type}/{pcfg.head} ({model.num_parameters() / 1e6:.2f} M parameters) on {len(data)} frames of "
              f"{data.episodes} episodes, {len(data.texts)} instructions; {cfg.steps} steps x {cfg.batch_size} x {world} process(es)")
        if line := data.flights_line():
            print(line)

    bar = tqdm(total=cfg.steps, initial=start, disable=not (progress and main), unit="step", dynamic_ncols=True)
    t_last, n_last = time.perf_counter(), 0
    step = start
    while step < cfg.steps:
        lr = _lr_at(step, cfg)
        for g in opt.param_groups:
            g["lr"] = lr
        b = data.batch(rng, cfg.batch_size, normalizer, cfg.simple_prompt_prob, cfg.augment,
                       paraphrase_prob=cfg.paraphrase_prob)
        rows = b.pop("text_rows")
        b["text_tokens"] = text.tokens[rows].float()
        b["text_mask"] = text.mask[rows]
        b["text_pooled"] = text.pooled[rows]
        loss, metrics = net(b)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {float(loss)} at step {step}; lower --lr or check the data")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        n_last += cfg.batch_size * world
        bar.update(1)
        if main and (step % cfg.log_every == 0 or step == cfg.steps):
            now = time.perf_counter()
            rate = n_last / (now - t_last)
            t_last, n_last = now, 0
            record = {"step": step, "lr": lr, "samples_per_s": round(rate, 1), **metrics}
            _log(out, record)
            bar.set_postfix(loss=f"{metrics['loss']:.4f}", sps=f"{rate:.0f}")
        periodic_eval = cfg.eval_every > 0 and step % cfg.eval_every == 0 and step < cfg.steps
        if step % cfg.save_every == 0 or step == cfg.steps or periodic_eval:
            if main:
                model.eval()
                ckpt = out / "checkpoints" / f"step_{step:06d}"
                _save(vla, opt, step, rng, ckpt)
                if periodic_eval:
                    ev = evaluate(ckpt, cfg.eval_suite, cfg.eval_workers)
                    _log(out, {"step": step, "eval": ev})
                    bar.write(f"step {step}: {ev['suite']} success {ev['success_rate']:.1%} {ev['by_category']}")
                model.train()
            if distributed:
                dist.barrier()
    bar.close()
    if main:
        model.eval()
        vla.save_pretrained(out)
        if cfg.eval_suite and cfg.eval_every >= 0:
            ev = evaluate(out, cfg.eval_suite, cfg.eval_workers)
            _log(out, {"step": step, "eval": ev, "final": True})
            print(f"final: {ev['suite']} success {ev['success_rate']:.1%} {ev['by_category']}")
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return out
