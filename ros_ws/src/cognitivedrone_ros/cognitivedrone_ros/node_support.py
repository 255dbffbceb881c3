"""What every node here shares: declared, described and validated parameters; QoS profiles;
diagnostics; a main() that spins and shuts down cleanly."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

# Camera frames: newest only, best effort (a late frame is worth less than the next one).
SENSOR_QOS = qos_profile_sensor_data
# The user's instruction: a late joiner (a restarted node) still gets the last one.
LATCHED_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
COMMAND_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
EVENTS_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    check: Callable[[Any], bool] | None = None  # True if the value is acceptable
    expect: str = ""  # what `check` wants, for the error

    def validate(self, value):
        """`value` as the node will hold it, or ValueError saying what it should be. Typed by the
        default, except that a whole number is fine where a float is expected (`-p rate_hz:=30`)."""
        if isinstance(self.default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(self.default) or (self.check is not None and not self.check(value)):
            want = self.expect or f"a {type(self.default).__name__}"
            raise ValueError(f"parameter {self.name}={value!r} is invalid: expected {want}")
        return value


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))


def positive(v) -> bool:
    return _number(v) and v > 0


def non_negative(v) -> bool:
    return _number(v) and v >= 0


def one_of(*choices) -> Callable[[Any], bool]:
    return lambda v: v in choices


def declare_params(node: Node, params: list[Param]) -> dict[str, Any]:
    """Declare each parameter with its description; a value that fails its check stops the node
    with a message naming the parameter, the value and what it should be. Read-only: the nodes
    read them once, so `ros2 param set` must not report a change that never takes effect."""
    values = {}
    for p in params:
        # Dynamic typing where a float is expected: `-p rate_hz:=30` would otherwise end the node
        # with an InvalidParameterTypeException (validate makes it 30.0).
        loose = isinstance(p.default, float)
        descriptor = ParameterDescriptor(description=p.description, dynamic_typing=loose, read_only=True)
        try:
            values[p.name] = p.validate(node.declare_parameter(p.name, p.default, descriptor).value)
        except ValueError as exc:
            raise ValueError(f"{node.get_name()}: {exc}") from None
    return values


# Every node's diagnostics rate, one declaration.
DIAGNOSTICS_HZ = Param("diagnostics_hz", 1.0, "rate of the diagnostics message (Hz)", positive, "a number > 0")
# Of the nodes that publish the instruction (sim_node, ground_link).
INSTRUCTION_REPEAT_S = Param("instruction_repeat_s", 1.0, "send the last instruction again this often (s; 0: once): "
                             "a late joiner can miss the latched one", non_negative, "a number >= 0")


class StatePublisher:
    """A latched topic whose last message is sent again every `repeat_s`. TRANSIENT_LOCAL alone is
    not enough: Fast DDS now and then fails to hand the kept sample to a reader created after the
    publish (eProsima/Fast-DDS#3822; seen here once in CI, vla_node never heard the sim's
    instruction and hovered to the time limit). Receivers take an identical repeat as no news."""

    def __init__(self, node: Node, msg_type, topic: str, repeat_s: float):
        self.pub = node.create_publisher(msg_type, topic, LATCHED_QOS)
        self.last = None
        if repeat_s > 0:
            node.create_timer(repeat_s, self._again)

    def publish(self, msg) -> None:
        self.last = msg
        self.pub.publish(msg)

    def _again(self) -> None:
        if self.last is not None:
            self.pub.publish(self.last)


def limit_params() -> list[Param]:
    """The vehicle's limits as parameters (safety.LIMIT_RANGES): 0 takes the airframe profile's value
    (the speeds) or the safety filter's default; anything else must lie in its range."""
    from cognitivedrone.safety import LIMIT_RANGES

    return [Param(name, 0.0, f"{what} limit ({unit}; 0: the airframe profile's)",
                  lambda v, lo=lo, hi=hi: _number(v) and (v == 0 or lo < v <= hi), f"0 or a number in ({lo:g}, {hi:g}]")
            for name, (lo, hi, unit, what) in LIMIT_RANGES.items()]


def safety_config(node: Node, params: dict[str, Any], **extra):
    """The SafetyConfig of `params` (airframe + limit_params); a combination that cannot be (a floor
    above the ceiling) stops the node with one line, like a bad parameter."""
    from cognitivedrone.safety import LIMIT_RANGES, SafetyConfig

    given = {k: float(params[k]) for k in LIMIT_RANGES if params.get(k)}
    try:
        return SafetyConfig.for_airframe(params["airframe"], **given, **extra)
    except ValueError as exc:
        raise ValueError(f"{node.get_name()}: the vehicle's limits do not fit together: {exc}") from None


