"""recorder: the stack's topics -> a rosbag2 bag (MCAP storage) that `ros2 bag info` and
`ros2 bag play` read: the raw material for fine-tuning on real flights.

Subscribes (raw: the serialized CDR is written as received, never deserialised):
camera/image_raw (sensor_msgs/Image, sensor QoS), instruction (std_msgs/String, transient local),
instruction/rewritten (std_msgs/String), cmd_vel (geometry_msgs/TwistStamped), odom
(nav_msgs/Odometry, sensor QoS), episode/outcome (std_msgs/String, transient local), diagnostics
(diagnostic_msgs/DiagnosticArray). Publishes nothing.

A bag is a directory: metadata.yaml plus one .mcap. Each message is stamped with its receive time
on the node's ROS clock (sim time under use_sim_time). metadata.yaml is written when the recorder
stops (Ctrl-C, SIGTERM, max_duration_s); a killed recorder (SIGKILL) leaves an .mcap without it.

Also `cognitivedrone record` (cmd_record; its arguments are in cognitivedrone/cli.py): the same
node, in-process.
"""

from __future__ import annotations

import importlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile

from cognitivedrone_ros.node_support import (
    COMMAND_QOS,
    EVENTS_QOS,
    LATCHED_QOS,
    SENSOR_QOS,
    Param,
    declare_params,
    non_negative,
    run,
)

# rosbag2 metadata version 8 (Iron/Jazzy's own): Humble's reader takes it as well (it ignores the
# newer keys), whereas version 9 writes offered_qos_profiles as a YAML list, which Humble and
# Jazzy fail to parse.
BAG_VERSION = 8


@dataclass(frozen=True)
class TopicSpec:
    msgtype: str  # ROS 2 type name, e.g. sensor_msgs/msg/Image
    qos: QoSProfile  # what the stack's publishers offer: written to the bag for `ros2 bag play`


# Fixed, not discovered: a topic that isn't up yet when recording starts is still recorded.
TOPICS: dict[str, TopicSpec] = {
    "camera/image_raw": TopicSpec("sensor_msgs/msg/Image", SENSOR_QOS),
    "instruction": TopicSpec("std_msgs/msg/String", LATCHED_QOS),
    "instruction/rewritten": TopicSpec("std_msgs/msg/String", EVENTS_QOS),
    "cmd_vel": TopicSpec("geometry_msgs/msg/TwistStamped", COMMAND_QOS),
    "teleop/cmd_vel": TopicSpec("geometry_msgs/msg/TwistStamped", COMMAND_QOS),  # a pilot's (sim_node pilot:=expert)
    "odom": TopicSpec("nav_msgs/msg/Odometry", SENSOR_QOS),
    "episode/outcome": TopicSpec("std_msgs/msg/String", LATCHED_QOS),
    "diagnostics": TopicSpec("diagnostic_msgs/msg/DiagnosticArray", EVENTS_QOS),
}

# The subscriptions' history: a burst (reliable cmd_vel at depth 1, say) waiting while a frame
# is written must not overwrite itself before it is taken. Depth is the reader's own cache, so
# a deeper one stays compatible with every publisher.
RECORD_DEPTH = 100

PARAMS = [
    Param("out", "", "the bag directory to create (metadata.yaml + .mcap); it must not exist yet "
          "(default: bags/flight-<local time>)", lambda v: isinstance(v, str), "a path"),
    Param("topics", ",".join(TOPICS), f"comma-separated topics to record, a subset of: {', '.join(TOPICS)}",
          lambda v: isinstance(v, str) and bool(v.strip()), "comma-separated topic names"),
    Param("max_duration_s", 0.0, "stop after this many seconds (0: until stopped)", non_negative, "a number >= 0"),
]


def parse_topics(text: str) -> list[str]:
    """'cmd_vel, odom' -> ['cmd_vel', 'odom']; a name not in TOPICS raises naming the known ones."""
    topics = list(dict.fromkeys(t.strip().lstrip("/") for t in text.split(",") if t.strip()))
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}; the recorder knows {', '.join(TOPICS)}")
    if not topics:
        raise ValueError(f"no topics to record; choose from {', '.join(TOPICS)}")
    return topics


def default_out() -> str:
    return f"bags/flight-{time.strftime('%Y%m%d-%H%M%S')}"


def message_class(msgtype: str):
    """'sensor_msgs/msg/Image' -> sensor_msgs.msg.Image: a raw subscription still needs its type support."""
    pkg, kind, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{pkg}.{kind}"), name)


