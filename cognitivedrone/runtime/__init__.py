"""Inference engines behind one contract, and export to ONNX (docs/design.md, Interfaces and One frame).

`make_engine("torch" | "onnxruntime" | "tensorrt", checkpoint_dir)` returns a PolicyEngine:
`embed(instruction)` once per instruction, `act(image, embedding)` every frame. Importing this
package needs numpy only: torch, onnxruntime and TensorRT are imported by the engine that
uses them, so a drone with onnxruntime and no torch flies an exported checkpoint.
"""

from cognitivedrone.runtime.engine import EngineError, PolicyEngine
from cognitivedrone.runtime.factory import ENGINE_NAMES, make_engine

__all__ = ["ENGINE_NAMES", "EngineError", "PolicyEngine", "make_engine"]
