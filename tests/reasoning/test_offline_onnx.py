"""The offline reasoner's networks on onnxruntime (their ONNX export) against torch, and in a venv
that has the drone extra only: no torch, no simulator."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from cognitivedrone.reasoning import make_reasoner
from cognitivedrone.reasoning.offline.configuration import READER_ONNX
from cognitivedrone.reasoning.offline.engines import OnnxPerception, open_perception
from cognitivedrone.reasoning.offline.export import export_perception, perception_export_is_current
from cognitivedrone.resources import DEFAULT_PERCEPTION
from cognitivedrone.runtime.engine import EngineError
from tests.drone_venv import clean_env, make_venv


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("perception") / "perception"
    shutil.copytree(DEFAULT_PERCEPTION, folder, ignore=shutil.ignore_patterns("*.onnx"))
    report = export_perception(folder, log=lambda *_: None)
    return folder, report


def test_the_export_holds_three_checked_networks(exported):
    folder, report = exported
    assert sorted(p.name for p in report.files) == ["gate_reader.onnx", "model.onnx", "reader.onnx"]
    assert all(0 <= d <= 1e-4 for d in report.max_abs_diff.values()), report.max_abs_diff
    assert perception_export_is_current(folder)


def test_onnxruntime_reads_the_smoke_views_as_torch_does(exported, start_frames):
    folder, _ = exported
    eps, frames = start_frames
    on_torch = make_reasoner(f"offline:{folder}", engine="torch")
    on_ort = make_reasoner(f"offline:{folder}", engine="onnxruntime")
    assert on_ort.describe().endswith("onnxruntime") and on_torch.describe().endswith("torch")
    same = 0
    for ep, frame in zip(eps, frames):
        a, b = on_torch.perceive(frame), on_ort.perceive(frame)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert abs(x.u - y.u) < 1e-4 and abs(x.v - y.v) < 1e-4 and abs(x.scale - y.scale) < 1e-4
            # Crops are cut at the boxes each engine found (1e-7 apart): their pixels may differ by a level.
            assert np.abs(x.asset_probs - y.asset_probs).max() < 1e-3
            assert (x.size, x.shape, x.color) == (y.size, y.shape, y.color)
        same += on_torch.rewrite(ep.prompt, frame).text == on_ort.rewrite(ep.prompt, frame).text
    assert same == len(eps)


def test_a_missing_or_stale_export_is_refused_saying_how_to_make_it(exported, tmp_path):
    from cognitivedrone.reasoning.offline.reader import ReaderNet, save_reader

    folder = tmp_path / "perception"
    shutil.copytree(exported[0], folder)
    (folder / READER_ONNX).unlink()
    with pytest.raises(EngineError, match="reader.onnx: missing; run `cognitivedrone export"):
        OnnxPerception(folder)
    shutil.copyfile(exported[0] / READER_ONNX, folder / READER_ONNX)
    OnnxPerception(folder)  # whole again
    reader = ReaderNet(OnnxPerception(folder).reader)  # new weights beside the old export
    save_reader(reader, folder)
    with pytest.raises(EngineError, match="stale export"):
        OnnxPerception(folder)
    # Where torch is installed, asking for onnxruntime makes the export current first.
    assert not perception_export_is_current(folder)
    open_perception(folder, "onnxruntime")
    assert perception_export_is_current(folder)


def test_the_drone_extra_alone_rewrites_a_view_as_torch_does(exported, start_frames, tmp_path):
    folder, _ = exported
    eps, frames = start_frames
    py = make_venv(tmp_path / "venv", ("drone",))
    k = 1
    Image.fromarray(frames[k]).save(tmp_path / "view.png")
    want = make_reasoner(f"offline:{folder}", engine="torch").rewrite(eps[k].prompt, frames[k]).text
    run = subprocess.run([str(py), "-c", "import sys, runpy; sys.argv = ['cognitivedrone', *sys.argv[1:]]; "
                          "import importlib.util as u; assert u.find_spec('torch') is None, 'torch in the venv'; "
                          "runpy.run_module('cognitivedrone.cli', run_name='__main__')",
                          "reason", eps[k].prompt, "--image", str(tmp_path / "view.png"), "--reasoner", f"offline:{folder}"],
                         capture_output=True, text=True, env=clean_env(os.environ), timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"rewrite:   {want!r}" in run.stdout
