"""The gate reader: where it cuts, how it trains and resumes, and how the reasoner uses it."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cognitivedrone.reasoning.offline.boards import crop_gates
from cognitivedrone.reasoning.offline.configuration import GATE_READER_WEIGHTS, GateReaderConfig
from cognitivedrone.reasoning.offline.gate_reader import (
    GateReaderNet,
    has_gate_reader,
    load_gate_reader,
    save_gate_reader,
)
from cognitivedrone.resources import DEFAULT_PERCEPTION

PERCEPTION = DEFAULT_PERCEPTION
TINY = GateReaderConfig(channels=(4, 8))
SMOKE_CONFIDENT = 1  # a smoke-suite episode the shipped perception answers from its first view


def _smoke_frame(index: int = 0) -> np.ndarray:
    """The first 256-px view of a smoke-suite episode, as the reasoner sees it."""
    from cognitivedrone.sim.env import DroneEnv
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    ep = load_suite("smoke").episodes[index]
    env = DroneEnv()
    try:
        env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt))
        return env.render_fpv(256)
    finally:
        env.close()


def test_the_cut_lies_below_the_board_and_scales_with_it():
    image = np.full((256, 256, 3), 40, np.uint8)
    image[64:80, 120:136] = 250  # a 16-px board centred at pixel (128, 72)
    image[100:116, 124:132] = (250, 0, 0)  # something red 1.6 board widths below its centre... roughly
    width = 16 / 256
    crop = crop_gates(image, np.array([[0.0, 72 / 128 - 1]]), np.array([width]), GateReaderConfig(crop=56))[0]
    red = (crop[..., 0] > 150) & (crop[..., 1] < 100)
    white = crop.min(-1) > 150
    ys, xs = np.nonzero(red)
    # The crop spans 2.8 board widths (56 px: 20 px a width) centred 1.6 widths below the board:
    # the red patch (centre 36 px = 2.25 widths below the board's centre) sits 0.65 widths
    # (13 px) below the crop's centre, and the board's lower part shows at its top.
    assert abs(xs.mean() - 27.5) < 1.5 and abs(ys.mean() - (27.5 + 13)) < 1.5
    assert white[:8].any() and not white[20:].any()


def test_gate_reader_round_trips_and_broken_files_are_clear_errors(tmp_path):
    model = GateReaderNet(TINY)
    save_gate_reader(model, tmp_path)
    assert has_gate_reader(tmp_path)
    again = load_gate_reader(tmp_path)
    x = torch.randint(0, 255, (2, 48, 48, 3), dtype=torch.uint8)
    for a, b in zip(model.eval()(x), again(x)):
        assert torch.allclose(a, b)
    (tmp_path / GATE_READER_WEIGHTS).write_bytes((tmp_path / GATE_READER_WEIGHTS).read_bytes()[:200])
    with pytest.raises(ValueError, match="gate_reader.safetensors: does not load"):
        load_gate_reader(tmp_path)


def test_lighting_jitter_keeps_a_red_gate_red():
    from cognitivedrone.reasoning.offline.train_gate_reader import light_jitter

    red = torch.zeros(256, 8, 8, 3, dtype=torch.uint8)
    red[..., 0] = 200
    out = light_jitter(red, torch.Generator().manual_seed(0)).float()
    assert not torch.equal(out, red.float())  # it does change them
    r, g, b = out[..., 0].mean((1, 2)), out[..., 1].mean((1, 2)), out[..., 2].mean((1, 2))
    assert (r > g + 60).all() and (r > b + 60).all()


@pytest.fixture(scope="module")
def tiny_scenes(tmp_path_factory) -> Path:
    """Two shards of eight classic scenes."""
    from cognitivedrone.reasoning.offline.scenes import SceneConfig, render_scenes

    folder = tmp_path_factory.mktemp("scenes")
    render_scenes(folder, frames=16, shard_frames=8, workers=1, config=SceneConfig(poses_per_scene=4), progress=False)
    return folder


def test_held_out_figures_count_the_grid_s_finds(tiny_scenes):
    """The shipped grid on classic scenes: it finds nearly every board, and the figures are
    counted over exactly the pairs the matcher gives."""
    from cognitivedrone.reasoning.offline.perception import load_perception
    from cognitivedrone.reasoning.offline.train_perception import evaluate, load_scenes, match_billboards

    grid, data = load_perception(PERCEPTION), load_scenes(sorted(tiny_scenes.glob("scenes-*.npz")))
    result = evaluate(grid, data)
    pairs = [p for _, _, ps in match_billboards(grid, data) for p in ps]
    assert result["billboards"] == len(pairs) > 10
    assert result["recall"] == sum(d is not None for _, d in pairs) / len(pairs) >= 0.9
    named = [int(d.asset_probs.argmax()) == data["asset"][b, k]
             for b, _, ps in match_billboards(grid, data) for k, d in ps if d is not None]
    assert result["asset_accuracy"] == sum(named) / len(named) and not grid.training


def test_training_resumes_from_its_last_save_and_reports_held_out_figures(tiny_scenes, tmp_path):
    from cognitivedrone.reasoning.offline.train_gate_reader import STATE, train_gate_reader

    out = tmp_path / "gates"
    first = train_gate_reader(tiny_scenes, PERCEPTION, out, steps=4, batch=8, save_every=2, log=lambda *_: None)
    assert (out / "gate_crops.npz").is_file() and (out / STATE).read_text() == '{"step": 4}'
    assert first["billboards"] > 0 and 0 <= first["reader_color_accuracy"] <= 1
    assert set(first["size_by_confidence"]) == {"0.5", "0.7", "0.8", "0.9", "0.95"}
    weights = (out / GATE_READER_WEIGHTS).read_bytes()
    again = train_gate_reader(tiny_scenes, PERCEPTION, out, steps=4, batch=8, log=lambda *_: None)
    assert (out / GATE_READER_WEIGHTS).read_bytes() == weights  # nothing left to do: no step taken
    assert again["billboards"] == first["billboards"]
    train_gate_reader(tiny_scenes, PERCEPTION, out, steps=6, batch=8, save_every=2, log=lambda *_: None)
    assert (out / STATE).read_text() == '{"step": 6}' and (out / GATE_READER_WEIGHTS).read_bytes() != weights


def _fixed_gate_reader(size: int, shape: int, color: int, size_margin: float = 20.0,
                       shape_margin: float = 20.0) -> GateReaderNet:
    """A gate reader that reads every gate as the given indices; the size's logit leads the
    other's by `size_margin`, the shape's the others' by `shape_margin`."""
    model = GateReaderNet(TINY)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(-10.0)
        model.head.bias[size] = -10.0 + size_margin
        model.head.bias[2 + shape] = -10.0 + shape_margin
        model.head.bias[5 + color] = 10.0
    return model


