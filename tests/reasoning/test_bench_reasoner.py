"""The benchmark's policy runs inside Pilot with the reasoner in front: rewrites reach the policy,
and the episode reports whether the rewrite named the right gate."""


import pytest

from cognitivedrone.bench.agents import make_agent
from cognitivedrone.bench.episode import run_episode
from cognitivedrone.reasoning import make_reasoner
from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone.sim.env import DroneEnv, SimConfig
from cognitivedrone.tasks.suite import load_suite

DEFAULT = DEFAULT_CHECKPOINT


def test_plugin_reasoner_steers_the_policy_and_is_judged():
    episodes = load_suite("smoke").episodes[:4]
    env = DroneEnv(SimConfig())
    try:
        red_agent = make_agent(str(DEFAULT), "torch", "tests.reasoning.plugins:RedGate")
        oracle = make_agent(str(DEFAULT), "torch", "tests.reasoning.plugins:SuiteOracle")
        for ep in episodes:
            red = [g.color for g in ep.gates].index("red") + 1
            result, rec = run_episode(env, red_agent, ep, "original", record=True)
            assert result.rewrite == "Fly through the red gate"
            assert result.rewrite_correct == (red == ep.correct)  # judged against the episode's gate
            assert any("->  Fly through the red gate" in c for c in rec.captions)
            result, _ = run_episode(env, oracle, ep, "original")
            assert result.rewrite == ep.prompt_simpler and result.rewrite_correct
            assert result.outcome == "success"  # the policy flies the rewrite, not the original words
    finally:
        env.close()


def test_plugin_must_be_a_reasoner():
    with pytest.raises(ValueError, match="not a cognitivedrone.reasoning.Reasoner subclass"):
        make_reasoner("tests.reasoning.plugins:NotAReasoner")
    with pytest.raises(ValueError, match="needs a checkpoint policy"):
        make_agent("expert", "torch", "offline")


def test_reason_and_fly_commands(tmp_path, capsys):
    from cognitivedrone.cli import main

    frame = tmp_path / "frame.png"
    assert main(["view", "--suite", "smoke", "--episode", "smoke-0000", "--size", "256", "--out", str(frame)]) == 0
    ep = load_suite("smoke").episodes[0]
    assert main(["reason", "--image", str(frame), ep.prompt]) == 0
    out = capsys.readouterr().out
    assert "rewrite:" in out and "the policy would get: 'Fly through the" in out
    video = tmp_path / "fly.mp4"
    assert main(["fly", "--suite", "smoke", "--seed", "0", "--video", str(video)]) == 0
    out = capsys.readouterr().out
    assert "acted on: 'Fly through the" in out and "outcome:" in out
    assert video.stat().st_size > 10_000
    assert main(["reason", "--image", str(tmp_path / "missing.png"), "x"]) == 2
