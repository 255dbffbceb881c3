"""Reading a flight's streams out of rosbag2 bags (cognitivedrone/data/bag_streams.py), on bags
written here with rosbags in both storage formats, as the drone's recorder and `ros2 bag record`
write them."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from PIL import Image as PILImage

from cognitivedrone.data.bag_streams import TopicMap, read_streams
from cognitivedrone.data.bag_sync import label_frames

rosbags = pytest.importorskip("rosbags")


def _write_bag(path, storage: str, compressed: bool = False):
    from rosbags.rosbag2 import Writer
    from rosbags.rosbag2.enums import StoragePlugin
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS2_HUMBLE)
    T = ts.types
    stamp = lambda t: T["builtin_interfaces/msg/Time"](sec=int(t), nanosec=int(round((t % 1) * 1e9)))  # noqa: E731
    header = lambda t: T["std_msgs/msg/Header"](stamp=stamp(t), frame_id="x")  # noqa: E731
    vec = lambda x=0.0, y=0.0, z=0.0: T["geometry_msgs/msg/Vector3"](x=x, y=y, z=z)  # noqa: E731
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red, so a BGR mix-up shows
    with Writer(path, version=8, storage_plugin=plugin) as w:
        ctype = "sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image"
        cam = w.add_connection("/camera/image_raw", ctype, typestore=ts)
        cmd = w.add_connection("/cmd_vel", "geometry_msgs/msg/TwistStamped", typestore=ts)
        odom = w.add_connection("/odom", "nav_msgs/msg/Odometry", typestore=ts)
        said = w.add_connection("/instruction", "std_msgs/msg/String", typestore=ts)
        w.write(said, 0, ts.serialize_cdr(T["std_msgs/msg/String"](data="fly through the red gate"),
                                          "std_msgs/msg/String"))
        for k in range(10):
            t = 100.0 + 0.1 * k
            if compressed:
                buf = io.BytesIO()
                PILImage.fromarray(rgb).save(buf, format="PNG")
                img = T["sensor_msgs/msg/CompressedImage"](header=header(t), format="png",
                                                           data=np.frombuffer(buf.getvalue(), np.uint8))
            else:
                img = T["sensor_msgs/msg/Image"](header=header(t), height=6, width=8, encoding="rgb8", is_bigendian=0,
                                                 step=24, data=rgb.reshape(-1))
            w.write(cam, int(t * 1e9), ts.serialize_cdr(img, ctype))
            twist = T["geometry_msgs/msg/Twist"](linear=vec(0.5 + k * 0.01, 0.0, 0.1), angular=vec(z=0.2))
            w.write(cmd, int((t - 0.02) * 1e9), ts.serialize_cdr(
                T["geometry_msgs/msg/TwistStamped"](header=header(t - 0.02), twist=twist), "geometry_msgs/msg/TwistStamped"))
            q = T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=math.sin(0.5), w=math.cos(0.5))  # yaw 1 rad
            pose = T["geometry_msgs/msg/Pose"](position=T["geometry_msgs/msg/Point"](x=1.0, y=2.0, z=1.5), orientation=q)
            odo = T["nav_msgs/msg/Odometry"](
                header=header(t - 0.01), child_frame_id="base_link",
                pose=T["geometry_msgs/msg/PoseWithCovariance"](pose=pose, covariance=np.zeros(36)),
                twist=T["geometry_msgs/msg/TwistWithCovariance"](twist=twist, covariance=np.zeros(36)))
            w.write(odom, int((t - 0.01) * 1e9), ts.serialize_cdr(odo, "nav_msgs/msg/Odometry"))
    return rgb


@pytest.mark.parametrize("storage, compressed", [("mcap", False), ("sqlite3", True)])
def test_a_flight_bag_reads_into_labelled_frames(tmp_path, storage, compressed):
    bag = tmp_path / "flight"
    rgb = _write_bag(bag, storage, compressed)
    streams = read_streams(bag, TopicMap())
    assert (len(streams.frames), len(streams.commands), len(streams.poses), len(streams.instructions)) == (10, 10, 10, 1)
    assert not streams.unreadable
    assert np.array_equal(streams.frames[0].value, rgb) and streams.frames[0].t == pytest.approx(100.0)
    assert streams.poses[0].value == pytest.approx([1, 2, 1.5, 0, 0, 1.0], abs=1e-6)
    samples, drops = label_frames(streams.frames, streams.commands, streams.poses, streams.instructions)
    assert len(samples) == 10 and not drops.counts
    assert samples[3].action == pytest.approx([0.53, 0.0, 0.1, 0.2], abs=1e-6)
    assert samples[0].instruction == "fly through the red gate"


def test_a_bag_without_the_mapped_topics_or_that_is_no_bag_says_so(tmp_path):
    bag = tmp_path / "flight"
    _write_bag(bag, "mcap")
    with pytest.raises(ValueError, match="no topic /teleop/cmd_vel .*--command-topic"):
        read_streams(bag, TopicMap(command="/teleop/cmd_vel"))
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "metadata.yaml").write_text("not: [a bag")
    with pytest.raises(ValueError, match="not a readable rosbag2 bag"):
        read_streams(tmp_path / "junk", TopicMap())
    with pytest.raises(FileNotFoundError, match="no such bag"):
        read_streams(tmp_path / "none", TopicMap())


def test_bags_convert_into_a_dataset_train_reads_and_nothing_half_made(tmp_path):
    from cognitivedrone.data.from_bag import FromBagConfig, NothingUsable, convert
    from cognitivedrone.data.lerobot_format import DemoDataset

    bags = []
    for k, storage in enumerate(("mcap", "sqlite3")):
        bags.append(tmp_path / f"flight-{k}")
        _write_bag(bags[-1], storage, compressed=bool(k))
    out = tmp_path / "dataset"
    report = convert(FromBagConfig([str(b) for b in bags], str(out), image_size=16), log=lambda *_: None)
    assert (report.episodes, report.frames, report.fps) == (2, 20, 10.0) and not report.dropped
    data = DemoDataset(out)
    assert len(data) == 20 and data.complete
    table = data.frames(["action", "observation.state", "instruction"])
    actions = np.array(table.column("action").to_pylist())
    assert actions[3] == pytest.approx([0.53, 0.0, 0.1, 0.2], abs=1e-6)
    states = np.array(table.column("observation.state").to_pylist())
    assert states[0, :6] == pytest.approx([1, 2, 1.5, 0, 0, 1.0], abs=1e-6)
    assert set(table.column("instruction").to_pylist()) == {"fly through the red gate"}
    import pyarrow.parquet as pq

    provenance = pq.read_table(out / "meta" / "provenance.parquet").to_pydict()
    assert provenance["source"][0] == str(bags[0]) and provenance["stamp"][0] == pytest.approx(100.0)
    # Each episode says it has a pose (training's hindsight pointer targets need one) and, given, its camera.
    assert [json.loads(e["flight"]) for e in data.episodes] == [{"pose": True}] * 2
    tilted = convert(FromBagConfig([str(bags[0])], str(tmp_path / "tilted"), camera_fov_deg=90, camera_pitch_deg=20),
                     log=lambda *_: None).out
    assert json.loads(DemoDataset(tilted).episodes[0]["flight"]) == {"pose": True, "fov_deg": 90.0, "pitch_deg": 20.0}
    with pytest.raises(ValueError, match="--camera-fov-deg 0 is out of range"):
        convert(FromBagConfig([str(bags[0])], str(tmp_path / "bad-camera"), camera_fov_deg=0), log=lambda *_: None)
    assert not (tmp_path / "bad-camera").exists()

    with pytest.raises(ValueError, match="never overwritten"):
        convert(FromBagConfig([str(bags[0])], str(out)), log=lambda *_: None)
    with pytest.raises(NothingUsable, match="no episode"):
        convert(FromBagConfig([str(bags[0])], str(tmp_path / "short"), min_frames=50), log=lambda *_: None)
    assert not (tmp_path / "short").exists() and not list(tmp_path.glob(".short*"))


def test_the_command_line_converts_and_says_what_it_dropped(tmp_path):
    import subprocess
    import sys

    bag = tmp_path / "flight"
    _write_bag(bag, "mcap")
    run = subprocess.run([sys.executable, "-m", "cognitivedrone.cli", "data", "from-bag", str(bag), "--out",
                          str(tmp_path / "ds"), "--instruction-topic", "", "--instruction", "land on the pad",
                          "--pose-topic", ""], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "1 episode(s), 10 frame(s) at 10 fps" in run.stdout
    run = subprocess.run([sys.executable, "-m", "cognitivedrone.cli", "data", "from-bag", str(bag), "--out",
                          str(tmp_path / "ds2"), "--command-frame", "enu", "--pose-topic", ""],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "world-frame command without a pose" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def _noisy_flight(bag):
    """Frames the camera dropped (every 7th), a camera that stops after 6 s while commands go on,
    commands from 0.5 s before the first frame, and an image cut short (frame 20). Noisy pixels:
    an MCAP of several chunks, so damage takes only part."""
    from rosbags.rosbag2 import Writer
    from rosbags.rosbag2.enums import StoragePlugin
    from rosbags.typesys import Stores, get_typestore

    ts = get_typestore(Stores.ROS2_HUMBLE)
    T = ts.types
    stamp = lambda t: T["builtin_interfaces/msg/Time"](sec=int(t), nanosec=int(round((t % 1) * 1e9)))  # noqa: E731
    header = lambda t: T["std_msgs/msg/Header"](stamp=stamp(t), frame_id="x")  # noqa: E731
    vec = lambda x=0.0, z=0.0: T["geometry_msgs/msg/Vector3"](x=x, y=0.0, z=z)  # noqa: E731
    with Writer(bag, version=8, storage_plugin=StoragePlugin.MCAP) as w:
        cam = w.add_connection("/camera/image_raw", "sensor_msgs/msg/Image", typestore=ts)
        cmd = w.add_connection("/cmd_vel", "geometry_msgs/msg/Twist", typestore=ts)  # no header: bag time
        rng = np.random.default_rng(0)
        for k in range(-5, 200):
            t = 10.0 + 0.1 * k
            w.write(cmd, int(t * 1e9), ts.serialize_cdr(T["geometry_msgs/msg/Twist"](linear=vec(0.4), angular=vec()),
                                                        "geometry_msgs/msg/Twist"))
            if 0 <= k < 60 and k % 7 != 3:
                pixels = rng.integers(0, 256, 128 * 128 * 3 if k != 20 else 100, dtype=np.uint8)
                img = T["sensor_msgs/msg/Image"](header=header(t + 0.001), height=128, width=128, encoding="rgb8",
                                                 is_bigendian=0, step=384, data=pixels)
                w.write(cam, int((t + 0.001) * 1e9), ts.serialize_cdr(img, "sensor_msgs/msg/Image"))


def test_a_damaged_flight_keeps_what_is_sound_and_says_what_went(tmp_path):
    """Frames the camera dropped, a camera that stops while commands go on, commands before the
    first frame, an image that does not decode, and a damaged stretch of the file."""
    from cognitivedrone.data.from_bag import FromBagConfig, convert

    bag = tmp_path / "damaged"
    _noisy_flight(bag)
    mcap = next(bag.glob("*.mcap"))
    raw = bytearray(mcap.read_bytes())
    a, b = int(len(raw) * 0.55), int(len(raw) * 0.6)
    raw[a:b] = b"\xff" * (b - a)  # a damaged stretch inside the data (the file's index at its end is intact)
    mcap.write_bytes(bytes(raw))

    report = convert(FromBagConfig([str(bag)], str(tmp_path / "ds"), instruction="fly through the red gate",
                                   topics=TopicMap(pose="", instruction="")), log=lambda *_: None)
    reasons = "\n".join(report.lines())
    assert report.episodes >= 1 and report.frames >= 20, reasons
    assert "image of 100 bytes for 128x128 rgb8" in reasons
    assert "damaged part" in reasons, reasons
    assert (tmp_path / "ds" / "meta" / "info.json").is_file() and not list(tmp_path.glob(".ds*"))


def test_a_bag_whose_recorder_was_killed_reads_up_to_the_cut(tmp_path):
    """A recorder killed mid-flight (or a drone whose battery went) leaves an MCAP without its
    footer and summary, and no metadata.yaml: rosbags cannot open it; what was written stands."""
    from cognitivedrone.data.from_bag import FromBagConfig, convert

    whole, cut = tmp_path / "whole", tmp_path / "cut"
    _noisy_flight(whole)
    _noisy_flight(cut)
    mcap = next(cut.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[: int(mcap.stat().st_size * 0.7)])
    (cut / "metadata.yaml").unlink()

    topics = TopicMap(pose="", instruction="")
    got, full = read_streams(cut, topics), read_streams(whole, topics)
    assert 10 <= len(got.frames) < len(full.frames)
    assert [f.t for f in got.frames] == [f.t for f in full.frames[: len(got.frames)]]  # the first ones, unchanged
    assert all(np.array_equal(a.value, b.value) for a, b in zip(got.frames, full.frames))
    assert any("ends without its footer" in why for why in got.unreadable), got.unreadable
    report = convert(FromBagConfig([str(cut)], str(tmp_path / "ds"), instruction="fly through the red gate",
                                   topics=topics), log=lambda *_: None)
    assert report.episodes == 1 and report.frames >= 10, report.lines()
    assert any("ends without its footer" in line for line in report.lines()), report.lines()

    # Nothing of a flight left at all (cut inside the header): one line, not a traceback.
    mcap.write_bytes(mcap.read_bytes()[:20])
    with pytest.raises(ValueError, match="no topic /camera/image_raw .*never closed"):
        read_streams(cut, topics)