def test_the_offline_reasoner_reads_gate_looks_with_the_gate_reader(tmp_path):
    from cognitivedrone.reasoning import make_reasoner

    folder = tmp_path / "perception"
    shutil.copytree(PERCEPTION, folder)
    save_gate_reader(_fixed_gate_reader(1, 2, 0), folder)  # small, triangle, red
    frame = _smoke_frame()
    boards = make_reasoner(f"offline:{folder}").perceive(frame)
    assert boards and all((b.size, b.shape, b.color) == ("small", "triangle", "red") for b in boards)
    assert all(p > 0.99 for b in boards for p in b.looks_p)
    plain = make_reasoner(f"offline:{PERCEPTION}").perceive(frame)
    assert len(plain) == len(boards) and {(b.shape, b.color) for b in plain} != {("triangle", "red")}


def test_a_rewrite_leaves_out_a_size_the_gate_reader_is_unsure_of_and_always_names_the_shape(tmp_path):
    from cognitivedrone.reasoning import make_reasoner
    from cognitivedrone.tasks.simple_form import parse_simple_form
    from cognitivedrone.tasks.suite import load_suite

    index = SMOKE_CONFIDENT
    ep, frame = load_suite("smoke").episodes[index], _smoke_frame(index)
    texts = {}
    # p(big) = 1.0, or about 0.62; p(square) = 1.0, or about 0.58 (against two other shapes)
    for name, margin, shape_margin in (("sure", 20.0, 20.0), ("unsure", 0.5, 20.0), ("unsure shape", 20.0, 1.0)):
        folder = tmp_path / name
        shutil.copytree(PERCEPTION, folder)
        save_gate_reader(_fixed_gate_reader(0, 1, 2, margin, shape_margin), folder)  # big, square, blue
        rw = make_reasoner(f"offline:{folder}").rewrite(ep.prompt, frame)
        texts[name] = parse_simple_form(rw.text)
    assert texts["sure"] is not None and (texts["sure"].size, texts["sure"].shape, texts["sure"].color) == ("big", "square", "blue")
    assert texts["unsure"] is not None and (texts["unsure"].size, texts["unsure"].shape, texts["unsure"].color) == (None, "square", "blue")
    assert texts["unsure"].asset == texts["sure"].asset
    unsure_shape = texts["unsure shape"]
    assert unsure_shape is not None and (unsure_shape.size, unsure_shape.shape, unsure_shape.color) == ("big", "square", "blue")
