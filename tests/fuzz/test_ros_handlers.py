"""Boundary 6: every ROS message handler, called directly on in-process nodes (no DDS): vla_node,
mavros_bridge (enu and body), reasoner_node, sim_node. Messages carry arbitrary field values.

Properties: no exception escapes a raw handler (they validate what they read); what escapes
anyway is caught by the `guarded` wrapper the subscription holds (vla_node, mavros_bridge);
every TwistStamped published is finite and within the airframe's limits (zero with the e-stop
engaged); every rewrite published is the canonical sentence of a simple form, tagged with the
current instruction; and afterwards a normal message still gets a normal answer.

Nodes run in their own rclpy context on ROS_DOMAIN_ID 100 + (xdist worker % 2) (see conftest);
publishers are replaced by recorders, so nothing is sent."""

from __future__ import annotations

import array
import json
import math
import os
import sys
import time

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

os.environ.setdefault("AMENT_PREFIX_PATH", sys.prefix)
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
rclpy = pytest.importorskip("rclpy", reason="the ROS 2 wheels are not installed (make install puts them in .venv)")

from cognitivedrone_ros.conversions import command_to_twist, rgb_to_image  # noqa: E402
from geometry_msgs.msg import PoseStamped, TwistStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from std_srvs.srv import SetBool  # noqa: E402

from cognitivedrone.safety import SafetyConfig  # noqa: E402
from cognitivedrone.tasks.simple_form import parse_simple_form  # noqa: E402
from cognitivedrone.types import VelocityCommand  # noqa: E402

from .conftest import fuzz_settings  # noqa: E402
from .plugins import Scripted  # noqa: E402
from .strategies import any_float, any_text, hostile_json_text, json_values  # noqa: E402

pytestmark = pytest.mark.xdist_group("fuzz-ros")

INSTRUCTION = "fly through the big round red gate with the digit 7"


class Recorder:
    """Stands in for a node's publisher: keeps what would have been sent."""

    def __init__(self):
        self.sent: list = []

    def publish(self, msg) -> None:
        self.sent.append(msg)

    def take(self) -> list:
        sent, self.sent = self.sent, []
        return sent


def worker_index(worker_id: str) -> int:
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


@pytest.fixture(scope="module")
def ros(worker_id):
    """A context of the module's own, and a factory of nodes in it with parameter overrides."""
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=100 + worker_index(worker_id) % 2)
    original_init = Node.__init__
    overrides: dict[str, list[Parameter]] = {}

    def init(self, node_name, *args, **kwargs):  # the nodes call Node.__init__(name) with nothing else
        kwargs.setdefault("context", context)
        kwargs.setdefault("parameter_overrides", overrides.pop(node_name, []))
        original_init(self, node_name, *args, **kwargs)

    nodes = []

    def make(cls, params: dict, *recorders: str):
        name = {"VlaNode": "vla_node", "MavrosBridge": "mavros_bridge", "ReasonerNode": "reasoner_node",
                "SimNode": "sim_node"}[cls.__name__]
        overrides[name] = [Parameter(k, value=v) for k, v in params.items()]
        Node.__init__ = init
        try:
            node = cls()
        finally:
            Node.__init__ = original_init
        for attr in recorders:
            setattr(node, attr, Recorder())
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        close = getattr(node, "close", None)
        if close is not None:
            close()
        node.destroy_node()
    rclpy.shutdown(context=context)


def guarded_callbacks(node) -> dict:
    """The callbacks the node's subscriptions hold (the guarded wrappers, where there are any)."""
    return {sub.topic_name.lstrip("/"): sub.callback for sub in node.subscriptions}


def call(node, raw, msg, topic: str, escapes: list):
    """The raw handler; if it raises, the subscription's callback must not, and must count it."""
    try:
        return raw(msg)
    except Exception as exc:  # a finding: the handler did not foresee this
        escapes.append(f"{raw.__name__}: {exc!r}"[:300])
        callback = guarded_callbacks(node)[topic]
        before = getattr(node, "callback_errors", 0)
        callback(msg)  # must not raise: the guard's job
        assert node.callback_errors == before + 1, f"{topic}: the subscription's callback is not guarded"