def bag_qos(qos: QoSProfile):
    """rclpy QoS -> rosbags' Qos (both carry the rmw enum values)."""
    from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime

    def t(d) -> QosTime:
        sec, nsec = divmod(d.nanoseconds, 1_000_000_000)
        return QosTime(sec, nsec)

    return Qos(QosHistory(int(qos.history)), qos.depth, QosReliability(int(qos.reliability)),
               QosDurability(int(qos.durability)), t(qos.deadline), t(qos.lifespan),
               QosLiveliness(int(qos.liveliness)), t(qos.liveliness_lease_duration),
               qos.avoid_ros_namespace_conventions)


class Recorder(Node):
    def __init__(self, **overrides):
        """overrides: parameter values (out, topics, max_duration_s), e.g. from `cognitivedrone record`."""
        super().__init__("recorder", parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()])
        from rosbags.rosbag2 import Writer
        from rosbags.rosbag2.enums import StoragePlugin
        from rosbags.typesys import Stores, get_typestore

        p = self.params = declare_params(self, PARAMS)
        topics = parse_topics(p["topics"])
        self.path = Path(p["out"] or default_out())
        if self.path.exists():
            raise ValueError(f"recorder: {self.path} exists already; a bag is never overwritten: "
                             "give a new out directory")
        self.writer = Writer(self.path, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP)
        self.writer.open()
        self.closed = False
        self.finished = False  # max_duration_s reached
        self.started_ns = self.get_clock().now().nanoseconds
        # These types are the same in Humble, Jazzy and Kilted (same RIHS01 hashes), so the
        # Jazzy store's definitions describe the CDR that any of them publishes.
        typestore = get_typestore(Stores.ROS2_JAZZY)
        self.counts: dict[str, int] = {}  # resolved topic name -> messages written
        self.connections = {}  # topic as subscribed -> (resolved name, rosbags Connection)
        for topic in topics:
            spec = TOPICS[topic]
            sub = self.create_subscription(
                message_class(spec.msgtype), topic, lambda data, topic=topic: self.on_message(topic, data),
                QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=max(spec.qos.depth, RECORD_DEPTH),
                           reliability=spec.qos.reliability, durability=spec.qos.durability),
                raw=True)
            name = sub.topic_name  # fully resolved (/camera/image_raw), as `ros2 bag record` writes it
            self.connections[topic] = name, self.writer.add_connection(
                name, spec.msgtype, typestore=typestore, offered_qos_profiles=[bag_qos(spec.qos)])
            self.counts[name] = 0
        if p["max_duration_s"] > 0:
            self.stop_timer = self.create_timer(p["max_duration_s"], self.on_duration)
        self.get_logger().info(f"recording {', '.join(self.counts)} to {self.path}")

    def on_message(self, topic: str, data: bytes) -> None:
        if self.closed:  # max_duration_s closed the bag; the executor may still hand out a message
            return
        name, conn = self.connections[topic]
        self.writer.write(conn, self.get_clock().now().nanoseconds, data)
        self.counts[name] += 1

    def on_duration(self) -> None:
        self.stop_timer.cancel()
        self.finished = True
        self.get_logger().info(f"max_duration_s {self.params['max_duration_s']:g} reached")
        self.close()
        # Ends node_support.run's spin (and the process); cmd_record's loop sees `finished`.
        self.context.try_shutdown()

    def close(self) -> None:
        """Write the MCAP index and metadata.yaml; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if not any(self.counts.values()):
            # rosbags would write its "no message yet" sentinel (2**63 - 1) as the start time
            self.writer.min_timestamp = self.writer.max_timestamp = self.started_ns
        self.writer.close()
        done = f"wrote {sum(self.counts.values())} messages to {self.path}"
        if self.context.ok():
            self.get_logger().info(done)
        else:  # stopped by a signal: the logger's rosout publisher is gone with the context
            print(f"[recorder] {done}", file=sys.stderr)


def read_bag(path: str | Path) -> dict[str, int]:
    """Messages per topic of a rosbag2 bag (from its metadata, as `ros2 bag info` shows them)."""
    from rosbags.rosbag2 import Reader

    with Reader(Path(path)) as reader:
        counts: dict[str, int] = {}
        for c in reader.connections:
            counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
        return counts


def bag_size(path: str | Path) -> int:
    return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file())


def main(args=None) -> None:
    run(Recorder, args)


if __name__ == "__main__":
    main()
