"""`cognitivedrone export checkpoints/perception`: the offline reasoner's networks to ONNX.

Writes beside each network's weights: model.onnx (the grid: image uint8 [1, S, S, 3] -> the maps
of configuration.GRID_OUTPUTS), reader.onnx (crops uint8 [K, c, c, 3] -> logits [K, n_assets])
and gate_reader.onnx (crops -> size, shape, colour logits), each with K free. As for the policy
(runtime/export.py): one file each, onnx.checker, the sha256 of the weights it came from, and
checked against torch before it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cognitivedrone.reasoning.offline.configuration import (
    GATE_OUTPUTS,
    GATE_READER_ONNX,
    GATE_READER_WEIGHTS,
    GRID_ONNX,
    GRID_OUTPUTS,
    READER_ONNX,
    READER_WEIGHTS,
    WEIGHTS_NAME,
)
from cognitivedrone.resources import resolve_checkpoint

MAX_BOARDS = 64  # crops per reader call the exports take; a frame shows a handful


@dataclass
class PerceptionExport:
    files: list[Path] = field(default_factory=list)
    max_abs_diff: dict[str, float] = field(default_factory=dict)  # onnxruntime vs torch, per file
    sizes_mb: dict[str, float] = field(default_factory=dict)


def is_perception_folder(folder: Path) -> bool:
    from cognitivedrone.reasoning.offline.configuration import CONFIG_NAME, PerceptionConfig

    try:
        from cognitivedrone.bounded_json import load_file

        return load_file(folder / CONFIG_NAME).get("type") == PerceptionConfig.type
    except (OSError, ValueError, AttributeError):
        return False


def _files(folder: Path) -> list[tuple[Path, Path]]:
    """(onnx file, the weights it comes from) for each network the folder has."""
    pairs = [(GRID_ONNX, WEIGHTS_NAME), (READER_ONNX, READER_WEIGHTS), (GATE_READER_ONNX, GATE_READER_WEIGHTS)]
    return [(folder / o, folder / w) for o, w in pairs if (folder / w).is_file()]


def perception_export_is_current(folder: str | Path) -> bool:
    from cognitivedrone.runtime.export import is_current

    folder = resolve_checkpoint(folder)
    return all(o.is_file() and is_current(o, w) for o, w in _files(folder))


def ensure_perception_exported(folder: str | Path, log=print) -> None:
    if not perception_export_is_current(folder):
        log(f"{folder}: no current ONNX export of the perception networks, exporting it first")
        rep = export_perception(folder, log=log)
        log("exported: parity " + ", ".join(f"{k} {v:.1e}" for k, v in rep.max_abs_diff.items()))


def export_perception(folder: str | Path, parity_inputs: int = 8, log=print) -> PerceptionExport:
    import torch

    from cognitivedrone.reasoning.offline.gate_reader import has_gate_reader, load_gate_reader
    from cognitivedrone.reasoning.offline.perception import OutputsAsTuple, load_perception
    from cognitivedrone.reasoning.offline.reader import has_reader, load_reader
    from cognitivedrone.runtime.engine import EXPORT_FORMAT, EXPORT_FORMAT_KEY, file_sha256
    from cognitivedrone.runtime.export import check_parity, export_graph
    from cognitivedrone.runtime.onnx_session import SOURCE_KEY, open_session

    folder = resolve_checkpoint(folder)
    rep = PerceptionExport()
    rng = np.random.default_rng(0)

    def one(net, outputs: tuple[str, ...], example: np.ndarray, name: str, weights: str, batch_free: bool):
        """Export `net` (wrapped to return a tuple in `outputs` order) and check it on random inputs."""
        graph = OutputsAsTuple(net, outputs).eval()
        input_name = "crops" if batch_free else "image"
        path = folder / name
        meta = {SOURCE_KEY: file_sha256(folder / weights), EXPORT_FORMAT_KEY: EXPORT_FORMAT,
                "cognitivedrone.network": net.config.type}
        dims = {"images": {0: torch.export.Dim("boards", min=1, max=MAX_BOARDS)}} if batch_free else None
        log(f"exporting the {net.config.type} ({sum(p.numel() for p in net.parameters()):,} parameters) -> {path}")
        export_graph(graph, (torch.from_numpy(example),), path, [input_name], list(outputs), dims, meta)
        sess = open_session(path, threads=1, providers=["CPUExecutionProvider"])
        diff = 0.0
        for k in range(parity_inputs):
            x = rng.integers(0, 256, ((1 + k % 5) if batch_free else 1, *example.shape[1:]), dtype=np.uint8)
            with torch.inference_mode():
                refs = [r.numpy() for r in graph(torch.from_numpy(x))]
            got = sess.run(list(outputs), {input_name: x})
            diff = max(diff, *(float(np.abs(g - r).max()) for g, r in zip(got, refs)))
        check_parity(path, diff, parity_inputs, "inputs")
        rep.files.append(path)
        rep.max_abs_diff[name] = diff

    grid = load_perception(folder)
    s = grid.config.image_size
    one(grid, GRID_OUTPUTS, rng.integers(0, 256, (1, s, s, 3), dtype=np.uint8), GRID_ONNX, WEIGHTS_NAME, False)
    if has_reader(folder):
        reader = load_reader(folder)
        c = reader.config.crop
        one(reader, ("logits",), rng.integers(0, 256, (3, c, c, 3), dtype=np.uint8), READER_ONNX, READER_WEIGHTS, True)
    if has_gate_reader(folder):
        gates = load_gate_reader(folder)
        c = gates.config.crop
        one(gates, GATE_OUTPUTS, rng.integers(0, 256, (3, c, c, 3), dtype=np.uint8), GATE_READER_ONNX,
            GATE_READER_WEIGHTS, True)
    rep.sizes_mb = {p.name: round(p.stat().st_size / 1e6, 2) for p in rep.files}
    return rep
