"""datagen with looks: each episode's look is recorded, held-out looks are refused, and the
training labels follow the look's camera."""

import json

import numpy as np
import pytest

from cognitivedrone.data.datagen import DatagenConfig, DatagenError, generate, parse_look_mix, plan_episodes


def test_look_mix_parses_and_refuses_held_out_looks():
    assert parse_look_mix("classic:1,randomized:3") == [("classic", 1.0), ("randomized", 3.0)]
    assert parse_look_mix("randomized") == [("randomized", 1.0)]
    for bad, msg in (("studio", "held-out"), ("randomised", "unknown look"), ("randomized:0", "> 0"), ("", "at least")):
        with pytest.raises(DatagenError, match=msg):
            parse_look_mix(bad)


def test_randomized_datagen_records_each_look_and_labels_by_its_camera(tmp_path):
    from cognitivedrone.data.lerobot_format import DemoDataset
    from cognitivedrone.sim.look import Look, episode_look, without_lens
    from cognitivedrone.training.data import TrainingData

    cfg = DatagenConfig(episodes=4, seed=4242, out=str(tmp_path / "d"), workers=1, shard_episodes=2,
                        looks="classic:1,randomized:1", look_seed=3)
    rep = generate(cfg, progress=False)
    assert rep.complete and rep.episodes == 4
    ds = DemoDataset(tmp_path / "d")
    looks = [e["look"] for e in ds.episodes]
    plan = plan_episodes(cfg)
    for e, ep in zip(ds.episodes, plan):
        want = cfg.episode_look(ep)
        if want.is_classic:
            assert e["look"] == ""
        else:
            # Stored before the lens: training puts a fresh camera on every sample.
            assert Look.from_dict(json.loads(e["look"])) == want == without_lens(episode_look("randomized", 3, ep.seed))
            assert want.camera.lens.is_identity and want.camera.render_size is None
    assert any(looks) and not all(looks), "a 1:1 mix of four episodes should hold both kinds (seeded)"
    # Labels of an episode in a narrower or wider camera differ from the classic camera's.
    data = TrainingData(str(tmp_path / "d"), chunk_size=4)
    from cognitivedrone.sim.projection import gate_points, project_points

    states = np.asarray(data.dataset.frames(["observation.state"]).column("observation.state").to_pylist(), np.float32)
    classic_uv, _ = project_points(states, gate_points()[0])
    looked = np.array([bool(x) for x in looks])[data.episode_index]
    assert np.allclose(data.gate_uv[~looked], classic_uv[~looked])
    assert not np.allclose(data.gate_uv[looked], classic_uv[looked])
    # Frames are read from the files' chunks (one array of all images would overflow at 2 GB).
    assert len(data._image_chunks) >= 2
    cells = data.dataset.frames(["observation.image"]).column("observation.image").to_pylist()
    for i in (0, len(cells) // 2, len(cells) - 1):
        assert np.array_equal(data.decode(i), data.dataset.decode_image(cells[i]))
