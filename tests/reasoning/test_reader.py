"""The billboard reader: where it cuts, what it is trained on, and how the reasoner uses it."""

import shutil

import numpy as np
import pytest
import torch

from cognitivedrone.reasoning.offline.boards import crop_boards
from cognitivedrone.reasoning.offline.configuration import READER_WEIGHTS, ReaderConfig
from cognitivedrone.reasoning.offline.reader import ReaderNet, has_reader, load_reader, save_reader
from cognitivedrone.reasoning.offline.reader_data import (
    VALIDATION_ART,
    reader_only_art,
    synthetic_crops,
    texture_pool,
)
from cognitivedrone.resources import DEFAULT_PERCEPTION

PERCEPTION = DEFAULT_PERCEPTION


def test_a_cut_is_centred_on_the_board_and_scaled_to_its_width():
    image = np.full((256, 256, 3), 40, np.uint8)
    image[96:128, 160:192] = 250  # a 32-px board centred at pixel (176, 112)
    u, v, width = 176 / 128 - 1, 112 / 128 - 1, 32 / 256
    crop = crop_boards(image, np.array([[u, v]]), np.array([width]), crop=48, margin=1.5)[0]
    bright = crop[..., 0] > 145
    ys, xs = np.nonzero(bright)
    assert abs(xs.mean() - 23.5) < 1 and abs(ys.mean() - 23.5) < 1  # centred
    assert 30 <= bright.sum(1).max() <= 34  # the board spans 1/1.5 of the 48-px cut


def test_a_cut_past_the_frame_edge_reads_grey():
    image = np.full((256, 256, 3), 0, np.uint8)
    crop = crop_boards(image, np.array([[1.2, -1.3]]), np.array([0.2]), crop=32)[0]
    assert crop.shape == (32, 32, 3) and (crop == 128).mean() > 0.5


def test_synthetic_crops_are_reproducible_and_vary():
    textures = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (16, 64, 64, 3), dtype=np.uint8))
    a = synthetic_crops(textures, 48, torch.Generator().manual_seed(3))
    b = synthetic_crops(textures, 48, torch.Generator().manual_seed(3))
    c = synthetic_crops(textures, 48, torch.Generator().manual_seed(4))
    assert a.shape == (16, 48, 48, 3) and a.dtype == torch.uint8
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_texture_pool_never_prints_held_out_art_or_fonts(monkeypatch):
    import cognitivedrone.tasks.assets as assets
    from cognitivedrone.sim.look import HELD_OUT

    asked = []
    real = assets.render_texture
    monkeypatch.setattr(assets, "render_texture", lambda a, size, style: asked.append(style) or real(a, size, style))
    images, labels = texture_pool(("animal:cat", "digit:3"), styles_per_asset=40, seed=0, progress=False,
                                  extra_art_share=0.4)
    assert images.shape == (82, 64, 64, 3) and sorted(set(labels.tolist())) == [0, 1]
    assert len({s.art for s in asked}) >= 4 and len({s.font for s in asked}) >= 8  # it does vary them
    assert {s.art for s in asked} & set(reader_only_art())  # and prints in styles no look draws
    assert not {s.art for s in asked} & set(HELD_OUT["art"])
    assert VALIDATION_ART not in {s.art for s in asked}  # it measures reading art never printed
    assert not {assets.FONTS[s.font].family for s in asked} & set(HELD_OUT["font_family"])


def test_reader_round_trips_and_broken_files_are_clear_errors(tmp_path):
    model = ReaderNet(ReaderConfig(channels=(8, 8), assets=("digit:1", "digit:2")))
    save_reader(model, tmp_path)
    assert has_reader(tmp_path)
    again = load_reader(tmp_path)
    x = torch.randint(0, 255, (2, 48, 48, 3), dtype=torch.uint8)
    assert torch.allclose(model.eval()(x), again(x))
    (tmp_path / READER_WEIGHTS).write_bytes((tmp_path / READER_WEIGHTS).read_bytes()[:200])
    with pytest.raises(ValueError, match="reader.safetensors: does not load"):
        load_reader(tmp_path)