# -- messages ------------------------------------------------------------------------------------

def smooth_rgb(size: int, a: float, b: float) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    grey = 128 + 90 * (a * x + b * y - (a + b) / 2) / max(abs(a) + abs(b), 1e-3)
    return np.clip(np.stack([grey, 0.8 * grey + 20, 0.6 * grey + 40], axis=2), 0, 255).astype(np.uint8)


GOOD_RGB = [smooth_rgb(256, 1, 0), smooth_rgb(256, 0, 1), smooth_rgb(256, 1, 1)]
ENCODINGS = ["rgb8", "bgr8", "rgba8", "bgra8", "mono8", "16UC1", "", "RGB8", "rgb8 ", "yuv422", "bayer_rggb8", "\x00"]
CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}


def now_stamp(node, offset_s: float = 0.0):
    t = node.get_clock().now().nanoseconds + int(offset_s * 1e9)
    msg = Image().header.stamp
    msg.sec, msg.nanosec = max(-2 ** 31, min(2 ** 31 - 1, t // 1_000_000_000)), t % 1_000_000_000
    return msg


@st.composite
def images(draw, node):
    """Half of them consistent (a known encoding, data of the size the header says), half not."""
    consistent = draw(st.booleans())
    enc = draw(st.sampled_from(list(CHANNELS) if consistent else ENCODINGS))
    ch = CHANNELS.get(enc, draw(st.integers(1, 4)))
    sizes = st.one_of(st.integers(1, 40), st.integers(100, 300))
    h = draw(sizes if consistent else st.one_of(sizes, st.sampled_from([0, 2 ** 32 - 1, 2 ** 31])))
    w = draw(sizes if consistent else st.one_of(sizes, st.sampled_from([0, 2 ** 32 - 1, 2 ** 31])))
    pad = draw(st.sampled_from([0, 0, 1, 3] if consistent else [0, 1, -1, -w * ch]))
    step = max(0, w * ch + pad) if consistent else draw(st.one_of(st.just(max(0, w * ch + pad)),
                                                                  st.sampled_from([0, 1, 2 ** 32 - 1])))
    size_ok = h * step <= 400_000
    n = h * step if size_ok else draw(st.integers(0, 1000))
    if not consistent:
        n = max(0, n + draw(st.sampled_from([0, 1, -1, -n // 2 if n else 0])))
    kind = draw(st.sampled_from(["noise", "smooth", "black", "white"]))
    if kind == "noise":
        data = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1))).integers(0, 256, n, dtype=np.uint8).tobytes()
    elif kind == "smooth":
        data = np.resize(GOOD_RGB[draw(st.integers(0, 2))], n).tobytes()
    else:
        data = bytes([0 if kind == "black" else 255]) * n
    msg = Image()
    msg.height, msg.width, msg.step, msg.encoding = h, w, step, enc
    msg.is_bigendian = draw(st.sampled_from([0, 1, 255]))
    # bytes only when small: rclpy's setter checks bytes one at a time in Python (~13 ms a 256 px frame)
    msg.data = data if n <= 4096 and draw(st.booleans()) else array.array("B", data)
    msg.header.frame_id = draw(st.text(max_size=10))
    stamp = draw(st.sampled_from(["now"] * 6 + ["old", "future", "zero", "min", "max"]))
    if stamp in ("now", "old", "future"):
        msg.header.stamp = now_stamp(node, {"now": 0.0, "old": -draw(st.floats(0.0, 1e6)), "future": 1e6}[stamp])
    else:
        msg.header.stamp.sec = {"zero": 0, "min": -2 ** 31, "max": 2 ** 31 - 1}[stamp]
        msg.header.stamp.nanosec = draw(st.sampled_from([0, 999_999_999, 2 ** 32 - 1]))
    return msg


_GOOD_MSGS: dict[int, Image] = {}


def good_image(node, k: int) -> Image:
    """A good camera frame, stamped now (built once: rgb_to_image takes ~7 ms a 256 px frame)."""
    msg = _GOOD_MSGS.get(k % 3)
    if msg is None:
        msg = _GOOD_MSGS[k % 3] = rgb_to_image(GOOD_RGB[k % 3], now_stamp(node))
    msg.header.stamp = now_stamp(node)
    return msg


def twists(stamps=st.just(None)):
    return st.builds(_twist, st.lists(st.one_of(any_float, st.floats(-3, 3)), min_size=6, max_size=6), stamps)


def _twist(values, stamp_ns):
    msg = TwistStamped()
    (msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z,
     msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z) = values
    if stamp_ns is not None:
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp_ns
    return msg


def _pose(q):
    msg = PoseStamped()
    o = msg.pose.orientation
    o.x, o.y, o.z, o.w = q
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = q[0], q[1], q[2]
    return msg


def yaw_quaternion(yaw: float, scale: float = 1.0):
    return (0.0, 0.0, math.sin(yaw / 2) * scale, math.cos(yaw / 2) * scale)


poses = st.one_of(
    st.tuples(st.floats(-math.pi, math.pi), st.sampled_from([1.0, 1.0, 0.95, 1.05, 0.5, 2.0, 0.0])).map(
        lambda p: yaw_quaternion(*p)),
    st.tuples(any_float, any_float, any_float, any_float),
    st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)),
).map(_pose)


def _odom(z):
    msg = Odometry()
    msg.pose.pose.position.z = z
    return msg


def rewrites(current: str):
    return st.one_of(
        st.sampled_from(["Fly through the blue gate", "Fly through the gate with a zebra", "the red gate", "go up 100 m",
                         ""]).map(lambda r: json.dumps({"instruction": current, "rewrite": r})),
        st.tuples(any_text, any_text).map(lambda p: json.dumps({"instruction": p[0], "rewrite": p[1]})),
        json_values(6).map(json.dumps),
        hostile_json_text,
        any_text,
        st.sampled_from([{"instruction": current, "rewrite": ["x"]}, {"instruction": [current], "rewrite": "x"},
                         {"instruction": None}, [current, "Fly through the blue gate"]]).map(json.dumps),
    )


def check_twist(msg, limits: np.ndarray, what: str) -> np.ndarray:
    assert isinstance(msg, TwistStamped), f"{what}: published {type(msg).__name__}"
    lin, ang = msg.twist.linear, msg.twist.angular
    v = np.array([lin.x, lin.y, lin.z, ang.z])
    assert np.all(np.isfinite(v)) and ang.x == 0.0 and ang.y == 0.0, f"{what}: published {msg.twist}"
    assert np.all(np.abs(v) <= limits), f"{what}: published {v}, beyond the limits {limits}"
    return v


# -- vla_node --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vla(ros):
    from cognitivedrone_ros.vla_node import VlaNode

    node = ros(VlaNode, {"engine": "torch", "wait_for_rewrite_s": 0.0, "checkpoint": "checkpoints/default"},
               "cmd_pub", "diag_pub")
    node.fuzz_limits = SafetyConfig.for_airframe(node.params["airframe"]).limits
    return node


@st.composite
def vla_ops(draw, node):
    kind = draw(st.sampled_from(["image", "image", "image", "good image", "instruction", "rewrite", "odom", "watchdog",
                                 "estop", "diagnostics"]))
    if kind == "image":
        return kind, draw(images(node))
    if kind == "good image":
        return kind, draw(st.integers(0, 2))
    if kind == "instruction":
        return kind, String(data=draw(st.one_of(any_text, st.sampled_from([INSTRUCTION, "fly to the zebra", " ", ""]))))
    if kind == "rewrite":
        return kind, String(data=draw(rewrites(INSTRUCTION)))
    if kind == "odom":
        return kind, _odom(draw(st.one_of(any_float, st.floats(-1, 6))))
    if kind == "estop":
        return kind, draw(st.booleans())
    return kind, None


def vla_alive(node) -> None:
    """A new normal instruction, altitude and frames: the policy flies (status ""), commands within
    limits. Another instruction first: the same one again is no news (its sources repeat it), so it
    would leave the Pilot as the fuzzed messages left it (searching, say)."""
    node.on_estop(SetBool.Request(data=False), SetBool.Response())
    node.on_odom(_odom(1.0))
    node.on_instruction(String(data="fly through the small green gate"))
    node.on_instruction(String(data=INSTRUCTION))
    node.cmd_pub.take()
    frames_before = node.pilot.stats.frames
    for k in range(3):
        node.on_image(good_image(node, k))
    sent = node.cmd_pub.take()
    assert len(sent) == 3, f"{len(sent)} commands for 3 good frames"
    for msg in sent:
        check_twist(msg, node.fuzz_limits, "vla_node alive check")
    assert node.pilot.stats.frames == frames_before + 3
    assert node.pilot.instruction == INSTRUCTION and node.pilot.status == "", node.pilot.status
    assert node.pilot.safety.last_reason in ("", "clamped", "acceleration limit", "altitude bound"), node.pilot.safety.last_reason


@fuzz_settings(100)
@given(data=st.data())
def test_vla_node_handlers(vla, data):
    node = vla
    escapes: list[str] = []
    ops = data.draw(st.lists(vla_ops(node), max_size=12), label="ops")
    errors_before = node.callback_errors
    for kind, arg in ops:
        event(f"vla_node {kind}")
        if kind == "image":
            counts = dict(node.counts), node.pilot.stats.frames
            call(node, node.on_image, arg, "camera/image_raw", escapes)
            event("vla_node image: " + ("flown" if node.pilot.stats.frames > counts[1] else
                                        "stale" if node.counts["dropped_stale"] > counts[0]["dropped_stale"] else
                                        "malformed" if node.counts["dropped_malformed"] > counts[0]["dropped_malformed"]
                                        else "?"))
        elif kind == "good image":
            call(node, node.on_image, good_image(node, arg), "camera/image_raw", escapes)
        elif kind == "instruction":
            call(node, node.on_instruction, arg, "instruction", escapes)
        elif kind == "rewrite":
            call(node, node.on_rewrite, arg, "instruction/rewritten", escapes)
        elif kind == "odom":
            call(node, node.on_odom, arg, "odom", escapes)
        elif kind == "estop":
            node.on_estop(SetBool.Request(data=arg), SetBool.Response())
        elif kind == "watchdog":
            node.last_publish = 0.0  # as if no frame just went out
            node.on_watchdog()
        else:
            node.publish_diagnostics()
        for msg in node.cmd_pub.take():
            v = check_twist(msg, node.fuzz_limits, f"vla_node after {kind}")
            if node.pilot.safety.estopped:
                assert not np.any(v), f"moving with the e-stop engaged: {v}"
    assert not escapes, escapes
    assert node.callback_errors == errors_before
    vla_alive(node)


def test_vla_node_guard_catches_what_a_handler_does_not_foresee(vla):
    node = vla
    callbacks = guarded_callbacks(node)
    before = node.callback_errors
    for topic in ("camera/image_raw", "instruction", "instruction/rewritten", "odom"):
        callbacks[topic](object())  # no field the handler reads: it raises, the guard catches
    assert node.callback_errors == before + 4
    # The timers' callbacks too: a Pilot that fails inside tick() costs one tick, not the node.
    tick, node.pilot.tick = node.pilot.tick, lambda *a: 1 / 0
    try:
        node.last_publish = 0.0
        for timer in node.timers:
            timer.callback()
    finally:
        node.pilot.tick = tick
    assert node.callback_errors >= before + 5
    vla_alive(node)


# -- mavros_bridge --------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["enu", "body"])
def bridge(ros, request):
    from cognitivedrone_ros.mavros_bridge import MavrosBridge

    node = ros(MavrosBridge, {"frame": request.param}, "pub", "diag_pub")
    node.fuzz_limits = SafetyConfig.for_airframe(node.params["airframe"]).limits
    return node


def check_setpoint(node, msg, what: str) -> None:
    lin, ang = msg.twist.linear, msg.twist.angular
    v = np.array([lin.x, lin.y, lin.z, ang.z])
    assert np.all(np.isfinite(v)) and ang.x == 0.0 and ang.y == 0.0, f"{what}: {msg.twist}"
    if node.params["frame"] == "enu" and np.any(v):  # back into the body frame by the heading used
        c, s = math.cos(node.yaw), math.sin(node.yaw)
        v = np.array([c * v[0] + s * v[1], -s * v[0] + c * v[1], v[2], v[3]])
    assert np.all(np.abs(v) <= node.fuzz_limits * (1 + 1e-12)), f"{what}: body-frame set-point {v} beyond {node.fuzz_limits}"
    if node.reason:
        assert not np.any(v), f"{what}: a non-zero set-point while {node.reason!r}"


@fuzz_settings(300)
@given(ops=st.lists(st.one_of(st.tuples(st.just("cmd"), twists()), st.tuples(st.just("pose"), poses),
                              st.tuples(st.just("timer"), st.none()), st.tuples(st.just("diagnostics"), st.none())),
                    max_size=15))
def test_mavros_bridge_handlers(bridge, ops):
    node = bridge
    escapes: list[str] = []
    for kind, msg in ops:
        event(f"mavros_bridge {kind}")
        if kind == "cmd":
            call(node, node.on_cmd, msg, "cmd_vel", escapes)
            assert node.cmd is None or node.cmd.is_finite()
        elif kind == "pose":
            call(node, node.on_pose, msg, "mavros/local_position/pose", escapes)
            assert node.yaw is None or math.isfinite(node.yaw)
        elif kind == "timer":
            node.on_timer()
        else:
            node.publish_diagnostics()
        for out in node.pub.take():
            check_setpoint(node, out, f"mavros_bridge ({node.params['frame']}) after {kind}")
        sp, reason = node.setpoint(time.monotonic())
        assert all(math.isfinite(x) for x in sp)
    assert not escapes, escapes
    # alive: a fresh heading and command give the expected set-point
    node.on_pose(_pose(yaw_quaternion(math.pi / 2)))
    node.on_cmd(command_to_twist(VelocityCommand(0.5, 0.0, 0.2, 0.1), now_stamp(node)))
    node.on_timer()
    (out,) = node.pub.take()
    expected = (0.0, 0.5, 0.2, 0.1) if node.params["frame"] == "enu" else (0.5, 0.0, 0.2, 0.1)
    got = (out.twist.linear.x, out.twist.linear.y, out.twist.linear.z, out.twist.angular.z)
    assert np.allclose(got, expected, atol=1e-9), got


def test_mavros_bridge_guard_catches_what_a_handler_does_not_foresee(bridge):
    callbacks = guarded_callbacks(bridge)
    before = bridge.callback_errors
    callbacks["cmd_vel"](object())
    callbacks["mavros/local_position/pose"](object())
    assert bridge.callback_errors == before + 2


# -- reasoner_node ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reasoner(ros):
    from cognitivedrone_ros.reasoner_node import ReasonerNode

    node = ros(ReasonerNode, {"reasoner": "tests.fuzz.plugins:Scripted", "rate_hz": 0.001}, "pub", "diag_pub")
    node.loop.close()  # the test runs each slow-loop step itself (below), in step with the messages
    return node


def reasoner_step(node) -> None:
    """One slow-loop period, here: ask about the newest frame, hand the answer to the node."""
    frame, (task, text) = node.loop._frame, node.task
    if frame is not None and text:
        node.on_answer(task, node.loop.ask(text, frame))


reasoner_answers = st.one_of(
    any_text, st.sampled_from(["Fly through the red gate", "the small blue gate with a zebra", "", "go up 100 m",
                               "the red gate or the blue gate"]),
    st.tuples(any_text, st.sampled_from(["red gate", "the big triangle gate", "a zebra", "digit 7"]), any_text).map(
        lambda p: f"{p[0][:30]} {p[1]} {p[2][:30]}"),
    st.sampled_from([None, 3, b"red gate", RuntimeError("backend down"), ValueError("x")]),
)


@fuzz_settings(200)
@given(ops=st.lists(st.one_of(
    st.tuples(st.just("image"), st.data()),
    st.tuples(st.just("good image"), st.integers(0, 2)),
    st.tuples(st.just("instruction"), st.one_of(any_text, st.sampled_from([INSTRUCTION, "fly to the zebra", " ", ""]))
              .map(lambda t: String(data=t))),
    st.tuples(st.just("step"), reasoner_answers),
    st.tuples(st.just("diagnostics"), st.none()),
), max_size=10))
def test_reasoner_node_handlers(reasoner, ops):
    node = reasoner
    escapes: list[str] = []
    Scripted.bad_frames.clear()
    for kind, arg in ops:
        event(f"reasoner_node {kind}")
        if kind == "image":
            call(node, node.on_image, arg.draw(images(node)), "camera/image_raw", escapes)
        elif kind == "good image":
            call(node, node.on_image, good_image(node, arg), "camera/image_raw", escapes)
        elif kind == "instruction":
            call(node, node.on_instruction, arg, "instruction", escapes)
        elif kind == "step":
            Scripted.answers[:] = [arg]
            reasoner_step(node)
        else:
            node.publish_diagnostics()
        for msg in node.pub.take():
            event("reasoner_node published a rewrite")
            tagged = json.loads(msg.data)
            assert set(tagged) == {"instruction", "rewrite"} and tagged["instruction"] == node.task[1]
            target = parse_simple_form(tagged["rewrite"])
            assert target is not None and target.sentence() == tagged["rewrite"], tagged
    assert not escapes, escapes
    assert not Scripted.bad_frames, Scripted.bad_frames
    # alive: an instruction, a good frame and an answer give a published rewrite
    node.on_instruction(String(data=INSTRUCTION))
    node.on_image(good_image(node, 0))
    Scripted.answers[:] = ["the big red gate"]
    reasoner_step(node)
    (msg,) = node.pub.take()
    assert json.loads(msg.data) == {"instruction": INSTRUCTION, "rewrite": "Fly through the big red gate"}


# -- sim_node ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim(ros):
    from cognitivedrone_ros.sim_node import SimNode

    return ros(SimNode, {"suite": "smoke", "image_size": 64, "lockstep": False, "wait_for_topics": ""},
               "image_pub", "odom_pub", "outcome_pub", "instruction_pub", "diag_pub")


@fuzz_settings(150)
@given(ops=st.lists(st.one_of(
    st.tuples(st.just("cmd"), twists(st.one_of(st.none(), st.tuples(st.integers(-2 ** 31, 2 ** 31 - 1),
                                                                    st.integers(0, 2 ** 32 - 1))))),
    st.tuples(st.just("instruction"), st.one_of(any_text, st.sampled_from(["fly", " ", ""])).map(lambda t: String(data=t))),
    st.tuples(st.just("tick"), st.none()),
    st.tuples(st.just("diagnostics"), st.none()),
), max_size=10))
def test_sim_node_handlers(sim, ops):
    node = sim
    escapes: list[str] = []
    if node.outcome is not None:  # the episode ended (a crash, the time limit): fly it again
        from cognitivedrone.sim.scene import scene_options

        node.obs, _ = node.env.reset(seed=node.episode.seed, options=scene_options(node.episode, node.prompt))
        node.outcome = None
    for kind, arg in ops:
        event(f"sim_node {kind}")
        if kind == "cmd":
            call(node, node.on_cmd, arg, "cmd_vel", escapes)
            assert node.cmd is None or node.cmd.is_finite()
        elif kind == "instruction":
            call(node, node.on_instruction, arg, "instruction", escapes)
            assert node.heard is None or node.heard.strip()
        elif kind == "tick":
            steps = node.steps
            node.on_tick()
            assert np.all(np.isfinite(node.obs["state"]))
            event("sim_node stepped" if node.steps > steps else "sim_node did not step")
        else:
            node.publish_diagnostics()
        for msg in node.odom_pub.take():
            p = msg.pose.pose.position
            assert all(math.isfinite(x) for x in (p.x, p.y, p.z, msg.twist.twist.linear.x, msg.twist.twist.angular.z))
        node.image_pub.take()
    assert not escapes, escapes
    # alive: a good command is taken as it is
    good = VelocityCommand(0.3, 0.0, 0.0, 0.0)
    node.on_cmd(command_to_twist(good, now_stamp(node)))
    assert node.cmd == good
