"""Training batches: chunk targets stay inside their episode; counterfactual decision samples."""

import numpy as np
import pytest

from cognitivedrone.data.datagen import DatagenConfig, generate
from cognitivedrone.policy.filmcnn.processing import ActionNormalizer
from cognitivedrone.training.data import TrainingData


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("d") / "demos"
    generate(DatagenConfig(episodes=3, seed=21, out=str(out), workers=1, shard_episodes=3), progress=False)
    return TrainingData(str(out), chunk_size=4, decision_frac=0.5)


def test_chunks_never_cross_episodes(data):
    ep = data.dataset.frames(["episode_index"]).column("episode_index").to_numpy()
    for i in range(len(ep)):
        valid = data.chunk_valid[i]
        assert valid[0]
        assert all(ep[data.chunk_index[i, k]] == ep[i] for k in range(4) if valid[k])
    last = np.flatnonzero(np.r_[ep[1:] != ep[:-1], True])
    assert not data.chunk_valid[last, 1:].any()


def test_decision_samples_name_every_gate_on_first_frames(data):
    norm = ActionNormalizer.from_data(data.actions)
    b = data.batch(np.random.default_rng(0), 64, norm, simple_prob=0.5, augment=False)
    dec_gate = b["target_gate"][-32:].numpy()
    assert set(dec_gate) == {0, 1, 2}
    texts = [data.texts[r] for r in b["text_rows"][b["text_index"][-32:]].numpy()]
    for g, t, m in zip(dec_gate, texts, b["action_mask"][-32:].numpy()):
        assert t.startswith("Fly through the ")  # the simple form or the picture-only form
        # Actions are known only where the named gate is the one the expert flew to.
        if m.any():
            assert any(g == data.target_gate[row] for row in data.ep_first)


def test_pointer_targets_are_the_named_gates_cell(data):
    """Decision samples share a picture but name different gates: the pointer target must
    follow the named gate, and every target is the cell of that gate's projected centre."""
    norm = ActionNormalizer.from_data(data.actions)
    b = data.batch(np.random.default_rng(1), 64, norm, simple_prob=0.5, augment=False)
    g = data.pointer_grid
    cells, gates, uv = b["target_cell"].numpy(), b["target_gate"].numpy(), b["gate_uv"].numpy()
    seen = b["gate_seen"].numpy()
    for i in range(64):
        if not seen[i, gates[i]]:
            assert cells[i] == g * g
            continue
        x, y = cells[i] % g, cells[i] // g
        u, v = uv[i, gates[i]]
        assert -1 + 2 * x / g <= u <= -1 + 2 * (x + 1) / g and -1 + 2 * y / g <= v <= -1 + 2 * (y + 1) / g
    # The same first frame with different gates named: different targets (the gates stand in
    # different columns of the image at the start).
    groups: dict[bytes, dict[int, int]] = {}
    for i in range(64 - 32, 64):
        groups.setdefault(b["images"][i].numpy().tobytes(), {})[int(gates[i])] = int(cells[i])
    multi = [gc for gc in groups.values() if len(gc) > 1]
    assert multi and all(len(set(gc.values())) == len(gc) for gc in multi)


def test_augmentation_moves_the_labels_with_the_picture(data):
    norm = ActionNormalizer.from_data(data.actions)
    plain = data.batch(np.random.default_rng(5), 16, norm, simple_prob=0.5, augment=False)
    moved = data.batch(np.random.default_rng(5), 16, norm, simple_prob=0.5, augment=True)
    d = (moved["gate_uv"] - plain["gate_uv"]).numpy()
    assert np.abs(d).max() <= 2 * 4 / 128 + 1e-6  # at most the 4-px shift
    assert np.allclose(d[:, 0], d[:, 1]) and np.abs(d).max() > 0  # one shift per picture, for every gate
    assert data.ep_asset.min() >= 0 and data.ep_look.shape[1:] == (3, 3)