def test_the_offline_reasoner_names_pictures_with_the_reader_when_there_is_one(tmp_path):
    """A reader that always says 'digit:7' makes every billboard a 7: the reasoner asked it."""
    from cognitivedrone.reasoning import make_reasoner
    from cognitivedrone.reasoning.offline.perception import load_perception

    folder = tmp_path / "perception"
    shutil.copytree(PERCEPTION, folder)
    assets = load_perception(folder).config.assets
    reader = ReaderNet(ReaderConfig(channels=(8, 8), assets=assets))
    with torch.no_grad():
        reader.head.weight.zero_()
        reader.head.bias.fill_(-10.0)
        reader.head.bias[assets.index("digit:7")] = 10.0
    save_reader(reader, folder)
    from cognitivedrone.sim.env import DroneEnv
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    ep = load_suite("smoke").episodes[0]
    env = DroneEnv()
    try:
        env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt))
        frame = env.render_fpv(256)
    finally:
        env.close()
    boards = make_reasoner(f"offline:{folder}").perceive(frame)
    assert boards and all(assets[int(b.asset_probs.argmax())] == "digit:7" for b in boards)
    plain = make_reasoner(f"offline:{PERCEPTION}").perceive(frame)
    assert len(plain) == len(boards) and any(assets[int(b.asset_probs.argmax())] != "digit:7" for b in plain)


def test_training_runs_end_to_end_and_resumes(tmp_path):
    from cognitivedrone.reasoning.offline.scenes import SceneConfig, render_scenes
    from cognitivedrone.reasoning.offline.train_reader import STATE, train_reader

    render_scenes(tmp_path / "scenes", frames=8, shard_frames=4, workers=1, config=SceneConfig(poses_per_scene=4),
                  progress=False)
    out = tmp_path / "reader"
    first = train_reader(tmp_path / "scenes", PERCEPTION, out, steps=2, batch=8, styles_per_asset=1, save_every=1,
                         log=lambda *_: None)
    assert (out / STATE).read_text() == '{"step": 2}' and (out / "scene_crops.npz").is_file()
    assert first["billboards"] > 0 and 0 <= first["grid_asset_accuracy"] <= 1 and 0 <= first["reader_asset_accuracy"] <= 1
    weights = (out / READER_WEIGHTS).read_bytes()
    train_reader(tmp_path / "scenes", PERCEPTION, out, steps=3, batch=8, styles_per_asset=1, log=lambda *_: None)
    assert (out / STATE).read_text() == '{"step": 3}' and (out / READER_WEIGHTS).read_bytes() != weights
    # On from that reader, restyled and in more art, in a new folder: it starts from its weights
    # and reports how it reads the validation art, which no training run prints.
    on = train_reader(tmp_path / "scenes", PERCEPTION, tmp_path / "reader-on", steps=1, batch=8, styles_per_asset=1,
                      lr=1e-9, extra_art_share=0.4, restyle_p=1.0, init=out, log=lambda *_: None)
    assert on["unseen_art"]["art"] == VALIDATION_ART and on["unseen_art"]["pictures"] > 50
    assert 0 <= on["unseen_art"]["accuracy"] <= 1
    start = load_reader(out).state_dict()
    after = load_reader(tmp_path / "reader-on").state_dict()
    assert torch.allclose(start["head.weight"], after["head.weight"], atol=1e-4)  # lr ~ 0: still the init's weights
    # On from it at full resolution: the same weights, the first block at stride 1.
    train_reader(tmp_path / "scenes", PERCEPTION, tmp_path / "reader-s1", steps=1, batch=8, styles_per_asset=1,
                 lr=1e-9, init=out, stem_stride=1, log=lambda *_: None)
    full = load_reader(tmp_path / "reader-s1")
    assert full.config.stem_stride == 1 and load_reader(out).config.stem_stride == 2
    assert full.features[0][0].stride == (1, 1)
    assert torch.allclose(start["features.0.0.weight"], full.state_dict()["features.0.0.weight"], atol=1e-4)
    other = ReaderNet(ReaderConfig(channels=(8, 8), assets=("digit:1", "digit:2")))
    save_reader(other, tmp_path / "other")
    with pytest.raises(ValueError, match="cannot start from it"):
        train_reader(tmp_path / "scenes", PERCEPTION, tmp_path / "reader-bad", steps=1, batch=8, styles_per_asset=1,
                     init=tmp_path / "other", log=lambda *_: None)


def test_restyle_changes_what_it_is_asked_to_and_nothing_else():
    from cognitivedrone.reasoning.offline.reader_data import restyle

    tex = torch.from_numpy(np.random.default_rng(1).integers(0, 255, (32, 3, 16, 16)).astype(np.float32))
    assert torch.equal(restyle(tex, torch.Generator().manual_seed(0), 0.0), tex)
    a = restyle(tex, torch.Generator().manual_seed(0), 1.0)
    assert torch.equal(a, restyle(tex, torch.Generator().manual_seed(0), 1.0))  # reproducible
    assert a.shape == tex.shape and 0 <= float(a.min()) and float(a.max()) <= 255
    assert all(not torch.equal(a[i], tex[i]) for i in range(len(tex)))  # every one drawn otherwise
    half = restyle(tex, torch.Generator().manual_seed(0), 0.5)
    same = sum(torch.equal(half[i], tex[i]) for i in range(len(tex)))
    assert 4 <= same <= 28
