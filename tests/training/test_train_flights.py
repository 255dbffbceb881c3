"""Training on recorded flights (a dataset from `data from-bag`): no scene, so no perception
targets; the pointer learns where a flight with a pose went (hindsight), and a few steps lower
the loss."""

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


def _straight_flight(tmp_path, name: str, camera: dict | None = None, pose: bool = True) -> str:
    """One recorded flight from (0, 1, 1) straight to (3, 0, 1), heading +x: where it went is ahead
    and to the right of the first frame."""
    from cognitivedrone.data.bag_sync import Sample
    from cognitivedrone.data.from_bag import write_episodes

    frames = []
    for k in range(31):
        f = k / 30
        p = np.array([3.0 * f, 1.0 - f, 1.0, 0.0, 0.0, 0.0], np.float32)
        grey = np.full((16, 16, 3), 10 + 5 * k, np.uint8)  # the grey names the frame
        frames.append(Sample(100 + 0.1 * k, grey, np.array([1.0, -0.3, 0.0, 0.0], np.float32),
                             p if pose else None, "fly through the gate showing a rocket"))
    out = tmp_path / name
    write_episodes(out, [("flight", [frames])], fps=10.0, image_size=16, topic="/camera", extra={}, camera=camera or {})
    return str(out)


def _targets(data: TrainingData, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(frame index, pointer target) of each sample of a batch; the frame is read off its grey."""
    vla = FilmCnnVLA.from_pretrained("checkpoints/default")
    b = data.batch(np.random.default_rng(3), n, vla.normalizer, 0.5, augment=False)
    grey = b["images"][:, 0, 0, 0].numpy() * 255.0
    return np.rint((grey - 10) / 5).astype(int), b["target_cell"].numpy()


def test_a_flight_with_a_pose_teaches_the_pointer_where_it_went(tmp_path):
    # Frame 0 by hand: the end is 3 m ahead, 1 m right, level (the lens 4 cm forward, 1 cm up):
    # u = 1 / (2.96 tan 53) = 0.255 -> column 5 of 8; v = 0.01 / (2.96 tan 53) = 0.003 -> row 4.
    ids, cells = _targets(TrainingData(_straight_flight(tmp_path, "level"), chunk_size=4, decision_frac=0.0))
    assert set(cells[ids == 0]) <= {4 * 8 + 5}
    # Approaching, the end stays right of centre and on the horizon; within half a metre of it: no target.
    near = np.hypot(3.0 * (1 - ids / 30), 1 - ids / 30) < 0.5
    assert (cells[near] == -1).all() and near.any()
    far = ~near
    assert (cells[far] // 8 == 4).all() and (cells[far] % 8 >= 4).all() and far.sum() > 40
    # A camera tilted up 30 degrees sees the same point lower in the picture.
    ids, tilted = _targets(TrainingData(_straight_flight(tmp_path, "tilted", {"pitch_deg": 30.0}), chunk_size=4,
                                        decision_frac=0.0))
    assert (tilted[ids == 0] // 8 > 4).all() and (tilted[ids < 20] // 8 > 4).all()


def test_a_flights_first_frame_is_drawn_among_the_decision_samples(tmp_path):
    # Without decision samples frame 0 is 3 of 71 sampling weights (early frames count thrice);
    # with half the batch decisions, all of a flight's, it is over half the batch.
    flight = _straight_flight(tmp_path, "decisions")
    ids, cells = _targets(TrainingData(flight, chunk_size=4, decision_frac=0.0), n=128)
    assert (ids == 0).sum() < 16
    ids, cells = _targets(TrainingData(flight, chunk_size=4, decision_frac=0.5), n=128)
    assert (ids == 0).sum() >= 64 and set(cells[ids == 0]) == {4 * 8 + 5}
    # No hindsight target, no decision sample: the frame is drawn as any other.
    ids, _ = _targets(TrainingData(flight, chunk_size=4, decision_frac=0.5, hindsight_pointer=False), n=128)
    assert (ids == 0).sum() < 16


def test_no_hindsight_target_without_a_pose_or_when_turned_off(tmp_path):
    no_pose = TrainingData(_straight_flight(tmp_path, "no-pose", pose=False), chunk_size=4)
    assert (_targets(no_pose)[1] == -1).all()
    assert no_pose.flights_line().startswith("1 recorded episode(s) without a scene: 0 with hindsight pointer targets; 1 train")
    off = TrainingData(_straight_flight(tmp_path, "off"), chunk_size=4, hindsight_pointer=False)
    assert (_targets(off)[1] == -1).all()
    on = TrainingData(_straight_flight(tmp_path, "on"), chunk_size=4)
    assert on.flights_line() == "1 recorded episode(s) without a scene: 1 with hindsight pointer targets"


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
        assert np.isfinite(float(total)) and metrics["pointer_loss"] == 0.0  # the test bag hovers: no target
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
