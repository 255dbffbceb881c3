"""TensorRT engine: model.onnx built into a TensorRT plan with the TensorRT 10 Python API.

Plans are not portable between GPUs or TensorRT versions, so a built plan is cached under a name
holding the ONNX file's hash, the GPU's name, the TensorRT version and the precision, and is
rebuilt when any of them changes. Device memory and the stream come from cuda-python, so no
torch is needed on the drone. `trtexec_command()` gives the equivalent command line.

TensorRT cannot be installed on our development machines (docs/design.md, Interfaces): this module is written to
NVIDIA's documented API and its tests run wherever `import tensorrt` works (a Jetson, a GPU box).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from cognitivedrone.runtime.engine import EXPORT_HINT, POLICY_ONNX, EngineError, PolicyEngine, file_sha256
from cognitivedrone.runtime.instruction import OnnxInstructionEncoder, read_export_info

TRT_HINT = ("TensorRT is not installed: on x86_64 with CUDA 12, `pip install tensorrt-cu12 cuda-python` "
            "(wheels from NVIDIA's index, pypi.nvidia.com); on a Jetson it comes with JetPack "
            "(`sudo apt install python3-libnvinfer`, then `pip install cuda-python`)")
CACHE_ENV = "COGNITIVEDRONE_CACHE"
WORKSPACE_MB = 256


def import_tensorrt():
    try:
        import tensorrt as trt
    except ImportError:
        raise EngineError(TRT_HINT) from None
    return trt


def _cudart():
    try:
        from cuda.bindings import runtime as cudart  # cuda-python >= 12.6
    except ImportError:
        try:
            from cuda import cudart  # older cuda-python
        except ImportError:
            raise EngineError("the tensorrt engine needs cuda-python for device memory: pip install cuda-python") from None
    return cudart


def _check(result):
    """cuda-python returns (error, *values): raise on error, return the values."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        raise EngineError(f"CUDA call failed: {err}")
    return values[0] if len(values) == 1 else tuple(values)


def trtexec_command(checkpoint: Path, fp16: bool = True, int8: bool = False) -> str:
    ckpt = Path(checkpoint)
    flags = " --fp16" * fp16 + " --int8" * int8
    return (f"trtexec --onnx={ckpt / POLICY_ONNX} --saveEngine={ckpt / 'model.plan'}{flags} "
            f"--memPoolSize=workspace:{WORKSPACE_MB}M")


