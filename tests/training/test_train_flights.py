"""Training on recorded flights (a dataset from `data from-bag`): no scene, so no pointer or
perception targets; the actions alone teach, and a few steps lower the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cognitivedrone.data.from_bag import FromBagConfig, convert
from cognitivedrone.policy.checkpoint import FilmCnnVLA
from cognitivedrone.policy.filmcnn.modeling import FilmCnnPolicy
from cognitivedrone.policy.text_encoder import TextEncoder
from cognitivedrone.training.config import TrainConfig
from cognitivedrone.training.data import TrainingData, build_text_table
from cognitivedrone.training.train import train
from tests.data.test_bag_streams import _write_bag


@pytest.fixture(scope="module")
def flights(tmp_path_factory):
    root = tmp_path_factory.mktemp("flights")
    bags = [root / f"flight-{k}" for k in range(2)]
    for bag in bags:
        _write_bag(bag, "mcap")
    out = root / "dataset"
    convert(FromBagConfig([str(b) for b in bags], str(out), min_frames=5), log=lambda *_: None)
    return str(out)


def test_a_flight_batch_has_actions_and_no_scene_targets(flights):
    data = TrainingData(flights, chunk_size=4)
    assert len(data.ep_first) == 0  # no counterfactual gates to name
    vla = FilmCnnVLA.from_pretrained("checkpoints/default")
    b = data.batch(np.random.default_rng(0), 8, vla.normalizer, 0.5, augment=True)
    assert (b["target_cell"] == -1).all() and not b["gate_seen"].any() and not b["board_seen"].any()
    assert (b["gate_look"] == -1).all() and (b["board_asset"] == -1).all()
    assert torch.isfinite(b["actions"]).all() and b["action_mask"].any()


def test_fine_tuning_on_flights_lowers_the_loss(flights, tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "tuned"
    cfg = TrainConfig(data=flights, out=str(out), init="checkpoints/default", steps=30, batch_size=8, lr=1e-3,
                      warmup_steps=2, log_every=5, save_every=30, eval_suite="", augment=False)
    train(cfg, progress=False)
    tuned = FilmCnnVLA.from_pretrained(out)
    data = TrainingData(flights, chunk_size=tuned.config.chunk_size)
    text = build_text_table(data.texts, TextEncoder(max_tokens=tuned.config.text_tokens))

    def loss(model: FilmCnnPolicy) -> float:
        b = data.batch(np.random.default_rng(1), 16, tuned.normalizer, 0.5, augment=False)
        rows = b.pop("text_rows")
        b.update(text_tokens=text.tokens[rows].float(), text_mask=text.mask[rows], text_pooled=text.pooled[rows])
        with torch.no_grad():
            total, metrics = model.eval().loss(b)
        assert np.isfinite(float(total)) and metrics["pointer_loss"] == 0.0
        return float(total)

    before = loss(FilmCnnVLA.from_pretrained("checkpoints/default").model)
    assert loss(tuned.model) < 0.7 * before


def test_demonstrations_and_flights_train_together(flights, tmp_path):
    from cognitivedrone.data.datagen import DatagenConfig, generate

    demos = tmp_path / "demos"
    generate(DatagenConfig(episodes=2, seed=11, out=str(demos), workers=1, shard_episodes=2),
             progress=False)
    data = TrainingData(f"{demos},{flights}", chunk_size=4)
    kinds = {bool(e["gates"]) for e in data.dataset.episodes}
    assert kinds == {True, False} and len({e["episode_index"] for e in data.dataset.episodes}) == 4
    assert len(data.ep_first) == 2  # counterfactual gates only where there are gates
    vla = FilmCnnVLA.from_pretrained("checkpoints/default")
    b = data.batch(np.random.default_rng(0), 64, vla.normalizer, 0.5, augment=False)
    assert (b["target_cell"] >= 0).any() and (b["target_cell"] == -1).any()
    out = tmp_path / "mixed"
    train(TrainConfig(data=f"{demos},{flights}", out=str(out), init="checkpoints/default", steps=4, batch_size=8,
                      warmup_steps=1, log_every=2, save_every=4, eval_suite="", augment=False), progress=False)
    assert (out / "model.safetensors").is_file()
