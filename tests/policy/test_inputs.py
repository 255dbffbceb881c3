"""Camera frames of any size fitted to the policy's square input."""

import numpy as np

from cognitivedrone.policy.inputs import fit_image


def test_a_frame_twice_the_size_is_averaged_in_2x2_blocks():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    out = fit_image(frame, 128)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    expect = frame[:2, :2].astype(float).mean(axis=(0, 1))
    assert np.abs(out[0, 0] - expect).max() <= 0.5


def test_a_wide_frame_keeps_its_centre_square():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, :80] = 255  # the left and right bands fall outside the centre 480x480
    frame[:, -80:] = 255
    out = fit_image(frame, 128)
    assert out.shape == (128, 128, 3) and out.max() == 0


def test_the_right_size_passes_through_and_a_small_one_is_repeated():
    frame = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    assert np.array_equal(fit_image(frame, 4), frame)
    big = fit_image(frame, 8)
    assert big.shape == (8, 8, 3) and np.array_equal(big[::2, ::2], frame)
