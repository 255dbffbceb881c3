"""Reading a flight's streams out of rosbag2 bags (MCAP or sqlite3) with `rosbags`, into the
time-stamped values bag_sync.py labels: camera frames as RGB arrays, commands and poses as
vectors, instructions as text (docs/design.md, Recorded flights).

Which topic is which comes from a `TopicMap`; the message type decides how a message is read:
  camera       sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8) or sensor_msgs/CompressedImage
  command      geometry_msgs/Twist or TwistStamped (linear x, y, z and angular z)
  pose         nav_msgs/Odometry or geometry_msgs/PoseStamped (position and roll, pitch, yaw)
  instruction  std_msgs/String
A message's time is its header stamp where it has one, else when the bag received it. A message
that cannot be read (a frame of another encoding, a corrupt image) is counted by reason, not fatal.
An MCAP its recorder never closed (killed: no footer, no metadata.yaml), which rosbags refuses, is
read front to back with the `mcap` library up to where it stops.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cognitivedrone.data.bag_sync import Stamped

IMAGE_CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}


@dataclass(frozen=True)
class TopicMap:
    camera: str = "/camera/image_raw"
    command: str = "/cmd_vel"
    pose: str = "/odom"  # "" for none
    instruction: str = "/instruction"  # "" for none (then --instruction)


@dataclass
class Streams:
    """One bag's streams, each sorted by time, and what could not be read."""

    bag: Path
    frames: list[Stamped] = field(default_factory=list)
    commands: list[Stamped] = field(default_factory=list)
    poses: list[Stamped] = field(default_factory=list)
    instructions: list[Stamped] = field(default_factory=list)
    unreadable: Counter = field(default_factory=Counter)


def _stamp(msg, log_time_ns: int) -> float:
    header = getattr(msg, "header", None)
    if header is not None and (header.stamp.sec or header.stamp.nanosec):
        return header.stamp.sec + header.stamp.nanosec * 1e-9
    return log_time_ns * 1e-9


def image_rgb(msg) -> np.ndarray:
    """sensor_msgs/Image or CompressedImage -> uint8 [H, W, 3] RGB; ValueError naming what is wrong."""
    if hasattr(msg, "format"):  # CompressedImage
        import io

        from PIL import Image, UnidentifiedImageError

        try:
            return np.asarray(Image.open(io.BytesIO(bytes(msg.data))).convert("RGB"))
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"compressed image ({msg.format}) does not decode: {exc}") from None
    channels = IMAGE_CHANNELS.get(msg.encoding)
    if channels is None:
        raise ValueError(f"image encoding {msg.encoding!r} (read: {', '.join(IMAGE_CHANNELS)})")
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.frombuffer(bytes(msg.data), np.uint8)
    if h <= 0 or w <= 0 or step < w * channels or data.size < h * step:
        raise ValueError(f"image of {data.size} bytes for {w}x{h} {msg.encoding}, step {step}")
    pixels = data[: h * step].reshape(h, step)[:, : w * channels].reshape(h, w, channels)
    if channels == 1:
        return np.repeat(pixels, 3, axis=2)
    rgb = pixels[..., :3]
    return np.ascontiguousarray(rgb[..., ::-1] if msg.encoding.startswith("bgr") else rgb)


def command_vector(msg) -> np.ndarray:
    twist = getattr(msg, "twist", msg)  # TwistStamped holds a Twist
    return np.array([twist.linear.x, twist.linear.y, twist.linear.z, twist.angular.z], np.float32)


def pose_vector(msg) -> np.ndarray:
    pose = msg.pose.pose if hasattr(msg.pose, "pose") else msg.pose  # Odometry: PoseWithCovariance
    p, q = pose.position, pose.orientation
    roll = math.atan2(2 * (q.w * q.x + q.y * q.z), 1 - 2 * (q.x * q.x + q.y * q.y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (q.w * q.y - q.z * q.x))))
    yaw = math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z))
    return np.array([p.x, p.y, p.z, roll, pitch, yaw], np.float32)


