"""Build an engine by name; each backend is imported only when asked for, so a drone with
onnxruntime and no torch never imports torch."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from cognitivedrone.resources import resolve_checkpoint
from cognitivedrone.runtime.engine import EngineError, PolicyEngine

EngineName = Literal["torch", "onnxruntime", "tensorrt"]
ENGINE_NAMES: tuple[str, ...] = get_args(EngineName)


def make_engine(name: str, checkpoint: str | Path, threads: int = 1, **options) -> PolicyEngine:
    """Build an engine over a checkpoint directory. Unknown names and missing backends raise
    EngineError saying what to install or run."""
    checkpoint = resolve_checkpoint(checkpoint)
    if name == "torch":
        from cognitivedrone.runtime.torch_engine import TorchEngine

        return TorchEngine(checkpoint, threads=threads, **options)
    if name == "onnxruntime":
        from cognitivedrone.runtime.onnx_engine import OnnxRuntimeEngine

        return OnnxRuntimeEngine(checkpoint, threads=threads, **options)
    if name == "tensorrt":
        from cognitivedrone.runtime.tensorrt_engine import TensorRTEngine

        return TensorRTEngine(checkpoint, threads=threads, **options)
    raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


def export_where_possible(checkpoint: str | Path, log=print) -> None:
    """Where torch and onnx are installed (bench, perf, a workstation), export a checkpoint whose
    ONNX files are missing or stale. On a drone without torch, do nothing: it must be handed an
    exported checkpoint, and the engine says so if it was not."""
    from importlib.util import find_spec

    if all(find_spec(m) for m in ("torch", "onnx")):
        from cognitivedrone.runtime.export import ensure_exported

        ensure_exported(checkpoint, log=log)
