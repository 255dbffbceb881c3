"""Looks: reproducible from their seed, classic is today's world, held-out values stay held out."""

import hashlib
import json

import numpy as np
import pytest

from cognitivedrone.sim.look import HELD_OUT, HELD_OUT_LOOKS, RANGES, Look, episode_look, look_names, sample_look

# sha256 of frames rendered by the code before looks existed (cognitivedrone-v1, first three
# episodes: the start frame, the frame after five steps of (1.0, 0.2, 0.1, 0.3), and a 256 px view).
CLASSIC_FRAMES = {
    "cognitivedrone-v1-0000": ["9a80c91e41ef9ab077765fc1c0693c4d3a4afec0a7e052510425848f7261577c",
                               "d674097bff11fe676cb3bbb77354f101fb91dbbc7b776d1503d0f7b05c52e306",
                               "ca85ef687b9b37e5ce0c2170f4af0c06c020ae53c54bb07c472e71396cb95112"],
    "cognitivedrone-v1-0001": ["88e365ed2ab290fee232287054310e71a12e0ffe092d14311b2b20a234cda095",
                               "9b890b78e4983ee958c15aeffb61f96aed84b37f6ec1ebd17e6aa7b751065f91",
                               "09811c3b7d51cfb4e97cb0c68e2412530e70421a110f1c31f5719ca28a080898"],
    "cognitivedrone-v1-0002": ["f2d334f28500bea27f5bba4e77457435a95fa333ef520e2b6c611bbc8e34c394",
                               "bb80997352834188a66ff837f1368b73776fdcd9c6b59a4ef2f27639a9805602",
                               "5bf395c60c8dc9ff3320b1992ceee1875824f5ee6139287ac14fce5083ff7e48"],
}


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.mark.parametrize("name", look_names())
def test_a_look_is_reproducible_from_its_seed(name):
    assert sample_look(name, 7) == sample_look(name, 7)
    assert Look.from_dict(json.loads(json.dumps(sample_look(name, 7).to_dict()))) == sample_look(name, 7)
    if name == "randomized":
        assert sample_look(name, 7) != sample_look(name, 8)


def test_episode_looks_differ_per_episode_and_repeat_per_run():
    a = [episode_look("randomized", 0, s) for s in (11, 12, 13)]
    assert len({x.digest() for x in a}) == 3
    assert a == [episode_look("randomized", 0, s) for s in (11, 12, 13)]
    assert episode_look("randomized", 1, 11) != a[0]
    assert episode_look("classic", 5, 11) == Look("classic", 11)


def test_unknown_look_and_bad_values_are_refused():
    with pytest.raises(ValueError, match="unknown look 'studoi'"):
        sample_look("studoi", 0)
    with pytest.raises(ValueError, match="unknown field"):
        Look.from_dict({**Look().to_dict(), "colour": 1})
    with pytest.raises(ValueError, match="opening_scale"):
        Look.from_dict({**Look().to_dict(), "gates": {**Look().to_dict()["gates"], "opening_scale": 1.5}})


def _in_bands(x, bands) -> bool:
    return any(a <= x <= b for a, b in bands)


def test_held_out_values_never_appear_in_randomized_draws():
    fov_ok = RANGES["fov_deg"]
    for seed in range(2000):
        look = sample_look("randomized", seed)
        assert look.billboard.art not in HELD_OUT["art"]
        assert _font_family(look.billboard.font) not in HELD_OUT["font_family"]
        assert not _in_bands(look.camera.fov_deg, HELD_OUT["fov_deg"]) and _in_bands(look.camera.fov_deg, fov_ok)
        assert look.scene.floor.pattern not in HELD_OUT["floor_pattern"]
        assert look.scene.walls.pattern not in HELD_OUT["wall_pattern"]
        assert _saturation(look.light.color) <= RANGES["light_tint"] + 1e-6


def test_each_held_out_look_uses_something_training_never_sees():
    for name in HELD_OUT_LOOKS:
        for seed in range(20):
            look = sample_look(name, seed)
            held = [look.billboard.art in HELD_OUT["art"],
                    _font_family(look.billboard.font) in HELD_OUT["font_family"],
                    _in_bands(look.camera.fov_deg, HELD_OUT["fov_deg"]),
                    look.scene.floor.pattern in HELD_OUT["floor_pattern"],
                    _saturation(look.light.color) > 0.3]
            assert any(held), (name, seed)


def _font_family(font: str) -> str:
    from cognitivedrone.tasks.assets import FONTS

    return FONTS[font].family


def _saturation(rgb) -> float:
    import colorsys

    return colorsys.rgb_to_hsv(*rgb)[1]


