"""ONNX export and the onnxruntime engine on the default checkpoint, against torch.

Everything here shares one export of checkpoints/default (~20 s), so the module runs on one
xdist worker (group "onnx-export")."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest

from cognitivedrone.bench.frames import expert_frames
from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone.runtime import EngineError, make_engine
from cognitivedrone.runtime.export import export_is_current, export_onnx
from tests.drone_venv import clean_env, make_venv

pytestmark = pytest.mark.xdist_group("onnx-export")

REPO = Path(__file__).resolve().parents[2]
DEFAULT = DEFAULT_CHECKPOINT


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    ckpt = tmp_path_factory.mktemp("ckpt") / "default"
    shutil.copytree(DEFAULT, ckpt, ignore=shutil.ignore_patterns("*.onnx", "tokenizer.json"))
    report = export_onnx(ckpt, log=lambda *_: None)
    return ckpt, report


@pytest.fixture(scope="module")
def frames():
    images, prompts = expert_frames(100, suite="smoke")
    return images, prompts


@pytest.fixture(scope="module")
def torch_engine(exported):
    return make_engine("torch", exported[0], threads=1)


@pytest.fixture(scope="module")
def ort_engine(exported):
    return make_engine("onnxruntime", exported[0], threads=1)


def test_export_writes_one_checked_file_per_graph_with_the_documented_io(exported):
    ckpt, report = exported
    assert {p.name for p in report.files} == {"model.onnx", "instruction_encoder.onnx", "tokenizer.json"}
    assert not list(ckpt.glob("*.data")), "weights must live inside the .onnx files"
    model = onnx.load(str(ckpt / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)

    def io(values):
        return {v.name: (v.type.tensor_type.elem_type, [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim])
                for v in values}

    assert io(model.graph.input) == {"image": (onnx.TensorProto.UINT8, [1, 128, 128, 3]),
                                     "embedding": (onnx.TensorProto.FLOAT, [1, 256])}
    assert io(model.graph.output) == {"command": (onnx.TensorProto.FLOAT, [1, 4]),
                                      "not_in_view": (onnx.TensorProto.FLOAT, [1, 1])}
    assert export_is_current(ckpt)


def test_torch_and_onnxruntime_agree_on_100_real_frames(frames, torch_engine, ort_engine):
    images, prompts = frames
    assert images.shape == (100, 128, 128, 3) and len(set(prompts)) >= 3
    diffs = []
    for img, prompt in zip(images, prompts):
        emb_torch, emb_ort = torch_engine.embed(prompt), ort_engine.embed(prompt)
        assert np.abs(emb_torch - emb_ort).max() <= 1e-4
        a = torch_engine.act(img, emb_torch).as_array()
        b = ort_engine.act(img, emb_ort).as_array()
        diffs.append(np.abs(a - b).max())
    assert max(diffs) <= 1e-4, f"max |torch - onnxruntime| = {max(diffs):.2e}"
    # The commands are not all alike: the comparison covers real, varied outputs.
    cmds = np.array([torch_engine.act(i, torch_engine.embed(p)).as_array() for i, p in zip(images[:20], prompts[:20])])
    assert cmds.std(axis=0).max() > 0.05


def test_truncated_model_onnx_is_a_clear_error(exported, tmp_path):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(exported[0], ckpt)
    data = (ckpt / "model.onnx").read_bytes()
    (ckpt / "model.onnx").write_bytes(data[: len(data) // 3])
    with pytest.raises(EngineError, match=r"model\.onnx: not a usable ONNX model.*cognitivedrone export"):
        make_engine("onnxruntime", ckpt)


def _identity_policy(path: Path, image_shape, embed_dim=256):
    """A valid ONNX file with the policy's names but the given image shape."""
    from onnx import TensorProto, helper

    img = helper.make_tensor_value_info("image", TensorProto.UINT8, list(image_shape))
    emb = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, embed_dim])
    out = helper.make_tensor_value_info("command", TensorProto.FLOAT, [1, 4])
    starts = helper.make_tensor("s", TensorProto.INT64, [1], [0])
    ends = helper.make_tensor("e", TensorProto.INT64, [1], [4])
    axes = helper.make_tensor("a", TensorProto.INT64, [1], [1])
    node = helper.make_node("Slice", ["embedding", "s", "e", "a"], ["command"])
    graph = helper.make_graph([node], "wrong", [img, emb], [out], initializer=[starts, ends, axes])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def test_model_onnx_with_the_wrong_input_shape_is_a_clear_error(exported, tmp_path):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(exported[0], ckpt)
    _identity_policy(ckpt / "model.onnx", (1, 64, 64, 3))
    with pytest.raises(EngineError, match=r"input 'image' is tensor\(uint8\) \[1, 64, 64, 3\], this engine needs "
                                          r"tensor\(uint8\) \[1, 128, 128, 3\]"):
        make_engine("onnxruntime", ckpt)


