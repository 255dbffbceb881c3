"""Opening ONNX files with onnxruntime, with errors that name the file and the fix."""

from __future__ import annotations

from pathlib import Path

from cognitivedrone.runtime.engine import EXPORT_FORMAT, EXPORT_FORMAT_KEY, EXPORT_HINT, EngineError, file_sha256

ORT_HINT = "pip install onnxruntime  (or: pip install -e '.[drone]'; on a Jetson the onnxruntime-gpu wheel from the Jetson Zoo)"
# Metadata key holding the sha256 of the model.safetensors an ONNX file was exported from.
SOURCE_KEY = "cognitivedrone.source_sha256"


def import_ort():
    try:
        import onnxruntime
    except ImportError:
        raise EngineError(f"the onnxruntime engine needs onnxruntime: {ORT_HINT}") from None
    return onnxruntime


def default_providers() -> list[str]:
    """The fastest execution providers this onnxruntime build has, CPU always last."""
    ort = import_ort()
    have = ort.get_available_providers()
    return [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in have] + ["CPUExecutionProvider"]


def open_session(path: Path, threads: int, providers: list[str] | None = None):
    ort = import_ort()
    ckpt = path.parent
    if not path.is_file():
        raise EngineError(f"{path}: missing; {EXPORT_HINT.format(ckpt=ckpt)}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # errors only: the provider fallback warnings are noise on a CPU
    try:
        return ort.InferenceSession(str(path), opts, providers=providers or default_providers())
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf/... types
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"{path}: not a usable ONNX model (truncated or corrupt?): {first}; "
                          f"{EXPORT_HINT.format(ckpt=ckpt)}") from None


def check_source(session, path: Path, weights_name: str = "model.safetensors") -> None:
    """Refuse an ONNX file exported from other weights than the `weights_name` beside it
    (a re-trained checkpoint whose export was not redone), or in an older export format. An
    export that does not say where it came from is refused too: stripped metadata must not
    let a stale file fly."""
    weights = path.parent / weights_name
    meta = session.get_modelmeta().custom_metadata_map
    exported_from = meta.get(SOURCE_KEY)
    if not exported_from or meta.get(EXPORT_FORMAT_KEY) != EXPORT_FORMAT:
        raise EngineError(f"{path} does not record the weights and export format it came from (an older or "
                          f"altered export); {EXPORT_HINT.format(ckpt=path.parent)}")
    if weights.is_file() and file_sha256(weights) != exported_from:
        raise EngineError(f"{path} was exported from another {weights_name} than the one beside it (stale export); "
                          f"{EXPORT_HINT.format(ckpt=path.parent)}")


def check_io(session, path: Path, inputs: dict[str, tuple[str, tuple]], outputs: dict[str, tuple]) -> None:
    """inputs: name -> (onnx type string, shape); a symbolic dimension in the file matches None."""
    got_in = {i.name: i for i in session.get_inputs()}
    for name, (dtype, shape) in inputs.items():
        i = got_in.get(name)
        if i is None:
            raise EngineError(f"{path}: no input named {name!r} (inputs: {', '.join(got_in) or 'none'}); "
                              f"{EXPORT_HINT.format(ckpt=path.parent)}")
        if i.type != dtype or not _shape_matches(i.shape, shape):
            raise EngineError(f"{path}: input {name!r} is {i.type} {list(i.shape)}, this engine needs {dtype} "
                              f"{list(shape)}; {EXPORT_HINT.format(ckpt=path.parent)}")
    got_out = {o.name: o for o in session.get_outputs()}
    for name, shape in outputs.items():
        o = got_out.get(name)
        if o is None or not _shape_matches(o.shape, shape):
            have = f"{list(o.shape)}" if o is not None else "missing"
            raise EngineError(f"{path}: output {name!r} is {have}, expected {list(shape)}; "
                              f"{EXPORT_HINT.format(ckpt=path.parent)}")


def _shape_matches(have, want) -> bool:
    if len(have) != len(want):
        return False
    return all(w is None or h == w for h, w in zip(have, want))
