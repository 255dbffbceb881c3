"""The launch files under the real `ros2 launch` (the ROS 2 launch system: on a ROS machine it is
there; in this venv, ../shared/ros2-launch-kit puts it in and `make install` runs it where the kit
is). Skipped where `ros2 launch` is missing. The package is built with colcon into a folder of the
test's own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from geometry_msgs.msg import TwistStamped
from std_msgs.msg import String

from cognitivedrone.bench.frames import expert_frames
from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone_ros.node_support import COMMAND_QOS, LATCHED_QOS
from cognitivedrone_ros.stack import Stack, config_path, parse_overrides
from tests.ros.vehicle import CAMERA, FakeVehicle

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _have_launch() -> bool:
    return (BIN / "ros2").is_file() and (BIN / "colcon").is_file() and \
        subprocess.run([sys.executable, "-c", "import launch_ros, ros2launch"], capture_output=True).returncode == 0


pytestmark = [pytest.mark.skipif(not _have_launch(), reason="`ros2 launch` is not installed (ros2-launch-kit/install.sh)"),
              pytest.mark.xdist_group("wheel-and-latency")]  # whole stacks: not beside the latency test


@pytest.fixture(scope="module")
def install(tmp_path_factory) -> Path:
    """ros_ws built with colcon (symlinked, as a developer builds it) into a folder of this test's own."""
    root = tmp_path_factory.mktemp("colcon")
    run = subprocess.run([str(BIN / "colcon"), "build", "--merge-install", "--symlink-install",
                          "--base-paths", str(REPO / "ros_ws" / "src"), "--build-base", str(root / "build"),
                          "--install-base", str(root / "install")], cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return root / "install"


def launch_env(ros_env: dict[str, str], install: Path) -> dict[str, str]:
    env = dict(ros_env)
    env["AMENT_PREFIX_PATH"] = f"{install}{os.pathsep}{sys.prefix}"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ros2_launch(launch_file: str, *args: str) -> list[str]:
    return [str(BIN / "ros2"), "launch", "cognitivedrone_ros", launch_file, *args]


def test_sim_launch_ends_with_the_episode_and_exits_with_its_outcome(install, ros_env, tmp_path):
    env = launch_env(ros_env, install)
    run = subprocess.run(ros2_launch("sim.launch.py", "episode:=cognitivedrone-v1-0017", "engine:=torch",
                                     f"checkpoint:={DEFAULT_CHECKPOINT}"),
                         env=env, capture_output=True, text=True, timeout=240)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert "the episode ended in success" in out and "'outcome': 'success'" in out

    # An episode that cannot succeed (no policy: the drone hovers until the time limit) ends the
    # launch too, with exit status 1.
    hover = tmp_path / "hover.yaml"
    sim = yaml.safe_load(config_path("sim").read_text())["sim_node"]
    sim["ros__parameters"].update(wait_for_topics="", lockstep=False, control_hz=20.0)
    hover.write_text(yaml.safe_dump({"sim_node": sim}))
    t0 = time.monotonic()
    run = subprocess.run(ros2_launch("sim.launch.py", f"config:={hover}", "episode:=cognitivedrone-v1-0017"),
                         env=env, capture_output=True, text=True, timeout=180)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out[-4000:]
    assert "'outcome': 'timeout'" in out and "the episode did not end in success" in out
    assert time.monotonic() - t0 < 120


# -- what a stack starts: read back from the running processes -------------------------------------

def _children(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            kids = [int(k) for k in task.read_text().split()]
            found += kids
            todo += kids
    return found


def _node_launches(pid: int) -> dict[str, tuple[dict, dict]]:
    """node name -> (parameters, remappings) of every cognitivedrone_ros node under process `pid`,
    as its command line gives them to rcl: -r __node:=, -r FROM:=TO, --params-file (the node's
    section, or /**), -p NAME:=VALUE."""
    nodes = {}
    for child in _children(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if "--ros-args" not in argv:
            continue
        args = argv[argv.index("--ros-args") + 1:]
        name, params, remaps = None, {}, {}
        for flag, value in zip(args, args[1:]):
            if flag == "-r" and value.startswith("__node:="):
                name = value.split(":=", 1)[1]
            elif flag == "-r":
                src, dst = value.split(":=", 1)
                remaps[src] = dst
            elif flag == "--params-file":
                sections = yaml.safe_load(Path(value).read_text())
                params["file"] = sections
            elif flag == "-p":
                k, v = value.split(":=", 1)
                params.setdefault("p", {})[k] = yaml.safe_load(v)
        sections = params.pop("file", {})
        merged = {**(sections.get("/**") or {}).get("ros__parameters", {}),
                  **(sections.get(name) or {}).get("ros__parameters", {}), **params.pop("p", {})}
        nodes[name] = (merged, remaps)
    return nodes


def _wait_for_nodes(pid: int, names: set[str], timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        nodes = _node_launches(pid)
        if set(nodes) >= names:
            return nodes
        time.sleep(0.5)
    raise AssertionError(f"nodes {sorted(names)} not started; have {sorted(_node_launches(pid))}")


def test_drone_launch_starts_what_stack_drone_starts_and_streams_setpoints_without_a_reasoner(
        install, probe, ros_env, tmp_path):
    frames, prompts = expert_frames(1, image_size=256, every=1)
    setpoints = probe.listen(TwistStamped, "mavros/setpoint_velocity/cmd_vel", COMMAND_QOS)
    instruction = probe.publisher(String, "instruction", LATCHED_QOS)
    wanted = {"vla_node", "mavros_bridge", "ground_link"}
    launch = subprocess.Popen(ros2_launch("drone.launch.py", "reasoner:=none", "engine:=torch",
                                          f"checkpoint:={DEFAULT_CHECKPOINT}", f"camera_topic:={CAMERA}",
                                          "listen:=127.0.0.1:0"),
                              env=launch_env(ros_env, install), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    try:
        launched = _wait_for_nodes(launch.pid, wanted)
        with FakeVehicle(probe, frames[0]):
            probe.wait_for(lambda: setpoints, 90, "mavros_bridge's set-points")
            instruction.publish(String(data=prompts[0]))
            t0 = time.monotonic()
            probe.wait_for(lambda: any(t > t0 and abs(m.twist.linear.y) > 0.2 for t, m in setpoints), 60,
                           "a northward set-point: vla_node flying the user's words")
        assert launch.poll() is None
    finally:
        os.killpg(launch.pid, signal.SIGINT)
        out = launch.communicate(timeout=30)[0]
    assert "Traceback" not in out, out[-4000:]

    overrides = parse_overrides(["reasoner_node.reasoner=none", "vla_node.engine=torch",
                                 f"vla_node.checkpoint={DEFAULT_CHECKPOINT}", "ground_link.listen=127.0.0.1:0"])
    with Stack(config_path("drone"), overrides, env=ros_env, log_dir=tmp_path,
               remaps=(f"camera/image_raw:={CAMERA}",)) as stack:
        stacked = _wait_for_nodes(os.getpid(), wanted)
        assert not stack.exited()
    assert set(launched) == set(stacked) == wanted
    for name in wanted:
        assert launched[name] == stacked[name], name
    params, remaps = launched["vla_node"]
    assert remaps == {"camera/image_raw": CAMERA, "odom": "/mavros/local_position/odom"}
    assert params["wait_for_rewrite_s"] == 0.0 and params["engine"] == "torch"