def test_an_export_whose_record_was_stripped_is_refused_and_redone(exported, tmp_path):
    """Stale weights with the metadata removed must not pass as current (they flew before)."""
    ckpt = tmp_path / "ckpt"
    shutil.copytree(exported[0], ckpt)
    model = onnx.load(str(ckpt / "model.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(ckpt / "model.onnx"))
    assert not export_is_current(ckpt)
    with pytest.raises(EngineError, match="does not record the weights and export format"):
        make_engine("onnxruntime", ckpt)


def test_the_engine_reports_whether_the_instructed_gate_is_in_view(ort_engine, torch_engine):
    """The pointer's not-in-view probability comes out of the same pass as the command, and
    onnxruntime agrees with torch on it; a view of the sky alone has no gate in it."""
    from cognitivedrone.bench.frames import expert_frames

    images, prompts = expert_frames(4, suite="smoke")
    emb = ort_engine.embed(prompts[0])
    for img in images:
        cmd, p = ort_engine.act_with_view(img, emb)
        cmd_t, p_t = torch_engine.act_with_view(img, emb)
        assert 0.0 <= p <= 1.0 and abs(p - p_t) < 1e-4
        assert np.allclose(cmd.as_array(), cmd_t.as_array(), atol=1e-4)
    sky = np.full((ort_engine.image_size, ort_engine.image_size, 3), 255, np.uint8)
    sky[-4:] = 60  # a strip of ground: not a flat frame
    assert ort_engine.act_with_view(sky, emb)[1] > 0.5
    # and with a gate ahead, the instructed gate is seen in most start views
    seen = [ort_engine.act_with_view(img, ort_engine.embed(pr))[1] < 0.5 for img, pr in zip(images, prompts)]
    assert sum(seen) >= len(seen) // 2


def test_stale_export_is_refused_and_reexported(exported, tmp_path):
    from safetensors.numpy import load_file, save_file

    ckpt = tmp_path / "ckpt"
    shutil.copytree(exported[0], ckpt)
    weights = load_file(str(ckpt / "model.safetensors"))
    key = next(k for k, v in weights.items() if v.dtype == np.float32)
    weights[key] = weights[key] + 0.5  # "retrained" after the export
    save_file(weights, str(ckpt / "model.safetensors"))
    assert not export_is_current(ckpt)
    with pytest.raises(EngineError, match="stale export"):
        make_engine("onnxruntime", ckpt)


def test_bench_flies_the_same_with_onnxruntime(exported, tmp_path):
    from cognitivedrone.bench.agents import make_agent
    from cognitivedrone.bench.episode import run_episode
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.tasks.suite import load_suite

    ckpt = str(exported[0])
    episodes = load_suite("smoke").episodes[:3]
    env = DroneEnv(SimConfig())
    try:
        runs = {e: [run_episode(env, make_agent(ckpt, e), ep, "simple")[0] for ep in episodes]
                for e in ("torch", "onnxruntime")}
    finally:
        env.close()
    for a, b in zip(runs["torch"], runs["onnxruntime"]):
        assert (a.outcome, a.steps, a.gate_passed) == (b.outcome, b.steps, b.gate_passed)
        assert abs(a.path_length_m - b.path_length_m) < 0.05


def test_perf_cli_writes_the_documented_json(exported, tmp_path):
    from cognitivedrone.cli import main

    out = tmp_path / "perf.json"
    assert main([ "perf", str(exported[0]), "--engine", "onnxruntime", "--iters", "30", "--warmup", "5",
                  "--frames", "8", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res) >= {"machine", "engines", "fast_loop"}
    ort = res["engines"]["onnxruntime"]
    assert set(ort) >= {"p50_ms", "p90_ms", "p99_ms", "hz", "threads"}
    assert 0 < ort["p50_ms"] <= ort["p90_ms"] <= ort["p99_ms"] and ort["threads"] == 1
    assert res["fast_loop"]["onnxruntime"]["p50_ms"] > 0


# -- the drone side: no torch, no transformers -------------------------------------------------------

DRONE_SCRIPT = r"""
import json, sys
import numpy as np
for banned in ("torch", "transformers"):
    try:
        __import__(banned)
    except ImportError:
        pass
    else:
        raise SystemExit(f"{banned} is importable in the drone venv")
from cognitivedrone.runtime import make_engine
ckpt, frames_file, out = sys.argv[1:4]
data = np.load(frames_file)
prompts = json.loads(str(data["prompts"]))
eng = make_engine("onnxruntime", ckpt, threads=1)
cmds = [eng.act(img, eng.embed(p)).as_array() for img, p in zip(data["images"], prompts)]
np.save(out, np.array(cmds))
print("modules:", sorted(m for m in ("torch", "transformers", "onnxruntime", "tokenizers") if m in sys.modules))
"""


def test_drone_venv_without_torch_flies_the_same_commands(exported, frames, torch_engine, tmp_path):
    images, prompts = frames
    images, prompts = images[::5], prompts[::5]  # 20 frames, several instructions
    np.savez(tmp_path / "frames.npz", images=images, prompts=json.dumps(prompts))
    py = make_venv(tmp_path / "venv", ("drone",))
    env = clean_env(os.environ)
    run = subprocess.run([str(py), "-c", DRONE_SCRIPT, str(exported[0]), str(tmp_path / "frames.npz"),
                          str(tmp_path / "cmds.npy")], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "modules: ['onnxruntime', 'tokenizers']" in run.stdout
    drone = np.load(tmp_path / "cmds.npy")
    ref = np.array([torch_engine.act(i, torch_engine.embed(p)).as_array() for i, p in zip(images, prompts)])
    assert np.abs(drone - ref).max() <= 1e-4

    # The CLI's perf runs there too (random frames: no simulator in that venv).
    run = subprocess.run([str(py), "-m", "cognitivedrone.cli", "perf", str(exported[0]), "--engine", "onnxruntime",
                          "--iters", "20", "--warmup", "2", "--frames", "4"], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "random frames (no simulator installed)" in run.stdout and "onnxruntime" in run.stdout


def _have_tensorrt() -> bool:
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _have_tensorrt(), reason="TensorRT is not installed here (it comes with JetPack or NVIDIA's pip index)")
def test_tensorrt_fp16_agrees_with_torch(exported, frames, torch_engine, tmp_path):
    images, prompts = frames
    eng = make_engine("tensorrt", exported[0], cache_dir=tmp_path)
    assert eng.plan_path.is_file()
    again = make_engine("tensorrt", exported[0], cache_dir=tmp_path)  # from the cache
    assert again.plan_path == eng.plan_path
    diffs = [np.abs(eng.act(i, eng.embed(p)).as_array() - torch_engine.act(i, torch_engine.embed(p)).as_array()).max()
             for i, p in zip(images, prompts)]
    assert max(diffs) <= 1e-2