def limit_values(config) -> dict[str, float]:
    """The limits in force, for /diagnostics."""
    from cognitivedrone.safety import LIMIT_RANGES

    return {k: getattr(config, k) for k in LIMIT_RANGES}


class Deltas:
    """How much each count grew since the last call: a diagnostics level says what happened in
    the last period, not that something once went wrong in the whole flight."""

    def __init__(self):
        self.last: dict[str, int] = {}

    def __call__(self, counts: dict[str, int]) -> dict[str, int]:
        grown = {k: v - self.last.get(k, 0) for k, v in counts.items()}
        self.last = dict(counts)
        return grown


class LatencyWindow:
    """The last `n` latencies (s) and the rate of events over the window."""

    def __init__(self, n: int = 500):
        self.lat = np.zeros(n)
        self.times = np.zeros(n)
        self.count = 0

    def add(self, latency_s: float) -> None:
        i = self.count % len(self.lat)
        self.lat[i], self.times[i] = latency_s, time.monotonic()
        self.count += 1

    def summary(self) -> dict[str, float]:
        n = min(self.count, len(self.lat))
        if n == 0:
            return {"rate_hz": 0.0, "latency_p50_ms": float("nan"), "latency_p99_ms": float("nan")}
        lat, times = self.lat[:n], self.times[:n]
        span = times.max() - times.min()
        return {"rate_hz": (n - 1) / span if span > 0 else 0.0,
                "latency_p50_ms": float(np.percentile(lat, 50) * 1e3),
                "latency_p99_ms": float(np.percentile(lat, 99) * 1e3)}


def guarded(node: Node, callback: Callable[..., None]) -> Callable[..., None]:
    """`callback`, but an exception it raises is counted (node.callback_errors) and logged instead
    of ending the node: no message may kill a node. The handlers validate what they read; this is
    for what they did not foresee."""
    node.callback_errors = getattr(node, "callback_errors", 0)

    def safe(*args) -> None:  # a message, or nothing (a timer)
        try:
            callback(*args)
        except Exception as exc:
            node.callback_errors += 1
            node.get_logger().error(f"{callback.__name__} failed ({exc!r}); dropped that message or tick",
                                    throttle_duration_sec=2.0)

    safe.__name__ = callback.__name__
    return safe


def diagnostic(node: Node, name: str, level: bytes, message: str, values: dict[str, Any]) -> DiagnosticArray:
    """level: OK, WARN or ERROR (DiagnosticStatus's constants)."""
    status = DiagnosticStatus(level=level, name=f"{node.get_name()}: {name}", message=message,
                              hardware_id=node.get_fully_qualified_name(),
                              values=[KeyValue(key=k, value=_fmt(v)) for k, v in values.items()])
    msg = DiagnosticArray(status=[status])
    msg.header.stamp = node.get_clock().now().to_msg()
    return msg


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


class EndOfRun(Exception):  # noqa: N818 - not an error: the node's work is done
    """Raised from a node's callback to end `run` with exit status `status` (sim_node, once the
    episode is over: 0 for success)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def run(make_node: Callable[[], Node], args=None) -> None:
    """Spin one node until Ctrl-C, shutdown or EndOfRun; a bad parameter ends it with its message, exit 2."""
    import signal
    import sys
    import threading

    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    from cognitivedrone.reasoning.base import ReasonerError
    from cognitivedrone.runtime.engine import EngineError

    # A Ctrl-C (or the stack's SIGINT) that lands while rclpy is inside its C++ comes out as a
    # RuntimeError ("Unable to convert call argument"), not a KeyboardInterrupt: remember that one
    # arrived, so that it ends the node quietly. Installed before rclpy.init, which chains to it.
    interrupted = threading.Event()

    def on_sigint(signum, frame):
        interrupted.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    rclpy.init(args=args)
    node = None
    status = None
    try:
        try:
            node = make_node()
        except (ValueError, FileNotFoundError, EngineError, ReasonerError) as exc:
            # parameters, checkpoints, backends: say what is wrong, no traceback
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
        # One thread: every callback here is short (the policy ~1 ms; the reasoner runs in its own
        # thread). rclpy's MultiThreadedExecutor busy-waits while a callback group is busy, which
        # took a whole core and starved the simulator's 10 Hz step (measured: 1 step/s at times).
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except EndOfRun as end:
        status = end.status
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RuntimeError:
        if not interrupted.is_set():
            raise
    finally:
        # Ctrl-C in a terminal signals the whole group: the node and `ros2 launch`, which then
        # sends its own SIGINT. A second interrupt must not break the cleanup with a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if node is not None:
            close = getattr(node, "close", None)
            if close is not None:
                close()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    if status is not None:
        sys.exit(status)
