"""The filmcnn policy: configuration, network, losses, processing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cognitivedrone.policy.filmcnn import ActionNormalizer, FilmCnnConfig, FilmCnnPolicy, images_to_tensor

HEADS = ["chunk_l1", "tokens256"]



def tiny_config(head: str, **kw) -> FilmCnnConfig:
    """Small and fast; the same code paths as the default."""
    base = dict(image_size=64, channels=(8, 8, 16, 16, 16), text_tokens=8, text_dim=24, text_queries=2,
                text_hidden=16, embed_dim=32, spatial_channels=8, head_hidden=32, head=head, dropout=0.0)
    base.update(kw)
    return FilmCnnConfig(**base)


def make_batch(cfg: FilmCnnConfig, b: int = 6, t: int | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    t = t or cfg.chunk_size
    lengths = torch.randint(3, cfg.text_tokens + 1, (b,), generator=g)
    mask = torch.arange(cfg.text_tokens)[None] < lengths[:, None]
    tokens = torch.randn(b, cfg.text_tokens, cfg.text_dim, generator=g) * mask[..., None]
    return {
        "images": torch.rand(b, 3, cfg.image_size, cfg.image_size, generator=g),
        "text_tokens": tokens,
        "text_mask": mask,
        "text_pooled": torch.nn.functional.normalize(torch.randn(b, cfg.text_dim, generator=g), dim=1),
        "actions": torch.rand(b, t, cfg.action_dim, generator=g) * 2 - 1,
        "action_mask": torch.ones(b, t, dtype=torch.bool),
    }


# -- configuration -------------------------------------------------------------------------------


def test_config_roundtrip_and_json_lists():
    cfg = FilmCnnConfig(head="tokens256", chunk_size=8)
    d = cfg.to_dict()
    assert d["channels"] == list(cfg.channels) and d["type"] == "filmcnn"
    assert FilmCnnConfig.from_dict(d) == cfg


@pytest.mark.parametrize(
    "change, exc, match",
    [
        ({"chanels": [8, 8]}, ValueError, "unknown config keys"),
        ({"image_size": 128.0}, TypeError, "image_size"),
        ({"image_size": True}, TypeError, "image_size"),
        ({"channels": "32,48"}, TypeError, "channels"),
        ({"channels": [8, 8.5, 16, 16, 16]}, TypeError, "channels"),
        ({"head": 3}, TypeError, "head"),
        ({"head": "diffusion"}, ValueError, "head"),
        ({"type": "act"}, ValueError, "type"),
        ({"image_size": 100}, ValueError, "multiple"),
        ({"film_stages": [0, 5]}, ValueError, "film_stages"),
        ({"dropout": 1.5}, ValueError, "dropout"),
    ],
)
def test_config_from_dict_rejects(change, exc, match):
    d = FilmCnnConfig().to_dict()
    d.update(change)
    with pytest.raises(exc, match=match):
        FilmCnnConfig.from_dict(d)


def test_config_float_field_accepts_int():
    assert FilmCnnConfig.from_dict({"dropout": 0}).dropout == 0


# -- network -------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", HEADS)
def test_default_config_is_small(head):
    cfg = FilmCnnConfig(head=head)
    model = FilmCnnPolicy(cfg).eval()
    n = model.num_parameters()
    assert n < 2_000_000, n
    assert n * 4 < 20e6  # float32 checkpoint under 20 MB
    with torch.inference_mode():
        emb = model.text_head(torch.randn(1, 32, 384), torch.ones(1, 32, dtype=torch.bool), torch.randn(1, 384))
        assert emb.shape == (1, 256)
        act = model.predict(torch.rand(1, 3, 128, 128), emb)
    assert act.shape == (1, 4)
    assert cfg.feature_map_size == 4


@pytest.mark.parametrize("head", HEADS)
def test_shapes(head):
    cfg = tiny_config(head)
    model = FilmCnnPolicy(cfg)
    batch = make_batch(cfg)
    emb = model.text_head(batch["text_tokens"], batch["text_mask"], batch["text_pooled"])
    assert emb.shape == (6, cfg.embed_dim)
    out = model(batch["images"], emb)
    expected = (6, cfg.chunk_size, 4) if head == "chunk_l1" else (6, 4, cfg.n_bins)
    assert out.shape == expected
    loss, metrics = model.loss(batch)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss.requires_grad
    assert metrics["loss"] == pytest.approx(float(loss.detach())) and "l1_first" in metrics
    model.eval()
    pred = model.predict(batch["images"], emb)
    assert pred.shape == (6, 4) and pred.abs().max() <= 1.0
    if head == "tokens256":
        assert torch.isin(pred, model.bin_centers).all()


@pytest.mark.parametrize("head", HEADS)
def test_a_few_steps_lower_the_loss(head):
    torch.manual_seed(0)
    cfg = tiny_config(head, n_bins=16)
    model = FilmCnnPolicy(cfg).train()
    batch = make_batch(cfg, b=8)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(40):
        loss, _ = model.loss(batch)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = float(model.loss(batch)[0])
    assert final < 0.6 * first, (first, final)


def test_chunk_loss_ignores_steps_past_the_episode_end():
    cfg = tiny_config("chunk_l1")
    model = FilmCnnPolicy(cfg).eval()
    batch = make_batch(cfg)
    batch["action_mask"][:, 2:] = False
    loss_a, _ = model.loss(batch)
    batch["actions"][:, 2:] = 0.987  # whatever lies past the end must not matter
    loss_b, _ = model.loss(batch)
    assert torch.equal(loss_a, loss_b)
    # Only valid steps are averaged: equals the loss over the first two steps.
    with torch.no_grad():
        emb = model.text_head(batch["text_tokens"], batch["text_mask"], batch["text_pooled"])
        out = model(batch["images"], emb)
    assert float(loss_a.detach()) == pytest.approx(float((out[:, :2] - batch["actions"][:, :2]).abs().mean()), rel=1e-5)


def test_tokens_loss_uses_the_first_action_and_its_mask():
    cfg = tiny_config("tokens256")
    model = FilmCnnPolicy(cfg).eval()
    batch = make_batch(cfg, t=3)
    loss_a, m = model.loss(batch)
    batch["actions"][:, 1:] = 0.5
    assert torch.equal(model.loss(batch)[0], loss_a)
    assert 0.0 <= m["bin_accuracy"] <= 1.0
    batch["action_mask"][:3, 0] = False
    batch["actions"][:3, 0] = -0.9
    loss_c, _ = model.loss(batch)
    batch["actions"][:3, 0] = 0.9
    assert torch.equal(model.loss(batch)[0], loss_c)
    # [B, 4] actions are read as a chunk of one.
    batch2 = make_batch(cfg, t=1)
    batch2["actions"] = batch2["actions"][:, 0]
    del batch2["action_mask"]
    assert torch.isfinite(model.loss(batch2)[0])


def test_chunk_loss_needs_a_full_chunk():
    cfg = tiny_config("chunk_l1", chunk_size=4)
    with pytest.raises(ValueError, match="4 actions"):
        FilmCnnPolicy(cfg).loss(make_batch(cfg, t=2))


def test_text_index_runs_the_text_head_once_per_instruction():
    cfg = tiny_config("chunk_l1")
    model = FilmCnnPolicy(cfg).eval()
    batch = make_batch(cfg, b=6)
    index = torch.tensor([0, 1, 0, 2, 1, 0])
    full = dict(batch)
    for k in ("text_tokens", "text_mask", "text_pooled"):
        full[k] = batch[k][index]
    compact = dict(batch, text_index=index)
    for k in ("text_tokens", "text_mask", "text_pooled"):
        compact[k] = batch[k][:3]
    assert float(model.loss(full)[0].detach()) == pytest.approx(float(model.loss(compact)[0].detach()), rel=1e-6)


def test_text_head_ignores_padding_and_sees_tokens():
    cfg = tiny_config("chunk_l1")
    model = FilmCnnPolicy(cfg).eval()
    b = make_batch(cfg, b=2)
    with torch.no_grad():
        e = model.text_head(b["text_tokens"], b["text_mask"], b["text_pooled"])
        padded = b["text_tokens"].clone()
        padded[~b["text_mask"]] = 5.0
        assert torch.allclose(model.text_head(padded, b["text_mask"], b["text_pooled"]), e, atol=1e-6)
        # Same pooled vector, one token changed: the embedding changes (token-level information).
        changed = b["text_tokens"].clone()
        changed[:, 1] += torch.randn(cfg.text_dim)  # (a constant shift would vanish in the LayerNorm)
        assert not torch.allclose(model.text_head(changed, b["text_mask"], b["text_pooled"]), e, atol=1e-3)
        # A row without any valid token does not produce NaN.
        empty = torch.zeros_like(b["text_mask"])
        assert torch.isfinite(model.text_head(b["text_tokens"], empty, b["text_pooled"])).all()


def test_bins_cover_minus_one_to_one():
    model = FilmCnnPolicy(tiny_config("tokens256"))
    a = torch.tensor([-1.0, -0.999, 0.0, 0.999, 1.0, 2.0])
    assert model.action_to_bins(a).tolist() == [0, 0, 128, 255, 255, 255]
    assert torch.equal(model.action_to_bins(model.bin_centers), torch.arange(256))


def test_film_starts_as_identity_and_conditions_after_training_moves_it():
    cfg = tiny_config("chunk_l1")
    model = FilmCnnPolicy(cfg).eval()
    x = torch.rand(1, 3, 64, 64)
    e1, e2 = torch.randn(2, 1, cfg.embed_dim)
    assert torch.all(model.film(e1) == 0)
    with torch.no_grad():
        model.film.weight.normal_(0, 0.1)
        f1 = model.stages[1](model.stages[0](x), model.film(e1)[:, : 2 * 8].chunk(2, dim=1))
        f2 = model.stages[1](model.stages[0](x), model.film(e2)[:, : 2 * 8].chunk(2, dim=1))
    assert not torch.allclose(f1, f2)


def test_group_norm_variant_runs():
    cfg = tiny_config("chunk_l1", norm="group", channels=(8, 8, 16, 16, 16))
    loss, _ = FilmCnnPolicy(cfg).loss(make_batch(cfg, b=2))
    assert torch.isfinite(loss)


# -- processing ----------------------------------------------------------------------------------


def test_action_normalizer():
    q01, q99 = np.array([-1.0, -2.0, 0.0, 0.5]), np.array([1.0, 2.0, 1.0, 0.5])
    n = ActionNormalizer(q01, q99)
    a = np.array([[0.5, -2.0, 0.25, 0.5], [3.0, -9.0, 1.0, 0.7]])
    z = n.normalize(a)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, [[0.5, -1.0, -0.5, 0.0], [1.0, -1.0, 1.0, 0.0]])
    np.testing.assert_allclose(n.unnormalize(z[0]), a[0], atol=1e-6)  # constant dim -> its value
    back = ActionNormalizer.from_dict(n.to_dict())
    np.testing.assert_array_equal(back.q01, q01)
    assert n.to_dict()["names"] == ["vx", "vy", "vz", "yaw_rate"]
    assert n.to_dict()["units"] == ["m/s", "m/s", "m/s", "rad/s"]
    with pytest.raises(ValueError, match="q99"):
        ActionNormalizer([1.0, 0, 0, 0], [0.0, 1, 1, 1])
    with pytest.raises(ValueError, match="missing"):
        ActionNormalizer.from_dict({"q01": [0, 0, 0, 0]})
    data = np.random.default_rng(0).uniform(-1, 1, size=(1000, 4))
    fit = ActionNormalizer.from_data(data)
    assert np.all(fit.q01 < -0.9) and np.all(fit.q99 > 0.9)


def test_images_to_tensor():
    img = np.random.default_rng(0).integers(0, 256, size=(2, 5, 7, 3), dtype=np.uint8)
    t = images_to_tensor(img)
    assert t.shape == (2, 3, 5, 7) and t.dtype == torch.float32
    assert float(t[1, 2, 4, 6]) == pytest.approx(img[1, 4, 6, 2] / 255.0)
    assert images_to_tensor(torch.from_numpy(img[0])).shape == (1, 3, 5, 7)
    with pytest.raises(ValueError, match="uint8"):
        images_to_tensor(img.astype(np.float32))
    with pytest.raises(ValueError, match="3"):
        images_to_tensor(img[..., :2])


def _binding_batch(cfg: FilmCnnConfig, b: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    """Three coloured blocks in random cells of the pointer's grid; the "instruction" is a fixed
    random token sequence per colour, and the target is the cell of the block it names. Neither
    the image alone nor the text alone says where to point: only their product does."""
    s = cfg.pointer_map_size
    cell_px = cfg.image_size // s
    colours = torch.tensor([[1.0, 0.1, 0.1], [0.1, 1.0, 0.1], [0.1, 0.1, 1.0]])
    words = torch.randn(3, cfg.text_tokens, cfg.text_dim, generator=torch.Generator().manual_seed(99))
    batch = make_batch(cfg, b=b, seed=int(torch.randint(1 << 30, (1,), generator=g)))
    images = torch.full((b, 3, cfg.image_size, cfg.image_size), 0.5)
    named = torch.randint(3, (b,), generator=g)
    target = torch.zeros(b, dtype=torch.long)
    for i in range(b):
        cells = torch.randperm(s * s, generator=g)[:3]
        for k in range(3):
            y, x = divmod(int(cells[k]), s)
            images[i, :, y * cell_px:(y + 1) * cell_px, x * cell_px:(x + 1) * cell_px] = colours[k][:, None, None]
        target[i] = cells[named[i]]
    batch.update(images=images, text_tokens=words[named], text_mask=torch.ones(b, cfg.text_tokens, dtype=torch.bool),
                 text_pooled=torch.nn.functional.normalize(words[named].mean(1), dim=1), target_cell=target)
    return batch


def test_pointer_learns_to_find_what_the_text_names():
    """The pointer binds instruction and image: on held-out layouts it points at the named block.
    (A gate classifier on concatenated text and image features stayed at chance on this kind of
    task; this is the property the policy's instruction following rests on.)"""
    torch.manual_seed(0)
    cfg = tiny_config("chunk_l1", channels=(16, 16, 32, 32), film_stages=(1, 2, 3), pointer_loss_weight=1.0, perception_loss_weight=0.0)
    model = FilmCnnPolicy(cfg)
    g = torch.Generator().manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(200):
        loss, m = model.loss(_binding_batch(cfg, 32, g))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    test = _binding_batch(cfg, 200, torch.Generator().manual_seed(7))
    emb = model.text_head(test["text_tokens"], test["text_mask"], test["text_pooled"])
    with torch.no_grad():
        hit = (model.point(test["images"], emb)[:, :-1].argmax(1) == test["target_cell"]).float().mean()
    assert hit > 0.9, f"pointer found the named block in {hit:.0%} of held-out images"
    assert "pointer_loss" not in model.loss(make_batch(cfg))[1]


def test_perception_loss_reads_what_is_at_each_point():
    torch.manual_seed(0)
    cfg = tiny_config("chunk_l1", perception_loss_weight=1.0, n_assets=5)
    model = FilmCnnPolicy(cfg)
    b = 8
    batch = make_batch(cfg, b=b, seed=2)
    gen = torch.Generator().manual_seed(3)
    batch.update(
        gate_uv=torch.rand(b, 3, 2, generator=gen) * 2 - 1, board_uv=torch.rand(b, 3, 2, generator=gen) * 2 - 1,
        gate_seen=torch.ones(b, 3, dtype=torch.bool), board_seen=torch.ones(b, 3, dtype=torch.bool),
        gate_look=torch.stack([torch.randint(n, (b, 3), generator=gen) for n in (2, 3, 3)], -1),
        board_asset=torch.randint(5, (b, 3), generator=gen),
    )
    _, m0 = model.loss(batch)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss, m = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert m["perception_loss"] < 0.5 * m0["perception_loss"]
    # Nothing in view: nothing to learn from, and no NaN from an empty mean.
    batch.update(gate_seen=torch.zeros(b, 3, dtype=torch.bool), board_seen=torch.zeros(b, 3, dtype=torch.bool))
    assert model.loss(batch)[1]["perception_loss"] == 0.0