def read_streams(bag: str | Path, topics: TopicMap) -> Streams:
    """The mapped topics of one bag. FileNotFoundError or ValueError (one line) when the bag cannot
    be opened, or holds none of the camera or command topic. An MCAP the recorder never closed
    (killed, or the battery went: no footer, often no metadata.yaml) is read up to where it stops."""
    bag = Path(bag)
    if not bag.exists():
        raise FileNotFoundError(f"{bag}: no such bag")
    out = Streams(bag)
    readers = {topics.camera: ("frames", image_rgb), topics.command: ("commands", command_vector)}
    if topics.pose:
        readers[topics.pose] = ("poses", pose_vector)
    if topics.instruction:
        readers[topics.instruction] = ("instructions", lambda m: str(m.data))
    try:
        source = _RosbagsSource(bag)
    except Exception as exc:  # rosbags' own errors: not a bag, unknown storage, broken metadata
        if not (mcaps := _unclosed_mcaps(bag)):
            raise ValueError(f"{bag}: not a readable rosbag2 bag ({type(exc).__name__}: {exc})") from None
        source = _UnclosedMcapSource(mcaps, out.unreadable)
    with source:
        have = source.topics()
        for needed in (topics.camera, topics.command):
            if needed not in have:
                cut = "; it was never closed and holds nothing up to the cut" if source.unclosed else ""
                raise ValueError(f"{bag}: no topic {needed} (it has: {', '.join(sorted(have)) or 'none'}{cut}); "
                                 f"map yours with --camera-topic / --command-topic")
        messages = source.messages(set(readers))
        while True:
            try:
                topic, msgtype, log_time, raw = next(messages)
            except StopIteration:
                break
            except Exception as exc:  # a damaged chunk: what came before it stands
                out.unreadable[f"the rest of the bag after a damaged part ({type(exc).__name__})"] += 1
                break
            name, read = readers[topic]
            try:
                msg = source.deserialize(raw, msgtype)
                getattr(out, name).append(Stamped(_stamp(msg, log_time), read(msg)))
            except (ValueError, AttributeError, KeyError) as exc:
                out.unreadable[f"{topic}: {str(exc).splitlines()[0][:120]}"] += 1
    for name in ("frames", "commands", "poses", "instructions"):
        getattr(out, name).sort(key=lambda s: s.t)
    return out


def _typestore():
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_HUMBLE)


class _RosbagsSource:
    """A bag rosbags can open (metadata.yaml; an MCAP with its footer, or sqlite3)."""

    unclosed = False

    def __init__(self, bag: Path):
        from rosbags.highlevel import AnyReader

        self.reader = AnyReader([bag], default_typestore=_typestore())
        self.reader.open()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.reader.close()

    def topics(self) -> set[str]:
        return {c.topic for c in self.reader.connections}

    def messages(self, wanted: set[str]):
        connections = [c for c in self.reader.connections if c.topic in wanted]
        for connection, log_time, raw in self.reader.messages(connections=connections):
            yield connection.topic, connection.msgtype, log_time, raw

    def deserialize(self, raw: bytes, msgtype: str):
        return self.reader.deserialize(raw, msgtype)


def _unclosed_mcaps(bag: Path) -> list[Path]:
    return sorted(bag.glob("*.mcap")) if bag.is_dir() else [bag] if bag.suffix == ".mcap" else []


class _UnclosedMcapSource:
    """The MCAP files of a bag read front to back, record by record (the `mcap` library's stream
    reader): no footer, summary or metadata.yaml needed. Stops at the cut, saying so in `notes`."""

    unclosed = True

    def __init__(self, files: list[Path], notes: Counter):
        from mcap.records import Channel, Message, Schema
        from mcap.stream_reader import StreamReader

        self.notes, self.store = notes, _typestore()
        self.records: list = []  # (topic, msgtype, log_time, raw), read at once: a flight's worth
        have: set[str] = set()
        for f in files:
            schemas, channels = {}, {}
            try:
                with open(f, "rb") as stream:
                    for r in StreamReader(stream).records:
                        if isinstance(r, Schema):
                            schemas[r.id] = r.name
                        elif isinstance(r, Channel):
                            channels[r.id] = (r.topic, schemas.get(r.schema_id, ""))
                            have.add(r.topic)
                        elif isinstance(r, Message) and r.channel_id in channels:
                            self.records.append((*channels[r.channel_id], r.log_time, r.data))
            except Exception as exc:  # the cut: a record or chunk that was being written
                self.notes[f"{f.name} ends without its footer (the recorder did not close the bag); read up to "
                           f"the cut ({type(exc).__name__})"] += 1
        self.have = have

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def topics(self) -> set[str]:
        return self.have

    def messages(self, wanted: set[str]):
        for topic, msgtype, log_time, raw in self.records:
            if topic in wanted:
                yield topic, msgtype, log_time, raw

    def deserialize(self, raw: bytes, msgtype: str):
        return self.store.deserialize_cdr(raw, msgtype)
