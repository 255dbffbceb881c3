"""The drone side without torch: the stack started from a venv that holds README's drone install
and nothing else (tests/drone_venv.py: the drone and ros extras, plus sim for the simulated
episode), with both the policy and the offline reasoner on onnxruntime."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from geometry_msgs.msg import TwistStamped
from std_msgs.msg import String

from cognitivedrone.bench.frames import expert_frames
from cognitivedrone.reasoning.offline.export import export_perception
from cognitivedrone.resources import DEFAULT_CHECKPOINT, DEFAULT_PERCEPTION
from cognitivedrone.runtime.export import export_onnx
from cognitivedrone_ros.node_support import COMMAND_QOS, LATCHED_QOS
from cognitivedrone_ros.stack import log_tail
from tests.drone_venv import clean_env, make_venv
from tests.ros.vehicle import CAMERA, FakeVehicle

# Heavy (a venv, two exports, a whole stack): kept off the worker that times the ROS latency.
pytestmark = pytest.mark.xdist_group("wheel-and-latency")

NO_EXPORTS = shutil.ignore_patterns("*.onnx", "tokenizer.json")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Copies of the shipped policy and perception folders with their ONNX exports, as a
    workstation makes them (`cognitivedrone export`) before they are copied to the drone."""
    root = tmp_path_factory.mktemp("exported")
    policy, perception = root / "default", root / "perception"
    shutil.copytree(DEFAULT_CHECKPOINT, policy, ignore=NO_EXPORTS)
    shutil.copytree(DEFAULT_PERCEPTION, perception, ignore=NO_EXPORTS)
    export_onnx(policy, log=lambda *_: None)
    export_perception(perception, log=lambda *_: None)
    return policy, perception


def _venv(root, extras, ros_env):
    py = make_venv(root, extras, ros_package=True)
    probe = subprocess.run([str(py), "-c", "import torch"], capture_output=True, text=True, env=clean_env(ros_env))
    assert probe.returncode != 0 and "No module named 'torch'" in probe.stderr
    return py


def test_the_sim_stack_flies_an_episode_to_success_without_torch(exported, ros_env, tmp_path):
    policy, perception = exported
    py = _venv(tmp_path / "venv", ("drone", "ros", "sim"), ros_env)
    cmd = [str(py), "-m", "cognitivedrone.cli", "stack", "sim", "--until-outcome", "--timeout", "150",
           "--set", "sim_node.index=17", "--set", f"vla_node.checkpoint={policy}",
           "--set", f"reasoner_node.reasoner=offline:{perception}", "--logs", str(tmp_path / "logs")]
    run = subprocess.run(cmd, env=clean_env(ros_env), capture_output=True, text=True, timeout=240)
    logs = tmp_path / "logs"
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n{log_tail(logs)}"
    assert "outcome: success" in run.stdout
    # sim.yaml leaves the reasoner's engine to `auto`: without torch, that is onnxruntime.
    assert "its networks on onnxruntime" in (logs / "reasoner_node.log").read_text()
    for log in logs.glob("*.log"):
        assert "Traceback" not in log.read_text(), log_tail(logs)


def test_the_drone_stack_without_a_reasoner_streams_setpoints_without_torch(exported, probe, ros_env, tmp_path):
    policy, _ = exported
    py = _venv(tmp_path / "venv", ("drone", "ros"), ros_env)
    frames, prompts = expert_frames(1, image_size=256, every=1)
    setpoints = probe.listen(TwistStamped, "mavros/setpoint_velocity/cmd_vel", COMMAND_QOS)
    instruction = probe.publisher(String, "instruction", LATCHED_QOS)
    logs = tmp_path / "logs"
    cmd = [str(py), "-m", "cognitivedrone.cli", "stack", "drone", "--set", "reasoner_node.reasoner=none",
           "--set", "ground_link.listen=127.0.0.1:0",
           "--set", f"vla_node.checkpoint={policy}", "--remap", f"camera/image_raw:={CAMERA}", "--logs", str(logs)]
    stack = subprocess.Popen(cmd, env=clean_env(ros_env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with FakeVehicle(probe, frames[0]):
            probe.wait_for(lambda: setpoints, 90, "mavros_bridge's set-points")
            instruction.publish(String(data=prompts[0]))
            t0 = time.monotonic()
            probe.wait_for(lambda: any(t > t0 and abs(m.twist.linear.y) > 0.2 for t, m in setpoints), 60,
                           "a northward set-point: vla_node flying the user's words")
            assert stack.poll() is None, stack.communicate()[0]
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{log_tail(logs)}") from None
    finally:
        stack.send_signal(2)
        out = stack.communicate(timeout=30)[0]
    assert "reasoner_node" not in out.splitlines()[0], out  # "stack ...: vla_node, mavros_bridge"
    assert {p.name for p in logs.glob("*.log")} == {"vla_node.log", "mavros_bridge.log", "ground_link.log"}
    for log in logs.glob("*.log"):
        assert "Traceback" not in log.read_text(), log_tail(logs)
