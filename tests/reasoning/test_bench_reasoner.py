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


def test_bench_with_a_reasoner_that_is_down_counts_the_failures_and_fails(tmp_path, capsys):
    """A server that refuses every call: the report says how often the reasoner failed, and the
    run exits non-zero with one line instead of passing off the policy alone as policy + reasoner."""
    import json
    import socket

    from cognitivedrone.cli import main

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "run"
    rc = main(["bench", "--suite", "smoke", "--limit", "1", "--workers", "1", "--policy", str(DEFAULT), "--quiet",
               "--reasoner", f"openai:http://127.0.0.1:{port}/v1", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "never answered" in err and err.strip().splitlines()[-1].startswith("cognitivedrone: error:")
    faults = json.loads((out / "results.json").read_text())["faults"]
    assert faults["reasoner_failures"]["count"] > 0 and faults["reasoner_failures"]["episodes"] == 1
    assert faults["reasoner_answers"]["count"] == 0
    assert "## Faults of the parts" in (out / "report.md").read_text()


def test_a_reasoner_that_answers_passes_and_its_calls_are_counted(tmp_path, capsys):
    import json

    from cognitivedrone.cli import main

    out = tmp_path / "run"
    assert main(["bench", "--suite", "smoke", "--limit", "1", "--workers", "1", "--policy", str(DEFAULT), "--quiet",
                 "--reasoner", "tests.reasoning.plugins:RedGate", "--out", str(out)]) == 0
    faults = json.loads((out / "results.json").read_text())["faults"]
    assert faults["reasoner_answers"]["count"] == faults["reasoner_calls"]["count"] > 0
    assert faults["reasoner_failures"]["count"] == 0
