"""`cognitivedrone export CKPT --format onnx`: the policy and its instruction encoder to ONNX.

Writes into the checkpoint directory:
  model.onnx                 PolicyGraph: image uint8 [1, H, W, 3] + embedding float32 [1, D]
                             -> command float32 [1, 4] (physical units, body FLU),
                                not_in_view float32 [1, 1] (no gate in view: graph.py)
  instruction_encoder.onnx   InstructionGraph: input_ids, attention_mask int64 [1, T] -> [1, D]
  tokenizer.json             all-MiniLM-L6-v2's tokenizer, for the `tokenizers` package
Each ONNX file is one file (weights inside), passes onnx.checker, records the sha256 of the
model.safetensors it came from and the export format, and is checked against torch before it
is kept. An ONNX file without that record is treated as stale: refused, or exported again.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cognitivedrone.resources import resolve_checkpoint
from cognitivedrone.runtime.engine import (
    EXPORT_FORMAT,
    EXPORT_FORMAT_KEY,
    INSTRUCTION_ONNX,
    POLICY_ONNX,
    POLICY_OUTPUTS,
    TOKENIZER_JSON,
    EngineError,
    file_sha256,
)
from cognitivedrone.runtime.instruction import MAX_TOKENS_KEY, MIN_TOKENS_KEY
from cognitivedrone.runtime.onnx_session import SOURCE_KEY, open_session

OPSET = 18
PARITY_TOLERANCE = 1e-4


@dataclass
class ExportReport:
    files: list[Path] = field(default_factory=list)
    policy_max_abs_diff: float = float("nan")  # torch vs onnxruntime on random frames
    instruction_max_abs_diff: float = float("nan")
    sizes_mb: dict[str, float] = field(default_factory=dict)


def export_onnx(checkpoint: str | Path, instruction_encoder: bool = True, parity_frames: int = 16,
                log=print) -> ExportReport:
    import torch

    from cognitivedrone.policy.checkpoint import WEIGHTS_NAME, FilmCnnVLA
    from cognitivedrone.policy.graph import MAX_INSTRUCTION_TOKENS, InstructionGraph, PolicyGraph

    checkpoint = resolve_checkpoint(checkpoint)
    vla = FilmCnnVLA.from_pretrained(checkpoint)  # PolicyCheckpointError names a broken file
    cfg = vla.config
    source = file_sha256(checkpoint / WEIGHTS_NAME)
    report = ExportReport()
    meta = {
        SOURCE_KEY: source,
        EXPORT_FORMAT_KEY: EXPORT_FORMAT,
        "cognitivedrone.policy": cfg.type,
        "cognitivedrone.head": cfg.head,
        "cognitivedrone.action": "vx,vy,vz,yaw_rate (m/s, m/s, m/s, rad/s; body FLU)",
    }

    # -- the policy, every frame ---------------------------------------------------------------
    graph = PolicyGraph(vla.model, vla.normalizer).eval()
    rng = np.random.default_rng(0)
    s, d = cfg.image_size, cfg.embed_dim
    image = torch.from_numpy(rng.integers(0, 256, (1, s, s, 3), dtype=np.uint8))
    emb = torch.from_numpy(vla.embed("fly through the red gate").copy()).unsqueeze(0)
    path = checkpoint / POLICY_ONNX
    log(f"exporting the policy ({vla.model.num_parameters():,} parameters, {cfg.head}) -> {path}")
    export_graph(graph, (image, emb), path, ["image", "embedding"], list(POLICY_OUTPUTS), None, meta)
    sess = open_session(path, threads=1, providers=["CPUExecutionProvider"])
    diffs = []
    for _ in range(parity_frames):
        img = rng.integers(0, 256, (1, s, s, 3), dtype=np.uint8)
        e = (rng.standard_normal((1, d)) * float(emb.std())).astype(np.float32)
        with torch.inference_mode():
            refs = [r.numpy() for r in graph(torch.from_numpy(img), torch.from_numpy(e))]
        got = sess.run(list(POLICY_OUTPUTS), {"image": img, "embedding": e})
        diffs.append(max(np.abs(g - r).max() for g, r in zip(got, refs)))
    report.policy_max_abs_diff = float(max(diffs))
    report.files.append(path)
    check_parity(path, report.policy_max_abs_diff, parity_frames, "frames")

    # -- the instruction encoder, once per instruction ------------------------------------------
    if instruction_encoder:
        text = vla.text
        enc_graph = InstructionGraph(text.model, vla.model).eval()
        n = cfg.text_tokens
        ids = text.tokenizer(["fly through the gate with the number equal to 4+3"], padding="max_length",
                             max_length=n, truncation=True, return_tensors="pt")
        path = checkpoint / INSTRUCTION_ONNX
        log(f"exporting the instruction encoder (all-MiniLM-L6-v2 + text head) -> {path}")
        seq = torch.export.Dim("tokens", min=n, max=MAX_INSTRUCTION_TOKENS)
        export_graph(enc_graph, (ids["input_ids"], ids["attention_mask"]), path, ["input_ids", "attention_mask"],
                ["instruction_embedding"], {"input_ids": {1: seq}, "attention_mask": {1: seq}},
                {**meta, MIN_TOKENS_KEY: str(n), MAX_TOKENS_KEY: str(MAX_INSTRUCTION_TOKENS)})
        tok = checkpoint / TOKENIZER_JSON
        shutil.copyfile(text.model_dir / TOKENIZER_JSON, tok)
        report.files += [path, tok]

        from cognitivedrone.runtime.instruction import OnnxInstructionEncoder

        onnx_text = OnnxInstructionEncoder(checkpoint, d)
        probes = ["fly through the gate with the number equal to 4+3", "Fly through the small blue square gate",
                  "pass the gate whose picture is not an animal " * 12, "x"]
        vla.clear_embedding_cache()
        report.instruction_max_abs_diff = float(max(np.abs(onnx_text.embed(p) - vla.embed(p)).max() for p in probes))
        check_parity(path, report.instruction_max_abs_diff, len(probes), "instructions")

    report.sizes_mb = {p.name: round(p.stat().st_size / 1e6, 2) for p in report.files}
    return report


def export_graph(module, args, path: Path, inputs, outputs, dynamic_shapes, meta: dict[str, str]) -> None:
    """torch.onnx.export (dynamo) into a temporary file, checked, then renamed into place."""
    import onnx
    import torch

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        # The exporter narrates every pass on stdout and warns about internals: keep a CLI quiet.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), _quiet_loggers("torch.onnx", "onnxscript"):
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, tmp, input_names=inputs, output_names=outputs, opset_version=OPSET,
                              dynamic_shapes=dynamic_shapes, external_data=False, dynamo=True, optimize=True,
                              verbose=False)
        model = onnx.load(tmp)
        for k, v in meta.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = k, v
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _quiet_loggers(*names: str):
    import logging

    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def check_parity(path: Path, diff: float, n: int, what: str) -> None:
    if not diff <= PARITY_TOLERANCE:
        path.unlink(missing_ok=True)  # never leave a file that computes something else
        raise EngineError(f"{path}: onnxruntime and torch differ by {diff:.2e} over {n} {what} "
                          f"(tolerance {PARITY_TOLERANCE:g}); the export was removed")


def export_is_current(checkpoint: str | Path) -> bool:
    """True when both ONNX files and the tokenizer exist and came from this model.safetensors."""
    checkpoint = resolve_checkpoint(checkpoint)
    weights = checkpoint / "model.safetensors"
    files = [checkpoint / POLICY_ONNX, checkpoint / INSTRUCTION_ONNX]
    if not (checkpoint / TOKENIZER_JSON).is_file() or not all(f.is_file() for f in files):
        return False
    return all(is_current(f, weights) for f in files)


def is_current(onnx_file: Path, weights: Path) -> bool:
    """Whether `onnx_file` records this export format and was exported from `weights` (when they exist)."""
    import onnx

    try:
        props = {p.key: p.value for p in onnx.load(str(onnx_file), load_external_data=False).metadata_props}
    except Exception:
        return False
    if props.get(EXPORT_FORMAT_KEY) != EXPORT_FORMAT or SOURCE_KEY not in props:
        return False  # an older export, or one whose record was stripped
    return not weights.is_file() or props[SOURCE_KEY] == file_sha256(weights)


def ensure_exported(checkpoint: str | Path, log=print) -> None:
    """Export when the ONNX files are missing or stale (for hosts that have torch: bench, perf)."""
    if not export_is_current(checkpoint):
        log(f"{checkpoint}: no current ONNX export, exporting it first")
        report = export_onnx(checkpoint, log=log)
        log(f"exported: parity {report.policy_max_abs_diff:.1e} (policy), {report.instruction_max_abs_diff:.1e} (instructions)")
