"""Who may command the drone, across a real network boundary: the drone stack (vla_node +
ground_link, DDS on localhost) on this machine, a ground station and a stranger in a second
network namespace joined to it by a veth pair, as a laptop on the drone's Wi-Fi would be.
Needs root (ip netns); skipped where a namespace cannot be made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from diagnostic_msgs.msg import DiagnosticArray

from cognitivedrone.ground_link import new_secret, write_keys
from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone_ros.node_support import EVENTS_QOS
from cognitivedrone_ros.stack import Stack, config_path, log_tail

# A whole stack and a second network: kept off the worker that times the ROS latency (test_perf_ros).
pytestmark = pytest.mark.xdist_group("wheel-and-latency")

STRANGER = r"""
import json, os, socket, sys, time
import rclpy
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import SetBool
from cognitivedrone.ground_link import new_secret, sign
from cognitivedrone_ros.node_support import LATCHED_QOS

host, port = sys.argv[1], int(sys.argv[2])
found = {}
# Over DDS, as `ros2 topic pub /instruction` from a laptop would: nothing on-board listens off localhost.
rclpy.init()
node = Node("stranger")
node.create_publisher(String, "instruction", LATCHED_QOS).publish(String(data="fly through the gate with the stranger"))
found["estop_service_seen"] = node.create_client(SetBool, "estop").wait_for_service(timeout_sec=4.0)
node.destroy_node()
rclpy.shutdown()
# Through ground_link's port, with a key of its own (not allow-listed), or none.
mine = bytes.fromhex(new_secret())
for name, datagram in [("instruction", sign("instruction", "fly into the crowd", "mallory", mine)),
                       ("rewrite", sign("rewrite", "Fly through the big round red gate", "mallory", mine)),
                       ("release", sign("estop", False, "mallory", mine)),
                       ("engage", json.dumps({"v": 1, "kind": "estop", "data": True}).encode())]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5.0)
        s.sendto(datagram, (host, port))
        found[name] = json.loads(s.recvfrom(4096)[0])
print(json.dumps(found))
"""


@pytest.fixture
def ground_network():
    """A network namespace joined to this one by a veth pair: (namespace, drone's address, its own)."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("a network namespace needs root and iproute2")
    k = os.getpid() % 200 + 20
    ns, host_if, ns_if = f"cd-ground-{os.getpid()}", f"cdh{os.getpid()}", f"cdg{os.getpid()}"
    drone, ground = f"10.77.{k}.1", f"10.77.{k}.2"
    steps = [["ip", "netns", "add", ns], ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
             ["ip", "link", "set", ns_if, "netns", ns], ["ip", "addr", "add", f"{drone}/24", "dev", host_if],
             ["ip", "link", "set", host_if, "up"], ["ip", "-n", ns, "addr", "add", f"{ground}/24", "dev", ns_if],
             ["ip", "-n", ns, "link", "set", ns_if, "up"], ["ip", "-n", ns, "link", "set", "lo", "up"]]
    try:
        for step in steps:
            run = subprocess.run(step, capture_output=True, text=True)
            if run.returncode != 0:
                pytest.skip(f"cannot make a network namespace here: {' '.join(step)}: {run.stderr.strip()}")
        yield ns, drone, ground
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # takes the veth pair with it


def _in(ns: str, env: dict, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], env=env, capture_output=True, text=True, timeout=timeout)


def _latest(diagnostics, node: str) -> dict:
    for _, msg in reversed(diagnostics):
        status = msg.status[0]
        if status.name.startswith(node):
            return {kv.key: kv.value for kv in status.values}
    return {}


def test_only_signed_commands_cross_from_the_network_and_anyone_may_stop_the_drone(probe, ros_env, ground_network,
                                                                                      tmp_path):
    ns, drone, _ = ground_network
    keys = tmp_path / "ground-keys.json"
    write_keys(keys, {"gcs-1": new_secret()})
    port = 20000 + int(ros_env["ROS_DOMAIN_ID"])
    overrides = {"reasoner_node": {"reasoner": "none"},
                 "vla_node": {"engine": "torch", "checkpoint": str(DEFAULT_CHECKPOINT)},
                 "ground_link": {"listen": f"{drone}:{port}", "keys_file": str(keys)}}
    diagnostics = probe.listen(DiagnosticArray, "diagnostics", EVENTS_QOS)
    stranger_env = {**ros_env, "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    with Stack(config_path("drone"), overrides, env=ros_env, log_dir=tmp_path / "logs",
               nodes=("vla_node", "ground_link")) as stack:
        try:
            probe.wait_for(lambda: _latest(diagnostics, "vla_node") and _latest(diagnostics, "ground_link"), 90,
                           "vla_node and ground_link up")
            stranger = _in(ns, stranger_env, sys.executable, "-c", STRANGER, drone, str(port))
            assert stranger.returncode == 0, stranger.stderr[-3000:]
            found = json.loads(stranger.stdout.strip().splitlines()[-1])
            probe.wait_for(lambda: _latest(diagnostics, "vla_node").get("estop") == "True", 10,
                           "the stranger's e-stop engaged")
            # The ground station, on the same network, with its key.
            send = [sys.executable, "-m", "cognitivedrone.cli", "ground", "send", "--to", f"{drone}:{port}",
                    "--keys", str(keys), "--peer", "gcs-1"]
            release = _in(ns, ros_env, *send, "estop", "off")
            instruct = _in(ns, ros_env, *send, "instruction", "fly through the red gate")
            probe.wait_for(lambda: _latest(diagnostics, "vla_node").get("instruction") == "fly through the red gate"
                           and _latest(diagnostics, "vla_node").get("estop") == "False", 10,
                           "the ground station's release and instruction")
            link = _latest(diagnostics, "ground_link")
            probe.wait_for(lambda: _latest(diagnostics, "ground_link").get("accepted_instruction") == "1", 5,
                           "ground_link's counts")
            link = _latest(diagnostics, "ground_link")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{log_tail(tmp_path / 'logs')}") from None
        assert not stack.exited(), log_tail(tmp_path / "logs")
    assert found["estop_service_seen"] is False  # DDS does not cross: the on-board nodes are localhost-only
    for kind in ("instruction", "rewrite", "release"):
        assert found[kind] == {"ok": False, "kind": kind if kind != "release" else "estop",
                               "why": "unauthenticated: not an allow-listed peer"}, found
    assert found["engage"]["ok"] is True
    assert release.returncode == 0 and "estop: accepted" in release.stdout, release.stderr
    assert instruct.returncode == 0 and "instruction: accepted" in instruct.stdout, instruct.stderr
    assert link["refused_unauthenticated"] == "3" and link["accepted_estop_engage_unauthenticated"] == "1"
    assert link["accepted_estop"] == "1" and link["accepted_instruction"] == "1"
    heard = {kv.value for _, m in diagnostics for s in m.status if s.name.startswith("vla_node")
             for kv in s.values if kv.key == "instruction"}
    assert not heard & {"fly through the gate with the stranger", "fly into the crowd"}
