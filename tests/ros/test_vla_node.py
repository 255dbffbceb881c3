"""vla_node's faults, as a separate process over DDS: e-stop, a camera that stops, malformed
frames. The policy is the shipped checkpoint on torch (no export needed); frames are the expert's
real FPV frames at the simulator camera's 256 px."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import SetBool

from cognitivedrone.resources import DEFAULT_CHECKPOINT
from cognitivedrone_ros.conversions import rgb_to_image
from cognitivedrone_ros.node_support import COMMAND_QOS, EVENTS_QOS, LATCHED_QOS, SENSOR_QOS
from cognitivedrone_ros.stack import Stack, config_path

from .conftest import RosProbe, worker_index

pytestmark = pytest.mark.xdist_group("ros-vla")

INSTRUCTION = "fly through the big round red gate with the digit 7"


class Camera:
    """Publishes real frames at `hz` from a thread until stopped; records when it last did."""

    def __init__(self, probe: RosProbe, frames: np.ndarray, hz: float = 20.0):
        self.pub = probe.publisher(Image, "camera/image_raw", SENSOR_QOS)
        self.probe, self.frames, self.period = probe, frames, 1.0 / hz
        self.last_sent = None
        self.last_stamp = None  # header stamp (ns) of the last frame sent
        self._on = threading.Event()
        self._paused = threading.Event()
        self._next: np.ndarray | None = None
        self.shown_since = None  # stamp (ns) of the first frame of the frames last shown
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        k = 0
        while True:
            if not self._on.is_set():
                self._paused.set()
                self._on.wait()
                self._paused.clear()
            switched = self._next is not None
            if switched:
                self.frames, self._next, k = self._next, None, 0
            img = self.frames[k % len(self.frames)]
            stamp = self.probe.node.get_clock().now().to_msg()
            self.pub.publish(rgb_to_image(img, stamp))
            self.last_sent, self.last_stamp = time.monotonic(), stamp_ns(stamp)
            if switched:
                self.shown_since = self.last_stamp
            k += 1
            time.sleep(self.period)

    def start(self):
        self._on.set()

    def show(self, frames: np.ndarray) -> int:
        """Publish these frames (in turn) from the next frame on; the stamp (ns) of the first."""
        self.shown_since = None
        self._next = frames
        self.probe.wait_for(lambda: self.shown_since, 5, "the camera to show the new frames")
        return self.shown_since

    def stop(self) -> int:
        """Stop; the stamp (ns) of the last frame sent."""
        self._on.clear()
        assert self._paused.wait(5), "the camera thread did not stop"  # a publish in progress is done
        return self.last_stamp


def stamp_ns(stamp) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


@pytest.fixture(scope="module")
def vla(tmp_path_factory, worker_id):
    """One vla_node for the module, on a domain of its own."""
    from cognitivedrone.bench.frames import away_frames, expert_frames

    domain = 90 + worker_index(worker_id) % 10  # apart from the per-test domains (10..89)
    import os

    env = dict(os.environ, ROS_DOMAIN_ID=str(domain))
    frames, _ = expert_frames(40, image_size=256)
    global FLIGHT, AWAY
    FLIGHT, AWAY = frames, away_frames(20, image_size=256)
    stack = Stack(config_path("sim"), {"vla_node": {"engine": "torch", "wait_for_rewrite_s": "0.0",
                                                    "checkpoint": str(DEFAULT_CHECKPOINT)}},
                  nodes=("vla_node",), env=env, log_dir=tmp_path_factory.mktemp("vla-logs"))
    probe = RosProbe(domain)
    camera = None
    stack.start()
    try:
        cmds = probe.listen(TwistStamped, "cmd_vel", COMMAND_QOS)
        diags = probe.listen(DiagnosticArray, "diagnostics", EVENTS_QOS)
        instruction = probe.publisher(String, "instruction", LATCHED_QOS)
        camera = Camera(probe, frames)
        probe.wait_for(lambda: cmds, 60, "vla_node's first cmd_vel (it is up)")
        instruction.publish(String(data=INSTRUCTION))
        camera.start()
        yield probe, camera, cmds, diags, stack
    finally:
        if camera is not None:
            camera.stop()  # before its publisher goes with the probe
        stack.stop()
        probe.close()


def speed(m) -> float:
    v, w = m.twist.linear, m.twist.angular
    return abs(v.x) + abs(v.y) + abs(v.z) + abs(w.z)


def moving(cmds, since: float) -> bool:
    return any(t > since and speed(m) > 0.05 for t, m in cmds)


def vla_stats(diags) -> dict:
    status = [m.status[0] for _, m in diags if "fast loop" in m.status[0].name]
    return {kv.key: kv.value for kv in status[-1].values} if status else {}


def test_estop_latches_zero_velocity_within_one_cycle(vla):
    probe, camera, cmds, _, _ = vla
    camera.start()
    t0 = time.monotonic()
    probe.wait_for(lambda: moving(cmds, t0), 30, "the policy to command motion")
    reply = probe.call(SetBool, "estop", SetBool.Request(data=True))
    t_reply = time.monotonic()
    assert reply.success and "zero velocity" in reply.message
    time.sleep(0.5)  # frames keep coming: the policy still runs, the e-stop wins
    after = [(t, m) for t, m in cmds if t > t_reply]
    assert len(after) >= 5  # frames at 20 Hz: their commands keep coming
    # The node publishes the zero command as it handles the request, before answering it: every
    # command heard after the answer is zero.
    assert not moving(cmds, t_reply - 1e-3)
    assert all(speed(m) == 0.0 for _, m in after)
    probe.call(SetBool, "estop", SetBool.Request(data=False))
    t1 = time.monotonic()
    probe.wait_for(lambda: moving(cmds, t1), 10, "motion again after release")


def test_camera_stop_means_hover_within_250_ms(vla):
    probe, camera, cmds, _, _ = vla
    camera.start()
    t0 = time.monotonic()
    probe.wait_for(lambda: moving(cmds, t0), 30, "the policy to command motion")
    last_frame = camera.stop()
    t_stop = time.monotonic()
    probe.wait_for(lambda: any(t > t_stop + 0.5 for t, _ in cmds), 5, "commands after the camera stopped")
    # By stamps (one clock on one machine): a frame's command carries the frame's stamp, the
    # watchdog's its own time, so what follows the last frame is the watchdog's doing.
    later = sorted((stamp_ns(m.header.stamp), m) for _, m in cmds if stamp_ns(m.header.stamp) > last_frame)
    # The hover that lasts: the first command from which on every one is zero. (Under load a frame
    # can arrive over 0.2 s old and bring a brief hover of its own before the last frame lands.)
    flags = [speed(m) > 0 for _, m in later]  # a hover is exactly zero
    settled = len(flags) - next((i for i, f in enumerate(reversed(flags)) if f), len(flags))
    assert settled < len(later), "never hovered after the camera stopped"
    delay = (later[settled][0] - last_frame) / 1e9
    assert delay <= 0.25, f"hover came {delay:.3f} s after the last frame"
    assert (later[-1][0] - later[settled][0]) / 1e9 > 0.2  # and lasted while we listened
    camera.start()


def test_malformed_frames_are_dropped_counted_and_the_node_goes_on(vla):
    probe, camera, cmds, diags, stack = vla
    camera.stop()
    bad = camera.pub  # matched long ago: a new publisher's first messages could go before discovery
    before = int(vla_stats(diags).get("dropped_malformed", 0))
    for msg in (Image(height=4, width=4, encoding="32FC1", step=16, data=bytes(64)),  # wrong encoding
                Image(height=256, width=256, encoding="rgb8", step=768, data=bytes(1000)),  # size mismatch
                Image(height=0, width=0, encoding="rgb8", step=0, data=b"")):  # empty
        msg.header.stamp = probe.node.get_clock().now().to_msg()
        bad.publish(msg)
        time.sleep(0.1)
    probe.wait_for(lambda: int(vla_stats(diags).get("dropped_malformed", 0)) >= before + 3, 5,
                   "diagnostics counting the 3 malformed frames")
    assert not stack.exited(), "vla_node died"
    camera.start()
    t0 = time.monotonic()
    probe.wait_for(lambda: moving(cmds, t0), 10, "the policy flying on good frames again")


# -- doubt (issue 12): frames that cannot be flown on, and a view without the gate --------------------

FLIGHT = AWAY = None  # real frames, set by the module fixture


def fly_again(probe, camera, cmds):
    camera.show(FLIGHT)
    t0 = time.monotonic()
    probe.wait_for(lambda: moving(cmds, t0), 30, "the policy flying on real frames")


def since_stamp(cmds, stamp: int):
    """(seconds after `stamp`, command) for every command stamped at or after it, by stamp."""
    return sorted(((stamp_ns(m.header.stamp) - stamp) / 1e9, m) for _, m in cmds if stamp_ns(m.header.stamp) >= stamp)


def status_says(diags, text: str) -> bool:
    return any(text in m.status[0].message for _, m in diags if "fast loop" in m.status[0].name)


@pytest.mark.parametrize("kind", ["black", "white", "frozen"])
def test_black_white_or_frozen_frames_hover_within_250_ms_and_say_why(vla, kind):
    probe, camera, cmds, diags, stack = vla
    camera.start()
    fly_again(probe, camera, cmds)
    shape = FLIGHT.shape[1:]
    frames = {"black": np.zeros((3, *shape), np.uint8), "white": np.full((3, *shape), 255, np.uint8),
              "frozen": np.repeat(FLIGHT[5:6], 3, axis=0)}[kind]
    start = camera.show(frames)
    time.sleep(1.5)
    after = since_stamp(cmds, start)
    hover_from = next(dt for dt, m in after if all(speed(n) == 0 for d, n in after if d >= dt))
    assert hover_from <= 0.25, f"hover came {hover_from:.3f} s after the first such frame"
    why = {"black": "too dark", "white": "overexposed", "frozen": "frozen camera"}[kind]
    probe.wait_for(lambda: status_says(diags, why), 5, f"/diagnostics saying {why!r}")
    assert int(vla_stats(diags)["unflyable_frames"]) > 0
    fly_again(probe, camera, cmds)
    assert not stack.exited()


@pytest.mark.parametrize("kind", ["noise", "no gate"])
def test_noise_or_a_view_without_the_gate_stops_translation_within_1_s(vla, kind):
    probe, camera, cmds, diags, stack = vla
    camera.start()
    fly_again(probe, camera, cmds)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (10, *FLIGHT.shape[1:]), dtype=np.uint8) if kind == "noise" else AWAY
    start = camera.show(frames)
    time.sleep(2.0)
    after = since_stamp(cmds, start)
    late = [m for dt, m in after if dt > 1.0]
    assert late and all(m.twist.linear.x == m.twist.linear.y == m.twist.linear.z == 0.0 for m in late)
    why = "without structure" if kind == "noise" else "searching"
    probe.wait_for(lambda: status_says(diags, why), 5, f"/diagnostics saying {why!r}")
    if kind == "no gate":  # turning in place to look for it
        assert any(abs(m.twist.angular.z) > 0.3 for m in late)
    fly_again(probe, camera, cmds)
    assert not stack.exited()


def test_hostile_instructions_and_rewrites_do_not_stop_the_node(vla):
    """100,000 nested '[' used to raise RecursionError in the callback (the node died); a 10 MB
    instruction held the only thread for 3.9 s with no command meanwhile."""
    probe, camera, cmds, diags, stack = vla
    camera.start()
    fly_again(probe, camera, cmds)
    rewrites = probe.publisher(String, "instruction/rewritten", EVENTS_QOS)
    instruction = probe.publisher(String, "instruction", LATCHED_QOS)
    probe.wait_for_subscribers(rewrites)
    t0 = time.monotonic()
    rewrites.publish(String(data="[" * 100_000))
    rewrites.publish(String(data='{"instruction": ' * 5000))
    instruction.publish(String(data="fly " * 2_500_000))
    time.sleep(1.5)
    assert not stack.exited(), "vla_node died"
    stamps = sorted(t for t, _ in cmds if t > t0)
    assert stamps and max(b - a for a, b in zip(stamps, stamps[1:])) < 0.5, "cmd_vel went quiet"
    probe.wait_for(lambda: int(vla_stats(diags).get("instructions_refused", 0)) >= 1, 5, "the long instruction refused")
    assert int(vla_stats(diags)["rewrites_ignored"]) >= 2
    instruction.publish(String(data=INSTRUCTION))  # as before, for the other tests


def test_the_same_instruction_again_is_no_news_and_another_is_taken(vla):
    """The instruction's sources send it again every second (node_support.StatePublisher: a
    latched sample can miss a late joiner), so a repeat must not restart the flight (the
    reasoner's answer, the turn in progress); a different instruction still does."""
    probe, camera, _, diags, _ = vla
    camera.start()
    instruction = probe.publisher(String, "instruction", LATCHED_QOS)
    probe.wait_for_subscribers(instruction)

    def taken_after(t: float) -> int:
        """instructions_taken in the second diagnostics message heard after `t` (1 Hz)."""
        probe.wait_for(lambda: sum(s > t for s, _ in diags) >= 2, 10, "vla_node's diagnostics")
        return int(vla_stats(diags)["instructions_taken"])

    before = taken_after(time.monotonic())
    for _ in range(3):
        instruction.publish(String(data=INSTRUCTION))
        time.sleep(0.1)
    assert taken_after(time.monotonic()) == before
    instruction.publish(String(data="fly through the small green gate"))
    assert taken_after(time.monotonic()) == before + 1
    instruction.publish(String(data=INSTRUCTION))  # as before, for the other tests
    assert taken_after(time.monotonic()) == before + 2
