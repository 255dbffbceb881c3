"""The sim stack end to end: sim_node, vla_node and reasoner_node as separate processes over
DDS, started from config/sim.yaml as `ros2 launch` would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from std_msgs.msg import String

from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone.tasks.suite import load_suite
from cognitivedrone_ros.node_support import EVENTS_QOS, LATCHED_QOS
from cognitivedrone_ros.stack import Stack, config_path, load_stack, log_tail, parse_overrides, plan_stack

CHECKPOINT = str(DEFAULT_CHECKPOINT)
# An arithmetic task the policy fails on its own words (bench/results/default-original) and flies
# once the reasoner has rewritten it.
ARITHMETIC = 14


def test_reasoner_rewrites_the_drone_passes_the_right_gate_and_flies_on_when_the_reasoner_dies(
        probe, ros_env, tmp_path):
    episode = load_suite("cognitivedrone-v1").episodes[ARITHMETIC]
    assert episode.family == "reasoning/arithmetic"
    overrides = {"sim_node": {"index": str(ARITHMETIC), "publish_instruction": "false", "exit_on_outcome": "false"},
                 "vla_node": {"engine": "torch", "checkpoint": CHECKPOINT}}
    outcome = probe.listen(String, "episode/outcome", LATCHED_QOS)
    rewrites = probe.listen(String, "instruction/rewritten", EVENTS_QOS)
    diagnostics = probe.listen(DiagnosticArray, "diagnostics", EVENTS_QOS)
    instruction = probe.publisher(String, "instruction", LATCHED_QOS)
    with Stack(config_path("sim"), overrides, env=ros_env, log_dir=tmp_path) as stack:
        try:
            instruction.publish(String(data=episode.prompt))  # the user's words, as given
            probe.wait_for(lambda: rewrites, 90, "reasoner_node's first rewrite")
            first = json.loads(rewrites[0][1].data)
            # vla_node may still be loading its text encoder (torch + transformers: 10 s or more on a busy machine)
            probe.wait_for(lambda: acting_on(diagnostics) == first["rewrite"], 60, "vla_node acting on it")
            stack.kill("reasoner_node")  # the slow loop dies: the flight goes on with the last rewrite
            probe.wait_for(lambda: outcome, 60, "sim_node's episode outcome")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log_tail(tmp_path)}") from None
        alive = {n: p.poll() is None for n, p in stack.processes.items()}
    result = json.loads(outcome[0][1].data)
    gate = episode.gates[episode.target_index]
    assert first == {"instruction": episode.prompt,  # tagged with what it rewrites
                     "rewrite": f"Fly through the {gate.size} {gate.shape} {gate.color} gate with the digit 8"}
    assert result["outcome"] == "success" and result["gate_passed"] == episode.target_index + 1, \
        f"{result}\n{log_tail(tmp_path)}"
    assert alive == {"sim_node": True, "vla_node": True, "reasoner_node": False}


def acting_on(diagnostics) -> str:
    """The instruction vla_node's last diagnostics say the policy acts on."""
    for _, msg in reversed(diagnostics):
        status = msg.status[0]
        if status.name.startswith("vla_node"):
            return next((kv.value for kv in status.values if kv.key == "instruction"), "")
    return ""


