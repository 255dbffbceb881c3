"""The whole loop of recorded flights, in simulation: sim_node's expert plays the human pilot
(pilot: expert) while the recorder writes the bag; `data from-bag` turns it into a dataset whose
actions are the expert's, as the benchmark's own episode loop records them (datagen's labels)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cognitivedrone.data.bag_streams import TopicMap, read_streams
from cognitivedrone.data.from_bag import FromBagConfig, convert
from cognitivedrone.data.lerobot_format import DemoDataset
from cognitivedrone_ros.stack import Stack, config_path, log_tail

pytestmark = pytest.mark.xdist_group("wheel-and-latency")  # a flight in real time: not beside the latency test

EPISODE = 17


def _expert_labels(index: int) -> np.ndarray:
    """The expert's action at each step of the episode, as datagen records them (DemoRecorder)."""
    from cognitivedrone.bench.agents import ExpertAgent
    from cognitivedrone.bench.episode import run_episode
    from cognitivedrone.data.datagen import DartAgent, DemoRecorder
    from cognitivedrone.sim.env import DroneEnv, SimConfig
    from cognitivedrone.tasks.suite import load_suite

    episode = load_suite("cognitivedrone-v1").episodes[index]
    env = DroneEnv(SimConfig())
    try:
        demo = DemoRecorder()
        # datagen's agent without its noise: the label is the expert's command within the limits
        result, _ = run_episode(env, DartAgent(ExpertAgent(), np.zeros(4)), episode, "original", hooks=(demo,))
    finally:
        env.close()
    assert result.outcome == "success"
    return np.stack(demo.labels)


def test_a_flight_by_the_teleop_stand_in_converts_to_the_experts_own_labels(ros_env, tmp_path):
    bag = tmp_path / "bag"
    overrides = {"sim_node": {"index": str(EPISODE)}, "recorder": {"out": str(bag)}}
    # The shipped config/teleop.yaml, as `cognitivedrone stack teleop` starts it
    with Stack(config_path("teleop"), overrides, env=ros_env, log_dir=tmp_path / "logs") as stack:
        deadline = time.monotonic() + 150
        while "sim_node" not in stack.exited() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stack.exited().get("sim_node") == 0, log_tail(tmp_path / "logs")  # the expert flew it to success
    report = convert(FromBagConfig([str(bag)], str(tmp_path / "dataset"),
                                   TopicMap(command="/teleop/cmd_vel")), log=lambda *_: None)
    # sim_node sends the instruction again every second (StatePublisher): heard more than once,
    # and still one episode (only a change of instruction cuts one)
    assert len(read_streams(bag, TopicMap(command="/teleop/cmd_vel")).instructions) >= 3
    assert report.episodes == 1, report.lines()
    assert set(report.dropped) <= {"bag: no command yet"}, report.lines()  # frames before the start only
    table = DemoDataset(tmp_path / "dataset").frames(["action"])
    flown = np.array(table.column("action").to_pylist(), np.float32)
    labels = _expert_labels(EPISODE)
    assert flown.shape == labels.shape, (flown.shape, labels.shape)
    assert np.abs(flown - labels).max() <= 1e-3
