"""The camera look (cognitivedrone.sim.lens): each effect does what it says, identity is exact."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from cognitivedrone.sim.lens import LensParams, _plan, apply_lens

ALL_ON = LensParams(exposure=1.2, gamma=1.1, white_balance=(1.05, 1.0, 0.9), vignette=0.3, defocus_px=1.0,
                    motion_blur_px=2.5, motion_angle_deg=30.0, noise_std=4.0, noise_shot=0.5, jpeg_quality=60)


def scene(size: int = 128, seed: int = 0) -> np.ndarray:
    """A render-like frame: gradients, hard-edged blocks and some fine texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    img = np.stack([xx * 200 // size + 20, yy * 200 // size + 20, np.full_like(xx, 90)], -1).astype(float)
    for _ in range(12):
        y, x, s = rng.integers(0, size, 3)
        img[y:y + s // 3 + 4, x:x + s // 3 + 4] = rng.integers(0, 256, 3)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def flat(value, size: int = 128) -> np.ndarray:
    return np.full((size, size, 3), value, np.uint8)


def hf_energy(img: np.ndarray) -> float:
    f = img.astype(float)
    return float((np.diff(f, axis=0) ** 2).mean() + (np.diff(f, axis=1) ** 2).mean())


# ------------------------------------------------------------------------------- identity

def test_identity_is_exact():
    img = scene()
    for p in (LensParams(), LensParams(motion_angle_deg=40.0), LensParams(out_size=128)):
        out = apply_lens(img, p)
        assert out.shape == img.shape and out.dtype == np.uint8 and out.tobytes() == img.tobytes()
    assert LensParams().is_identity and LensParams(motion_angle_deg=40.0).is_identity
    for p in (LensParams(out_size=64), LensParams(exposure=1.01), LensParams(motion_blur_px=1.0),
              LensParams(noise_std=1.0), LensParams(jpeg_quality=90), LensParams(white_balance=(1, 1, 0.99))):
        assert not p.is_identity


def test_output_is_a_new_writable_array_and_input_untouched():
    img = scene()
    before = img.copy()
    for p in (LensParams(exposure=1.5), LensParams(defocus_px=1.0), LensParams(out_size=64), LensParams(jpeg_quality=50)):
        out = apply_lens(img, p)
        assert out is not img and out.flags.writeable and out.dtype == np.uint8
        assert np.array_equal(img, before)


def test_non_contiguous_input():
    rgba = np.dstack([scene(), flat(255)[..., :1]])
    view = rgba[:, :, :3]
    p = LensParams(exposure=1.3, defocus_px=0.8, jpeg_quality=80)
    assert np.array_equal(apply_lens(view, p), apply_lens(np.ascontiguousarray(view), p))


# ------------------------------------------------------------------------------- tone

def test_exposure_brightens_linearly_and_clips():
    out = apply_lens(flat(60), LensParams(exposure=2.0))
    assert np.all(out == 120)
    assert apply_lens(scene(), LensParams(exposure=2.0)).mean() > scene().mean() + 30
    assert np.all(apply_lens(flat(200), LensParams(exposure=2.0)) == 255)
    assert np.all(apply_lens(flat(100), LensParams(exposure=0.5)) == 50)


def test_gamma():
    assert np.all(np.abs(apply_lens(flat(64), LensParams(gamma=2.0)).astype(int) - 128) <= 1)  # 255 * (64/255) ** 0.5
    assert np.all(np.abs(apply_lens(flat(128), LensParams(gamma=0.5)).astype(int) - 64) <= 1)  # 255 * (128/255) ** 2
    ends = np.concatenate([flat(0, 8), flat(255, 8)])
    assert np.array_equal(apply_lens(ends, LensParams(gamma=2.2)), ends)  # black and white stay put
    ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, 2).repeat(4, 0)
    out = apply_lens(ramp, LensParams(gamma=1.8)).astype(int)[0, :, 0]
    assert np.all(np.diff(out) >= 0)  # monotonic
    assert np.max(np.abs(out[16:] - 255 * (np.arange(16, 256) / 255) ** (1 / 1.8))) <= 1.0


def test_white_balance_shifts_channel_means():
    img = scene()
    out = apply_lens(img, LensParams(white_balance=(1.2, 1.0, 0.8)))
    m_in, m_out = img.reshape(-1, 3).mean(0), out.reshape(-1, 3).mean(0)
    assert m_out[0] > m_in[0] + 5 and abs(m_out[1] - m_in[1]) < 0.01 and m_out[2] < m_in[2] - 5


def test_vignette_darkens_corners_not_centre():
    out = apply_lens(flat(200), LensParams(vignette=0.5)).astype(int)
    c = out[62:66, 62:66]
    assert np.all(c >= 199)
    for corner in (out[0, 0], out[0, -1], out[-1, 0], out[-1, -1]):
        assert np.all(np.abs(corner - 100) <= 3)  # 200 * (1 - 0.5 * ~0.98)
    mid_edge = out[64, 0]
    assert np.all((mid_edge > corner) & (mid_edge < c[0, 0]))
    assert np.all(np.diff(out[64, 64:, 0]) <= 0)  # smooth, monotonic falloff


# ------------------------------------------------------------------------------- optics

def test_flat_stays_flat_through_the_filters():
    p = LensParams(defocus_px=1.7, motion_blur_px=6.0, motion_angle_deg=23.0)
    assert np.all(apply_lens(flat(137), p) == 137)


def test_defocus_lowers_high_frequencies():
    img = scene()
    e = [hf_energy(apply_lens(img, LensParams(defocus_px=s))) if s else hf_energy(img) for s in (0, 0.5, 1.0, 2.0)]
    assert e[0] > e[1] > e[2] > e[3]
    assert e[2] < 0.35 * e[0]
    assert abs(apply_lens(img, LensParams(defocus_px=2.0)).mean() - img.mean()) < 0.5


def test_motion_blur_is_directional():
    vertical_edge = np.zeros((64, 64, 3), np.uint8)
    vertical_edge[:, 32:] = 200
    horizontal_edge = np.ascontiguousarray(vertical_edge.transpose(1, 0, 2))
    horiz = LensParams(motion_blur_px=6.0, motion_angle_deg=0.0)
    vert = LensParams(motion_blur_px=6.0, motion_angle_deg=90.0)

    def edge_width(img, axis):
        prof = img.astype(int).take(32, axis=1 - axis)[:, 0]
        return int(np.count_nonzero((prof > 10) & (prof < 190)))

    assert edge_width(vertical_edge, 1) == 0
    assert edge_width(apply_lens(vertical_edge, horiz), 1) >= 5  # blurred across the edge
    assert np.array_equal(apply_lens(horizontal_edge, horiz), horizontal_edge)  # along it: sharp
    assert edge_width(apply_lens(horizontal_edge, vert), 0) >= 5
    assert np.array_equal(apply_lens(vertical_edge, vert), vertical_edge)
    img = scene()
    e0, e_h = hf_energy(img), hf_energy(apply_lens(img, horiz))
    assert e_h < 0.6 * e0
    dx = lambda a: (np.diff(a.astype(float), axis=1) ** 2).mean()  # noqa: E731
    dy = lambda a: (np.diff(a.astype(float), axis=0) ** 2).mean()  # noqa: E731
    out = apply_lens(img, horiz)
    assert dx(out) / dx(img) < 0.5 * dy(out) / dy(img)


def test_oblique_motion_blur_smears_along_its_angle():
    dot = np.zeros((33, 33, 3), np.uint8)
    dot[16, 16] = 255
    for angle, (sy, sx) in ((45.0, (-1, 1)), (135.0, (-1, -1))):  # counter-clockwise on screen: y is down
        out = apply_lens(dot, LensParams(motion_blur_px=10.0, motion_angle_deg=angle)).astype(int)[..., 0]
        on = out[16 + sy * 3, 16 + sx * 3] + out[16 - sy * 3, 16 - sx * 3]
        off = out[16 + sy * 3, 16 - sx * 3] + out[16 - sy * 3, 16 + sx * 3]
        assert on > 20 and off == 0


def test_fixed_point_filter_matches_a_2d_reference():
    img = scene(96, seed=5)
    p = LensParams(defocus_px=1.3, motion_blur_px=5.5, motion_angle_deg=-37.0)
    plan = _plan(p, 96, 96)
    py, px = plan.pad
    pad = np.pad(img.astype(np.int64), ((py, py), (px, px), (0, 0)), mode="edge")
    wp = pad.shape[1]
    for centre, pairs, _ in plan.filters:
        acc = centre * pad
        for off, wt in pairs:
            dy = round(off / 3 / wp)
            dx = off // 3 - dy * wp
            acc += wt * (np.roll(pad, (-dy, -dx), (0, 1)) + np.roll(pad, (dy, dx), (0, 1)))
        pad = (acc + 128) >> 8
    ref = pad[py:py + 96, px:px + 96]
    assert np.array_equal(apply_lens(img, p), ref)


# ------------------------------------------------------------------------------- noise

def test_noise_std_on_flat_grey():
    rng = np.random.default_rng(1)
    for std in (2.0, 5.0, 12.0):
        out = apply_lens(flat(128, 256), LensParams(noise_std=std), rng).astype(float)
        assert abs(out.std() - np.sqrt(std ** 2 + 1 / 12)) < 0.03 * std
        assert abs(out.mean() - 128) < 0.1
    out = apply_lens(flat(100, 256), LensParams(noise_shot=0.5), rng).astype(float)
    assert abs(out.std() - np.sqrt(0.5 * 100)) < 0.2  # variance = noise_shot * intensity
    assert abs(apply_lens(flat(25, 256), LensParams(noise_shot=0.5), rng).std() - np.sqrt(12.5)) < 0.15
    # independent between neighbours and channels
    n = apply_lens(flat(128, 256), LensParams(noise_std=6.0), rng).astype(float) - 128
    assert abs(np.corrcoef(n[:, :-1].ravel(), n[:, 1:].ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(n[..., 0].ravel(), n[..., 1].ravel())[0, 1]) < 0.02


def test_noise_needs_rng_and_is_deterministic_per_seed():
    img = scene()
    with pytest.raises(ValueError, match="rng"):
        apply_lens(img, LensParams(noise_std=3.0))
    with pytest.raises(ValueError, match="rng"):
        apply_lens(img, LensParams(noise_shot=1.0), rng=3)
    apply_lens(img, LensParams(exposure=1.1))  # no noise: no rng needed
    a = apply_lens(img, ALL_ON, np.random.default_rng(7))
    b = apply_lens(img, ALL_ON, np.random.default_rng(7))
    c = apply_lens(img, ALL_ON, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    rng = np.random.default_rng(7)
    assert not np.array_equal(apply_lens(img, ALL_ON, rng), apply_lens(img, ALL_ON, rng))  # fresh noise per frame


def test_saturated_pixels_stay_at_full_scale():
    out = apply_lens(flat(200, 64), LensParams(exposure=2.0, noise_std=5.0), np.random.default_rng(0))
    assert np.all(out == 255)


# ------------------------------------------------------------------------------- jpeg, size

def test_jpeg_changes_pixels_but_keeps_the_mean():
    img = scene()
    out = apply_lens(img, LensParams(jpeg_quality=10))
    assert np.abs(out.astype(int) - img).mean() > 2.0
    assert np.all(np.abs(out.reshape(-1, 3).mean(0) - img.reshape(-1, 3).mean(0)) < 3.0)
    hi = apply_lens(img, LensParams(jpeg_quality=95))
    assert np.abs(hi.astype(int) - img).mean() < np.abs(out.astype(int) - img).mean()


def test_out_size():
    img = scene(256)
    for n in (128, 100, 64, 300):
        out = apply_lens(img, LensParams(out_size=n))
        assert out.shape == (n, n, 3) and out.dtype == np.uint8
        assert abs(out.mean() - img.mean()) < 1.5
    checker = ((np.indices((256, 256)).sum(0) % 2) * 255).astype(np.uint8)
    checker = np.repeat(checker[..., None], 3, 2)
    grey = apply_lens(checker, LensParams(out_size=128)).astype(int)  # box: each output pixel averages 2x2
    assert np.all(np.abs(grey - 127.5) <= 1)
    grey4 = apply_lens(checker, LensParams(out_size=64)).astype(int)
    assert np.all(np.abs(grey4 - 127.5) <= 1)
    small = apply_lens(scene(64), LensParams(out_size=128))  # bilinear up: no blocks
    assert small.shape == (128, 128, 3)
    assert hf_energy(small) < hf_energy(np.repeat(np.repeat(scene(64), 2, 0), 2, 1))


def test_effects_run_at_the_output_scale():
    img = scene(256)
    p = LensParams(out_size=128, defocus_px=1.0, noise_std=4.0)
    out = apply_lens(img, p, np.random.default_rng(0))
    assert out.shape == (128, 128, 3)
    noise = apply_lens(flat(90, 256), LensParams(out_size=128, noise_std=4.0), np.random.default_rng(0))
    assert abs(noise.astype(float).std() - 4.0) < 0.2  # noise added after the shrink, not averaged away


def test_bad_images():
    with pytest.raises(ValueError, match="uint8"):
        apply_lens(scene().astype(np.float32), LensParams(exposure=2.0))
    with pytest.raises(ValueError, match="uint8"):
        apply_lens(scene()[..., 0], LensParams(exposure=2.0))
    with pytest.raises(ValueError, match="square"):
        apply_lens(scene()[:100], LensParams(out_size=64))
    assert apply_lens(scene()[:100], LensParams(exposure=1.5, defocus_px=1.0)).shape == (100, 128, 3)


# ------------------------------------------------------------------------------- params

@pytest.mark.parametrize("field, bad", [
    ("out_size", 0), ("out_size", 7), ("out_size", 128.0), ("out_size", True), ("out_size", 5000),
    ("exposure", 0.0), ("exposure", -1.0), ("exposure", float("nan")), ("exposure", float("inf")), ("exposure", 17.0),
    ("gamma", 0.1), ("gamma", 6.0), ("gamma", "1"),
    ("white_balance", (1.0, 1.0)), ("white_balance", (1.0, 0.0, 1.0)), ("white_balance", (1.0, float("nan"), 1.0)),
    ("white_balance", 1.0), ("white_balance", "abc"),
    ("vignette", -0.1), ("vignette", 1.5), ("defocus_px", -1.0), ("defocus_px", 100.0),
    ("motion_blur_px", -0.5), ("motion_blur_px", 65.0), ("motion_angle_deg", float("nan")), ("motion_angle_deg", 400.0),
    ("noise_std", -1.0), ("noise_std", 65.0), ("noise_shot", -0.1), ("noise_shot", float("inf")),
    ("jpeg_quality", 4), ("jpeg_quality", 101), ("jpeg_quality", 50.5), ("jpeg_quality", False),
])
def test_validation_names_the_field_and_range(field, bad):
    with pytest.raises(ValueError, match=rf"LensParams\.{field} must .* [\[(]") as e:
        LensParams(**{field: bad})
    assert field in str(e.value)


def test_fields_are_coerced_to_plain_types():
    p = LensParams(out_size=np.int64(96), exposure=2, white_balance=[1, 1.1, np.float64(0.9)], jpeg_quality=np.int32(70))
    assert type(p.out_size) is int and type(p.exposure) is float and type(p.jpeg_quality) is int
    assert p.white_balance == (1.0, 1.1, 0.9) and all(type(v) is float for v in p.white_balance)
    hash(p)


def test_dict_round_trip():
    for p in (LensParams(), ALL_ON, LensParams(out_size=96, jpeg_quality=None, gamma=2.2)):
        d = p.to_dict()
        assert LensParams.from_dict(d) == p
        assert LensParams.from_dict(json.loads(json.dumps(d))) == p
        assert set(d) == set(LensParams.__dataclass_fields__)
    assert LensParams.from_dict({"exposure": 1.5}) == LensParams(exposure=1.5)
    with pytest.raises(ValueError, match="unknown field.*bogus.*sharpness"):
        LensParams.from_dict({"exposure": 1.0, "sharpness": 2, "bogus": 1})
    with pytest.raises(ValueError, match="vignette"):
        LensParams.from_dict({"vignette": 2.0})


# ------------------------------------------------------------------------------- speed

def test_all_on_pipeline_is_fast():
    img = scene()
    rng = np.random.default_rng(0)
    apply_lens(img, ALL_ON, rng)  # build the cached plan
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        apply_lens(img, ALL_ON, rng)
    per_frame = (time.perf_counter() - t0) / n
    identity_params = LensParams()
    t0 = time.perf_counter()
    for _ in range(n):
        apply_lens(img, identity_params, rng)
    identity = (time.perf_counter() - t0) / n
    print(f"\napply_lens 128x128: all effects on {per_frame * 1e3:.3f} ms/frame, identity {identity * 1e6:.1f} us/frame")
    assert per_frame < 5e-3
    assert identity < 1e-4
    t0 = time.perf_counter()
    for _ in range(n):
        LensParams(**{**ALL_ON.to_dict(), "out_size": 128})
    assert (time.perf_counter() - t0) / n < 1e-4  # cheap enough to build per frame