def test_stack_command_flies_an_episode_from_the_yaml(ros_env, tmp_path):
    cmd = [sys.executable, "-m", "cognitivedrone.cli", "stack", "sim", "--until-outcome", "--timeout", "120",
           "--set", "sim_node.index=17", "--set", "vla_node.engine=torch", "--set", f"vla_node.checkpoint={CHECKPOINT}",
           "--logs", str(tmp_path)]
    run = subprocess.run(cmd, env=ros_env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n{log_tail(tmp_path)}"
    assert "outcome: success" in run.stdout
    assert {p.name for p in tmp_path.glob("*.log")} == {"sim_node.log", "vla_node.log", "reasoner_node.log"}


def test_stack_configs_name_known_nodes_and_bad_ones_are_refused(tmp_path):
    assert list(load_stack(config_path("sim"))) == ["sim_node", "vla_node", "reasoner_node"]
    assert list(load_stack(config_path("drone"))) == ["vla_node", "reasoner_node", "ground_link", "mavros_bridge"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("vla_node:\n  ros__parameters: {engine: torch}\nautopilot:\n  ros__parameters: {}\n")
    with pytest.raises(ValueError, match="unknown node 'autopilot'"):
        load_stack(bad)
    with pytest.raises(ValueError, match="NODE.PARAM=VALUE"):
        parse_overrides(["engine=torch"])
    with pytest.raises(ValueError, match="--set: unknown node 'sim_node'"):
        Stack(config_path("drone"), parse_overrides(["sim_node.index=3"]))
    extra = tmp_path / "extra.yaml"
    extra.write_text("vla_node:\n  ros__parameters: {engine: torch}\n  remaps: {odom: /odom}\n")
    with pytest.raises(ValueError, match="unknown key of vla_node 'remaps'; did you mean 'remappings'"):
        load_stack(extra)
    extra.write_text("vla_node:\n  ros__parameters: {engine: torch}\n  remappings: [odom]\n")
    with pytest.raises(ValueError, match="vla_node remappings: expected a mapping of topic names"):
        load_stack(extra)
    with pytest.raises(ValueError, match="expected FROM:=TO"):
        Stack(config_path("drone"), remaps=("camera/image_raw=/cam",))


def test_a_misspelt_node_or_parameter_is_refused_naming_the_nearest(tmp_path):
    with pytest.raises(ValueError, match=r"--set: unknown vla_node parameter 'engin'; did you mean 'engine'\?"):
        Stack(config_path("drone"), parse_overrides(["vla_node.engin=torch"]))
    typo = tmp_path / "typo.yaml"
    typo.write_text(config_path("drone").read_text().replace("rate_hz: 30.0", "rate_hz_: 30.0"))
    with pytest.raises(ValueError, match=r"unknown mavros_bridge parameter 'rate_hz_'; did you mean 'rate_hz'\?"):
        load_stack(typo)
    node = tmp_path / "node.yaml"
    node.write_text("vla_nod:\n  ros__parameters: {}\n")
    with pytest.raises(ValueError, match=r"unknown node 'vla_nod'; did you mean 'vla_node'\?"):
        load_stack(node)
    for name in ("sim", "drone"):  # the shipped configs set only parameters the nodes declare
        load_stack(config_path(name))


def test_no_reasoner_is_a_choice_the_stack_and_the_launch_files_make_alike(tmp_path):
    """`reasoner: none` (YAML, --set or the launch argument) starts no reasoner_node, and vla_node
    flies the user's words at once. (The launch files plan their nodes with the same function,
    launching.stack_nodes; they run under the real `ros2 launch` only where it is installed.)"""
    spec = load_stack(config_path("drone"))
    assert list(plan_stack(spec, {})) == ["vla_node", "reasoner_node", "ground_link", "mavros_bridge"]
    plan = plan_stack(spec, {"reasoner_node": {"reasoner": "none"}})
    assert list(plan) == ["vla_node", "ground_link", "mavros_bridge"] and plan["vla_node"].params["wait_for_rewrite_s"] == 0.0
    assert spec["vla_node"].params["wait_for_rewrite_s"] == 5.0  # the YAML's own value, untouched
    kept = plan_stack(spec, {"reasoner_node": {"reasoner": "none"}, "vla_node": {"wait_for_rewrite_s": "2"}})
    assert kept["vla_node"].params["wait_for_rewrite_s"] == 2  # a value the user set stays (typed as ROS types it)
    stack = Stack(config_path("drone"), parse_overrides(["reasoner_node.reasoner=none", "vla_node.engine=torch"]))
    assert stack.nodes == ("vla_node", "ground_link", "mavros_bridge")
    cmd = stack.command("vla_node")
    params = yaml.safe_load(Path(cmd[cmd.index("--params-file") + 1]).read_text())
    assert set(params) == {"vla_node", "ground_link", "mavros_bridge"}  # the remappings are not parameters
    assert params["vla_node"]["ros__parameters"]["engine"] == "torch"
    assert params["vla_node"]["ros__parameters"]["wait_for_rewrite_s"] == 0.0
    assert cmd[-4:] == ["-r", "camera/image_raw:=/camera/image_raw", "-r", "odom:=/mavros/local_position/odom"]
    yaml_none = tmp_path / "none.yaml"
    yaml_none.write_text(config_path("drone").read_text().replace("reasoner: offline", "reasoner: none"))
    assert Stack(yaml_none).nodes == ("vla_node", "ground_link", "mavros_bridge")


@pytest.mark.parametrize("node, param, says", [
    ("vla_node", "engine:=tpu", "parameter engine='tpu' is invalid: expected torch, onnxruntime or tensorrt"),
    ("reasoner_node", "reasoner:=none", "leaves reasoner_node out"),
    ("mavros_bridge", "rate_hz:=1", "parameter rate_hz=1.0 is invalid: expected a number > 2"),
])
def test_a_bad_parameter_stops_the_node_with_a_message(ros_env, node, param, says):
    run = subprocess.run([sys.executable, "-m", f"cognitivedrone_ros.{node}", "--ros-args", "-p", param],
                         env=ros_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert says in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("setting, says", [
    ("vla_node.engin=torch", "unknown vla_node parameter 'engin'; did you mean 'engine'?"),
    ("vla_nod.engine=torch", "unknown node 'vla_nod'; did you mean 'vla_node'?"),
    ("vla_node.max_vxy=100", "vla_node parameter max_vxy=100.0 is invalid: expected 0 or a number in (0, 30]"),
])
def test_the_stack_command_refuses_a_bad_setting_in_one_line_before_starting_anything(ros_env, setting, says):
    run = subprocess.run([sys.executable, "-m", "cognitivedrone.cli", "stack", "drone", "--set", setting],
                         env=ros_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert says in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "stack " not in run.stdout  # no node was started
