import math

import numpy as np
import pytest

from cognitivedrone.bench.results import EpisodeRecording, GateMarker
from cognitivedrone.bench.video import (
    GATE_RGB,
    compose_frame,
    draw_top_view,
    world_to_pixel,
    write_episode_video,
)


def gate(x, y, color, half_width=0.6, yaw=0.0):
    return GateMarker(x=x, y=y, z=1.2, yaw=yaw, size="big", shape="square", color=color, half_width=half_width)


GATES = [gate(4, 4, "red"), gate(5, 0, "green"), gate(4, -4, "blue")]


def near(img, col, row, rgb, r=2):
    patch = img[max(row - r, 0): row + r + 1, max(col - r, 0): col + r + 1].reshape(-1, 3).astype(int)
    return bool(np.any(np.all(np.abs(patch - np.array(rgb)) <= 10, axis=1)))


def test_world_to_pixel_convention():
    # x up the image, y to the left
    c0, r0 = world_to_pixel(0, 0)
    c1, r1 = world_to_pixel(1, 0)
    c2, r2 = world_to_pixel(0, 1)
    assert c1 == c0 and r1 < r0
    assert r2 == r0 and c2 < c0
    assert world_to_pixel(5, 0) == (128, 64)


def test_top_view_shape_and_gate_colours():
    img = draw_top_view(GATES, [(-1.0, 0.0, 0.75)], 0.0, target_index=1)
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    col, row = world_to_pixel(5, 0)
    assert near(img, col, row, GATE_RGB["green"])
    # red gate at y=+4 is on the LEFT half, blue at y=-4 on the right
    col, row = world_to_pixel(4, 4)
    assert col < 128 and near(img, col, row, GATE_RGB["red"])
    col, row = world_to_pixel(4, -4)
    assert col > 128 and near(img, col, row, GATE_RGB["blue"])
    red = np.all(np.abs(img.astype(int) - GATE_RGB["red"]) <= 10, axis=2)
    cols = np.nonzero(red)[1]
    assert cols.size and cols.max() < 128


def test_top_view_red_gate_at_centre_and_gate_orientation():
    img = draw_top_view([gate(5, 0, "red", half_width=1.0)], [], None, target_index=0)
    col, row = world_to_pixel(5, 0)
    assert near(img, col, row, GATE_RGB["red"], r=0)
    # yaw 0: the opening runs along world y, i.e. horizontally in the image
    s = 256 / 12
    assert near(img, int(col + 0.8 * s), row, GATE_RGB["red"], r=0)
    assert not near(img, col, int(row - 0.8 * s), GATE_RGB["red"], r=0)
    # yaw 90 deg: the opening runs along world x, vertically in the image
    img = draw_top_view([gate(5, 0, "red", half_width=1.0, yaw=math.pi / 2)], [], None, target_index=0)
    assert near(img, col, int(row - 0.8 * s), GATE_RGB["red"], r=0)
    assert not near(img, int(col + 0.8 * s), row, GATE_RGB["red"], r=0)


def test_top_view_trail_and_drone():
    pos = [(-1.0 + 0.5 * i, 0.0, 0.75) for i in range(8)]
    a = draw_top_view(GATES, pos[:1], 0.0, 1)
    b = draw_top_view(GATES, pos, 0.0, 1)
    assert not np.array_equal(a, b)
    col, row = world_to_pixel(*pos[-1][:2])
    assert near(b, col, row, (255, 255, 255))  # drone drawn at the last position
    c = draw_top_view(GATES, pos, math.pi / 2, 1, size=128)  # other yaw and size
    assert c.shape == (128, 128, 3)


def test_compose_frame_size_is_fixed():
    top = draw_top_view(GATES, [(0, 0, 1)], 0.0, 0)
    fpv = np.full((128, 128, 3), 77, np.uint8)
    short = compose_frame(fpv, top, "fly through the red gate", "t = 0.00 s")
    long = compose_frame(fpv, top, "fly through the gate " * 40, "t = 1.00 s")
    assert short.shape == long.shape
    assert short.dtype == np.uint8 and short.shape[1] == 256 + 4 + 256 and short.shape[0] > 256
    assert np.all(short[:256, :256] == 77)  # upscaled FPV fills the left panel
    assert np.array_equal(short[:256, -256:], top)


def test_write_episode_video(tmp_path):
    imageio = pytest.importorskip("imageio.v2")
    rng = np.random.default_rng(0)
    n, hz = 10, 10.0
    rec = EpisodeRecording(
        episode_id="ep-007", prompt="fly through the green gate", outcome="wrong_gate", target_index=1,
        gates=GATES, control_hz=hz,
        fpv=[rng.integers(0, 255, (128, 128, 3), dtype=np.uint8) for _ in range(n)],
        positions=[(-1.0 + 0.4 * i, 0.1 * i, 0.75) for i in range(n)],
        yaws=[0.0] * n,
        captions=["the rewritten instruction"] * 5,
    )
    path = write_episode_video(rec, tmp_path / "videos" / "ep-007.mp4")
    assert path.exists() and path.stat().st_size > 0
    with imageio.get_reader(str(path)) as reader:
        meta = reader.get_meta_data()
        frames = [f for f in reader]
    assert len(frames) == n + int(round(hz))  # + 1 s held on the outcome
    h, w = frames[0].shape[:2]
    assert h % 2 == 0 and w % 2 == 0
    assert (h, w) == compose_frame(rec.fpv[0], draw_top_view(GATES, [], 0.0, 1), "", "").shape[:2]
    assert meta["fps"] == pytest.approx(hz)
    assert write_episode_video(rec, tmp_path / "fast.mp4", fps=20.0).exists()


def test_write_episode_video_without_frames(tmp_path):
    rec = EpisodeRecording("ep-0", "p", "timeout", 0, GATES, 10.0)
    assert write_episode_video(rec, tmp_path / "empty.mp4").stat().st_size > 0
