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
        assert t.startswith("Fly through the ")
        # Actions are known only where the named gate is the one the expert flew to.
        if m.any():
            assert any(g == data.target_gate[row] for row in data.ep_first)
