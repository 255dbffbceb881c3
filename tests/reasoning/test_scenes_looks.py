"""Perception scenes in looks: rendered through each scene's look and labelled by its camera;
held-out looks refused; a folder keeps one configuration."""

import numpy as np
import pytest

from cognitivedrone.reasoning.offline.scenes import SceneConfig, render_scenes


def test_scenes_in_a_look_mix_are_labelled_and_the_folder_keeps_its_settings(tmp_path):
    cfg = SceneConfig(looks="randomized", look_seed=4)
    files = render_scenes(tmp_path, 8, seed=2, shard_frames=8, workers=1, config=cfg, progress=False)
    d = np.load(files[0])
    assert d["images"].shape == (8, 256, 256, 3) and d["uv"].shape == (8, 3, 2)
    assert d["seen"].any() and (d["scale"][d["seen"]] > 0).all()
    with pytest.raises(ValueError, match="made with"):
        render_scenes(tmp_path, 8, seed=2, shard_frames=8, workers=1, config=SceneConfig(looks="classic"), progress=False)


def test_held_out_looks_are_refused(tmp_path):
    with pytest.raises(ValueError, match="held-out"):
        render_scenes(tmp_path, 8, workers=1, config=SceneConfig(looks="classic:1,dim:1"), progress=False)
    assert not any(tmp_path.iterdir())
