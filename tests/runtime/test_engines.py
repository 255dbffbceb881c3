"""Engine selection and errors that need no export: unknown names, missing backends, perf stats."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cognitivedrone.bench.perf import time_calls
from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone.runtime import EngineError, make_engine

REPO = Path(__file__).resolve().parents[2]
DEFAULT = DEFAULT_CHECKPOINT


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_unknown_engine_names_the_choices():
    with pytest.raises(EngineError, match="unknown engine 'tflite'; choose one of torch, onnxruntime, tensorrt"):
        make_engine("tflite", DEFAULT)


def test_missing_export_says_how_to_make_it(tmp_path):
    (tmp_path / "config.json").write_text((DEFAULT / "config.json").read_text())
    with pytest.raises(EngineError, match=r"model\.onnx: missing; run `cognitivedrone export .* --format onnx`"):
        make_engine("onnxruntime", tmp_path)


@pytest.mark.skipif(_have("tensorrt"), reason="tensorrt is installed here: the missing-package path cannot be shown")
def test_tensorrt_missing_names_the_pip_package_without_a_traceback():
    run = subprocess.run([sys.executable, "-m", "cognitivedrone.cli", "perf", str(DEFAULT), "--engine", "tensorrt"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert "pip install tensorrt" in run.stderr and "JetPack" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def test_torch_engine_matches_the_checkpoint_policy():
    from cognitivedrone.policy.checkpoint import FilmCnnVLA

    eng = make_engine("torch", DEFAULT)
    vla = FilmCnnVLA.from_pretrained(DEFAULT, text_encoder=eng.vla.text)
    img = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    emb = eng.embed("fly through the blue gate")
    assert eng.act(img, emb) == vla.act(img, emb)
    with pytest.raises(ValueError, match=r"image must be a uint8 numpy array of shape \(128, 128, 3\)"):
        eng.act(img[:64], emb)


def test_time_calls_percentiles_are_ordered():
    import time

    # Calls of ~1-3 ms: mean_ms is rounded to 1e-4 ms, negligible against that.
    stats = time_calls(lambda i: time.sleep(0.001 * (1 + i % 3)), iters=30, warmup=2, threads=1)
    assert 1.0 <= stats.p50_ms <= stats.p90_ms <= stats.p99_ms
    assert stats.n == 30 and stats.hz == pytest.approx(1e3 / stats.mean_ms, rel=1e-3)
