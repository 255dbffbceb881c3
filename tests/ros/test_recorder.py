"""recorder as a process: what the stack publishes ends up, byte for byte, in a rosbag2 MCAP bag
whose metadata.yaml has what `ros2 bag info` reads; a bag is never overwritten and a topic outside
the table is refused."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("rosbags", reason="rosbags is not installed (pip install rosbags)")

from geometry_msgs.msg import TwistStamped  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from rosbags.rosbag2 import Reader  # noqa: E402
from rosbags.typesys import Stores, get_typestore  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402

from cognitivedrone_ros.conversions import rgb_to_image  # noqa: E402
from cognitivedrone_ros.node_support import COMMAND_QOS, EVENTS_QOS, LATCHED_QOS, SENSOR_QOS  # noqa: E402
from cognitivedrone.cli import build_parser  # noqa: E402
from cognitivedrone_ros.recorder import TOPICS, read_bag  # noqa: E402


def recorder(env, *params: str, ns: str | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cognitivedrone_ros.recorder", "--ros-args"]
    if ns:
        cmd += ["-r", f"__ns:={ns}"]
    for p in params:
        cmd += ["-p", p]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def installed_hash(msgtype: str) -> str:
    """The RIHS01 hash the installed message package (the publisher's side) gives the type."""
    pkg, _, name = msgtype.split("/")
    for prefix in os.environ["AMENT_PREFIX_PATH"].split(os.pathsep):
        f = Path(prefix) / "share" / pkg / "msg" / f"{name}.json"
        if f.is_file():
            return next(h["hash_string"] for h in json.loads(f.read_text())["type_hashes"] if h["type_name"] == msgtype)
    pytest.skip(f"no type description of {msgtype} installed")


def test_records_the_stacks_messages_unchanged_into_an_mcap_bag_ros2_bag_info_reads(probe, ros_env, tmp_path):
    # A namespace of this test's own: another test on the same domain id can't add messages.
    ns = f"/rec_{uuid.uuid4().hex[:8]}"
    out = tmp_path / "flight"
    pubs = {"image": probe.publisher(Image, f"{ns}/camera/image_raw", SENSOR_QOS),
            "instruction": probe.publisher(String, f"{ns}/instruction", LATCHED_QOS),
            "rewritten": probe.publisher(String, f"{ns}/instruction/rewritten", EVENTS_QOS),
            "cmd": probe.publisher(TwistStamped, f"{ns}/cmd_vel", COMMAND_QOS)}
    # Before the recorder is up: transient local must still bring it into the bag.
    pubs["instruction"].publish(String(data="fly through the gate with the cat"))
    t_start = time.time_ns()
    proc = recorder(ros_env, f"out:={out}", "max_duration_s:=60.0", ns=ns)
    try:
        for pub in pubs.values():
            probe.wait_for_subscribers(pub, timeout_s=15)
        # Our writers see the recorder's readers; its readers may not see our writers yet, and
        # what is sent before they do is lost (measured: the first frame and command).
        time.sleep(1.0)
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(5)]
        images = [rgb_to_image(f, probe.node.get_clock().now().to_msg()) for f in frames]
        for i, img in enumerate(images):
            pubs["image"].publish(img)
            if i < 3:
                cmd = TwistStamped()
                cmd.header.stamp = img.header.stamp
                cmd.twist.linear.x = 0.5 * (i + 1)
                pubs["cmd"].publish(cmd)
            if i < 2:
                pubs["rewritten"].publish(String(data=f"fly through the gate on the {'left' if i else 'right'}"))
            time.sleep(0.03)
        time.sleep(1.0)  # loopback delivery takes milliseconds; nothing tells the probe it arrived
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    t_end = time.time_ns()
    assert proc.returncode == 0, err

    meta = yaml.safe_load((out / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    for key in ("version", "storage_identifier", "relative_file_paths", "duration", "starting_time",
                "message_count", "topics_with_message_count", "files"):
        assert key in meta, key
    assert meta["version"] == 8 and meta["storage_identifier"] == "mcap"
    (mcap,) = meta["relative_file_paths"]
    assert mcap.endswith(".mcap") and (out / mcap).stat().st_size > 5 * 64 * 64 * 3
    expected = {f"{ns}/{t}": 0 for t in TOPICS}
    expected.update({f"{ns}/camera/image_raw": 5, f"{ns}/cmd_vel": 3, f"{ns}/instruction/rewritten": 2,
                     f"{ns}/instruction": 1})
    topics = {t["topic_metadata"]["name"]: t for t in meta["topics_with_message_count"]}
    assert {name: t["message_count"] for name, t in topics.items()} == expected
    assert meta["message_count"] == sum(expected.values())
    for short, spec in TOPICS.items():
        tm = topics[f"{ns}/{short}"]["topic_metadata"]
        assert tm["type"] == spec.msgtype and tm["serialization_format"] == "cdr"
        assert tm["type_description_hash"] == installed_hash(spec.msgtype)  # what Jazzy+ match types on
        (qos,) = yaml.safe_load(tm["offered_qos_profiles"])  # v8: a YAML string, as Humble/Jazzy parse it
        assert qos["reliability"] == int(spec.qos.reliability) and qos["durability"] == int(spec.qos.durability)
    assert t_start <= meta["starting_time"]["nanoseconds_since_epoch"] <= t_end
    assert read_bag(out) == expected

    # The .mcap itself: the bytes rclpy published, stamped with receive times in order.
    store = get_typestore(Stores.ROS2_JAZZY)
    got: dict[str, list[tuple[int, bytes]]] = {}
    with Reader(out) as reader:
        for conn, stamp, raw in reader.messages():
            got.setdefault(conn.topic, []).append((stamp, bytes(raw)))
    assert {t: len(m) for t, m in got.items()} == {t: n for t, n in expected.items() if n}
    first_image = got[f"{ns}/camera/image_raw"][0][1]
    # As published, down to the length (padding bytes are whatever the serializer left there)
    assert len(first_image) == len(serialize_message(images[0]))
    assert deserialize_message(first_image, Image) == images[0]
    img = store.deserialize_cdr(first_image, "sensor_msgs/msg/Image")
    assert (img.height, img.width, img.encoding, img.step) == (64, 64, "rgb8", 192)
    np.testing.assert_array_equal(img.data.reshape(64, 64, 3), frames[0])
    assert [store.deserialize_cdr(raw, "geometry_msgs/msg/TwistStamped").twist.linear.x
            for _, raw in got[f"{ns}/cmd_vel"]] == [0.5, 1.0, 1.5]
    assert store.deserialize_cdr(got[f"{ns}/instruction"][0][1], "std_msgs/msg/String").data == \
        "fly through the gate with the cat"
    assert all(t_start <= s <= t_end for m in got.values() for s, _ in m)  # receive times, ROS (system) clock
    image_stamps = [s for s, _ in got[f"{ns}/camera/image_raw"]]
    assert image_stamps == sorted(image_stamps) and image_stamps[-1] - image_stamps[0] >= 4 * 0.02e9


def test_refuses_to_overwrite_a_bag_and_names_the_known_topics(ros_env, tmp_path, monkeypatch, capsys):
    existing = tmp_path / "old_flight"
    existing.mkdir()
    (existing / "metadata.yaml").write_text("precious: true\n")
    unknown = recorder(ros_env, f"out:={tmp_path / 'new'}", "topics:=cmd_vel, camera/depth")
    refused = recorder(ros_env, f"out:={existing}")
    for proc in (unknown, refused):
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = refused.stderr.read()
    assert refused.returncode == 2 and str(existing) in err and "exists" in err, err
    assert (existing / "metadata.yaml").read_text() == "precious: true\n" and len(list(existing.iterdir())) == 1
    err = unknown.stderr.read()
    assert unknown.returncode == 2 and "camera/depth" in err, err
    assert all(t in err for t in TOPICS), err
    assert not (tmp_path / "new").exists()

    # `cognitivedrone record`, in this process: one line, exit 2, for both mistakes.
    monkeypatch.setenv("ROS_DOMAIN_ID", ros_env["ROS_DOMAIN_ID"])
    ap = build_parser()
    for argv, needle in ((["record", "--out", str(existing)], str(existing)),
                         (["record", "--out", str(tmp_path / "new"), "--topics", "odom,lidar"], "lidar")):
        args = ap.parse_args(argv)
        assert args.func(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("cognitivedrone: error: ") and needle in err and "\n" not in err, err
    assert not (tmp_path / "new").exists()


def test_record_command_stops_after_its_duration_and_summarises(ros_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROS_DOMAIN_ID", ros_env["ROS_DOMAIN_ID"])
    ap = build_parser()
    out = tmp_path / "short"
    args = ap.parse_args(["record", "--out", str(out), "--topics", "episode/outcome,/odom", "--duration", "1"])
    t0 = time.monotonic()
    t_start = time.time_ns()
    assert args.func(args) == 0
    assert 1.0 <= time.monotonic() - t0 < 8
    meta = yaml.safe_load((out / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert [t["topic_metadata"]["name"] for t in meta["topics_with_message_count"]] == ["/episode/outcome", "/odom"]
    # a bag with no message (or a few from a neighbour on this domain) still starts at a real time
    assert t_start <= meta["starting_time"]["nanoseconds_since_epoch"] <= time.time_ns()
    printed = capsys.readouterr().out
    assert re.search(rf"^{re.escape(str(out))}: \d+ messages, \d+\.\d [kM]B$", printed, re.M), printed
    for topic in ("/episode/outcome", "/odom"):
        assert re.search(rf"^  {topic} +\d+$", printed, re.M), printed