class TensorRTEngine(PolicyEngine):
    name = "tensorrt"

    def __init__(self, checkpoint: Path, threads: int = 1, fp16: bool = True, int8: bool = False,
                 calibration: tuple[np.ndarray, np.ndarray] | None = None, cache_dir: str | Path | None = None):
        trt = self.trt = import_tensorrt()
        cudart = self.cudart = _cudart()
        checkpoint = Path(checkpoint)
        info = read_export_info(checkpoint)
        super().__init__(info["image_size"], info["embed_dim"], threads)
        onnx_path = checkpoint / POLICY_ONNX
        if not onnx_path.is_file():
            raise EngineError(f"{onnx_path}: missing; {EXPORT_HINT.format(ckpt=checkpoint)}")
        if int8 and calibration is None:
            raise EngineError("INT8 needs calibration frames: pass calibration=(images uint8 [N,H,W,3], embeddings [N,D])")
        self.checkpoint, self.fp16, self.int8 = checkpoint, fp16, int8
        self.logger = trt.Logger(trt.Logger.WARNING)

        props = _check(cudart.cudaGetDeviceProperties(0))
        gpu = props.name.decode() if isinstance(props.name, bytes) else str(props.name)
        self.gpu = gpu
        precision = "int8" if int8 else "fp16" if fp16 else "fp32"
        cache = Path(cache_dir or os.environ.get(CACHE_ENV, Path.home() / ".cache" / "cognitivedrone")) / "tensorrt"
        tag = re.sub(r"[^A-Za-z0-9]+", "-", gpu).strip("-")
        self.plan_path = cache / f"{file_sha256(onnx_path)[:16]}-{tag}-trt{trt.__version__}-{precision}.plan"
        plan = self.plan_path.read_bytes() if self.plan_path.is_file() else self._build(onnx_path, calibration)

        self.engine = trt.Runtime(self.logger).deserialize_cuda_engine(plan)
        if self.engine is None:
            self.plan_path.unlink(missing_ok=True)
            raise EngineError(f"{self.plan_path}: TensorRT could not load this plan (removed; it is rebuilt next time)")
        self.context = self.engine.create_execution_context()
        self.stream = _check(cudart.cudaStreamCreate())
        self.buffers: dict[str, tuple[int, int]] = {}  # name -> (device pointer, bytes)
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            shape = tuple(self.engine.get_tensor_shape(name))
            dtype = np.dtype(trt.nptype(self.engine.get_tensor_dtype(name)))
            nbytes = int(np.prod(shape)) * dtype.itemsize
            ptr = _check(cudart.cudaMalloc(nbytes))
            self.context.set_tensor_address(name, ptr)
            self.buffers[name] = (ptr, nbytes)
        self.outputs = {"command": np.empty((1, 4), dtype=np.float32), "not_in_view": np.empty((1, 1), dtype=np.float32)}
        self._text: OnnxInstructionEncoder | None = None

    def _build(self, onnx_path: Path, calibration) -> bytes:
        trt = self.trt
        builder = trt.Builder(self.logger)
        network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
        parser = trt.OnnxParser(network, self.logger)
        if not parser.parse(onnx_path.read_bytes()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise EngineError(f"{onnx_path}: TensorRT's ONNX parser refused it: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_MB << 20)
        if self.fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        if self.int8:
            config.set_flag(trt.BuilderFlag.INT8)
            config.int8_calibrator = _make_calibrator(trt, self.cudart, *calibration,
                                                      self.plan_path.with_suffix(".calib"))
        plan = builder.build_serialized_network(network, config)
        if plan is None:
            raise EngineError(f"TensorRT failed to build an engine from {onnx_path} (see its log above); "
                              f"try: {trtexec_command(self.checkpoint, self.fp16, self.int8)} --verbose")
        data = bytes(plan)
        self.plan_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.plan_path.parent, prefix=".plan.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self.plan_path)
        return data

    def embed(self, instruction: str) -> np.ndarray:
        if self._text is None:
            self._text = OnnxInstructionEncoder(self.checkpoint, self.embed_dim)
        return self._text.embed(instruction)

    def infer_view(self, images: np.ndarray, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cudart, kind = self.cudart, self.cudart.cudaMemcpyKind
        for name, host in (("image", images), ("embedding", embeddings)):
            ptr, nbytes = self.buffers[name]
            _check(cudart.cudaMemcpyAsync(ptr, host.ctypes.data, nbytes, kind.cudaMemcpyHostToDevice, self.stream))
        if not self.context.execute_async_v3(self.stream):
            raise EngineError("TensorRT execution failed")
        for name, host in self.outputs.items():
            ptr, nbytes = self.buffers[name]
            _check(cudart.cudaMemcpyAsync(host.ctypes.data, ptr, nbytes, kind.cudaMemcpyDeviceToHost, self.stream))
        _check(cudart.cudaStreamSynchronize(self.stream))
        return self.outputs["command"].copy(), self.outputs["not_in_view"].copy()

    def describe(self) -> dict:
        return {**super().describe(), "tensorrt": self.trt.__version__, "gpu": self.gpu,
                "precision": "int8" if self.int8 else "fp16" if self.fp16 else "fp32", "plan": str(self.plan_path),
                "trtexec": trtexec_command(self.checkpoint, self.fp16, self.int8)}

    def __del__(self):
        cudart = getattr(self, "cudart", None)
        for ptr, _ in getattr(self, "buffers", {}).values():
            cudart.cudaFree(ptr)


def _make_calibrator(trt, cudart, images: np.ndarray, embeddings: np.ndarray, cache_file: Path):
    """An entropy calibrator (IInt8EntropyCalibrator2) over dataset frames, one at a time."""

    class FrameCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            super().__init__()
            self.k = 0
            self.host = {"image": np.ascontiguousarray(images, dtype=np.uint8),
                         "embedding": np.ascontiguousarray(embeddings, dtype=np.float32)}
            self.device = {n: _check(cudart.cudaMalloc(a[0].nbytes)) for n, a in self.host.items()}

        def get_batch_size(self):
            return 1

        def get_batch(self, names):
            if self.k >= len(self.host["image"]):
                return None
            for n in names:
                a = np.ascontiguousarray(self.host[n][self.k : self.k + 1])
                _check(cudart.cudaMemcpy(self.device[n], a.ctypes.data, a.nbytes,
                                         cudart.cudaMemcpyKind.cudaMemcpyHostToDevice))
            self.k += 1
            return [int(self.device[n]) for n in names]

        def read_calibration_cache(self):
            return cache_file.read_bytes() if cache_file.is_file() else None

        def write_calibration_cache(self, cache):
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_bytes(bytes(cache))

    return FrameCalibrator()