def test_classic_renders_todays_frames():
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    env = DroneEnv(SimConfig())
    try:
        for ep in load_suite("cognitivedrone-v1").episodes[:3]:
            for look in (None, episode_look("classic", 0, ep.seed)):
                options = scene_options(ep, ep.prompt, look)
                obs, _ = env.reset(seed=ep.seed, options=options)
                got = [_sha(obs["image"])]
                for _ in range(5):
                    obs, *_ = env.step(np.array([1.0, 0.2, 0.1, 0.3], np.float32))
                got += [_sha(obs["image"]), _sha(env.render_fpv(256))]
                assert got == CLASSIC_FRAMES[ep.id], ep.id
    finally:
        env.close()


def test_a_frame_does_not_carry_the_light_of_the_look_before():
    """One env flies a mix of looks (a datagen worker): a classic frame after a randomized one is
    lit as classic. TinyRenderer keeps the last light it was given; it used to leak (up to 36
    levels of 255 in the classic frame)."""
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    first, other = load_suite("smoke").episodes[:2]

    def classic(env):
        obs, _ = env.reset(seed=first.seed, options=scene_options(first, first.prompt, None))
        return obs["image"]

    env = DroneEnv(SimConfig())
    try:
        before = classic(env)
        for name in ("randomized", "dim", "outdoor"):
            env.reset(seed=other.seed, options=scene_options(other, other.prompt, sample_look(name, 3)))
            assert _sha(classic(env)) == _sha(before), name
    finally:
        env.close()


def test_a_look_changes_the_frame_not_the_task():
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    ep = load_suite("smoke").episodes[0]
    env = DroneEnv(SimConfig())
    try:
        frames, starts, gates = [], [], []
        for look in (Look(), sample_look("randomized", 3), sample_look("studio", 0), sample_look("randomized", 3)):
            obs, info = env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt, look))
            frames.append(obs["image"])
            starts.append(info["position"])
            gates.append([(g.pose, g.look.shape, g.look.size, g.look.color) for g in env.world.gates])
            assert obs["image"].shape == (128, 128, 3) and obs["image"].dtype == np.uint8
        assert starts.count(starts[0]) == 4 and gates.count(gates[0]) == 4
        assert _sha(frames[0]) != _sha(frames[1]) != _sha(frames[2])
        assert _sha(frames[1]) == _sha(frames[3])  # same look, same seed: same frame (noise included)
    finally:
        env.close()


def test_camera_effects_give_a_random_camera_at_the_models_size():
    from cognitivedrone.sim.look import camera_effects, training_lens

    img = (np.random.default_rng(0).uniform(0, 255, (128, 128, 3))).astype(np.uint8)
    a = camera_effects(img, np.random.default_rng(5))
    assert a.shape == img.shape and a.dtype == np.uint8
    assert _sha(a) == _sha(camera_effects(img, np.random.default_rng(5)))
    assert _sha(a) != _sha(camera_effects(img, np.random.default_rng(6)))
    sizes = {training_lens(np.random.default_rng(s))[1] for s in range(50)}
    assert sizes == set(RANGES["render_size"])


def test_a_room_is_closed_and_shows_its_materials():
    """Walls and ceiling face in (TinyRenderer draws only faces that look at the camera): from
    inside, no ray reaches the sky behind them, and the walls wear their material's colour."""
    from dataclasses import replace

    import pybullet as p

    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.sim.look import Material, SceneLook
    from cognitivedrone.sim.scene import scene_options
    from cognitivedrone.tasks.suite import load_suite

    ep = load_suite("smoke").episodes[0]
    magenta, green = (1.0, 0.0, 1.0), (0.1, 0.8, 0.1)
    look = replace(sample_look("randomized", 1), scene=SceneLook(
        "room", floor=Material("plain", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)), walls=Material("plain", green, green),
        ceiling=(0.9, 0.1, 0.1), sky_top=magenta, sky_horizon=magenta))
    look = replace(look, camera=replace(look.camera, lens=type(look.camera.lens)(), render_size=None))
    env = DroneEnv(SimConfig())
    try:
        env.reset(seed=ep.seed, options=scene_options(ep, ep.prompt, look))
        pos = env.state.pos
        back = env.render_at(pos, p.getQuaternionFromEuler((0.0, 0.0, np.pi)))
        up = env.render_at(pos, p.getQuaternionFromEuler((0.0, -np.pi / 2 + 0.05, 0.0)))
    finally:
        env.close()
    for img in (back, up):
        is_magenta = (img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] > 200)
        assert not is_magenta.any()
    g = back[..., 1].astype(int) - back[..., 0].astype(int)
    assert (g > 40).mean() > 0.3, "the back wall shows its green material"
    assert (up[..., 0].astype(int) - up[..., 1] > 40).mean() > 0.5, "the ceiling shows its colour"
