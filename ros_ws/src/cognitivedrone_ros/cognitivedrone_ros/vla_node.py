"""vla_node: the fast loop. Camera frame in, body-frame velocity command out, through a Pilot
(policy engine + safety filter); rewrites from reasoner_node arrive on `instruction/rewritten`.

Subscribes: camera/image_raw (sensor_msgs/Image, sensor QoS), instruction (std_msgs/String,
transient local), instruction/rewritten (std_msgs/String, JSON {"instruction", "rewrite"} from
reasoner_node), odom (nav_msgs/Odometry: altitude for the altitude bounds, used while under
0.5 s old; on a drone remap it to mavros/local_position/odom). Publishes: cmd_vel (geometry_msgs/TwistStamped, base_link;
stamped with the frame's stamp, so latency is measurable end to end), diagnostics. Service:
estop (std_srvs/SetBool: true latches zero velocity, false releases).

Between frames a watchdog timer (watchdog_hz) passes the last command through the safety filter
again and sends it when it changes, so when the camera stops the drone is told to hover within
stale_after_s plus one watchdog period; cmd_vel also never goes quieter than 20 Hz.
"""

from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import SetBool

from cognitivedrone.bounded_json import loads_bounded
from cognitivedrone.pilot import check_instruction
from cognitivedrone.policy.inputs import fit_image
from cognitivedrone_ros.conversions import command_to_twist, image_to_rgb, stamp_to_s
from cognitivedrone_ros.node_support import (
    COMMAND_QOS,
    DIAGNOSTICS_HZ,
    ERROR,
    EVENTS_QOS,
    LATCHED_QOS,
    OK,
    SENSOR_QOS,
    WARN,
    Deltas,
    LatencyWindow,
    Param,
    declare_params,
    diagnostic,
    guarded,
    limit_params,
    limit_values,
    non_negative,
    one_of,
    positive,
    run,
    safety_config,
)

KEEPALIVE_HZ = 20.0  # cmd_vel never goes quieter than this, frames or not
MAX_REWRITE_BYTES = 4096  # a tagged rewrite is two sentences
ODOM_FRESH_S = 0.5  # an altitude older than this is not used for the altitude bounds

PARAMS = [
    Param("checkpoint", "checkpoints/default", "policy checkpoint directory (config.json + model.safetensors; "
          "checkpoints/default: the one shipped in the package unless the working directory has one; "
          "model.onnx and instruction_encoder.onnx for onnxruntime/tensorrt)", lambda v: bool(v), "a directory"),
    Param("engine", "onnxruntime", "inference engine: torch, onnxruntime or tensorrt",
          one_of("torch", "onnxruntime", "tensorrt"), "torch, onnxruntime or tensorrt"),
    Param("threads", 1, "CPU threads for the engine", lambda v: isinstance(v, int) and v >= 1, "an integer >= 1"),
    Param("airframe", "cf2x", "airframe whose limits the safety filter clamps to (cf2x, racer)",
          one_of("cf2x", "racer"), "cf2x or racer"),
    Param("stale_after_s", 0.2, "hover when the newest frame is older than this (s)", positive, "a number > 0"),
    Param("max_image_age_s", 0.2, "drop a frame whose header stamp is older than this on arrival (s); 0: don't "
          "look at stamps (a camera that does not stamp with this machine's clock)", non_negative, "a number >= 0"),
    Param("watchdog_hz", 100.0, "rate of the timer that re-sends the filtered command between frames (Hz)",
          positive, "a number > 0"),
    Param("wait_for_rewrite_s", 5.0, "after a new instruction, wait this long for reasoner_node's rewrites, "
          "hovering, then after 1 s turning in place to show it more billboards; then fly the newest (0: fly "
          "on the user's words at once, e.g. without a reasoner_node)",
          non_negative, "a number >= 0"),
    Param("initial_instruction", "", "an instruction to start with (else wait for the instruction topic)"),
    DIAGNOSTICS_HZ,
    *limit_params(),
]


class VlaNode(Node):
    def __init__(self):
        super().__init__("vla_node")
        from cognitivedrone.pilot import Pilot, PilotConfig
        from cognitivedrone.resources import resolve_checkpoint
        from cognitivedrone.runtime import make_engine
        from cognitivedrone.runtime.factory import export_where_possible
        from cognitivedrone.safety import SafetyFilter

        p = self.params = declare_params(self, PARAMS)
        # The vehicle's limits, checked before anything heavy loads.
        self.limits = safety_config(self, p, stale_after_s=p["stale_after_s"])
        self.get_logger().info(f"limits ({p['airframe']} unless set): {self.limits.describe()}")
        checkpoint = resolve_checkpoint(p["checkpoint"])
        if p["engine"] != "torch":
            export_where_possible(checkpoint, log=self.get_logger().info)
        self.engine = make_engine(p["engine"], checkpoint, threads=p["threads"])
        self.engine.embed("hover")  # loads the text model now, not in the first instruction's callback
        if p["stale_after_s"] + 1.0 / p["watchdog_hz"] > 0.25:
            self.get_logger().warning(f"stale_after_s {p['stale_after_s']} + one watchdog period is over 0.25 s: "
                                      "the drone keeps flying longer than that on a camera that stopped")
        safety = SafetyFilter(self.limits)
        self.pilot = Pilot(self.engine, None, safety, PilotConfig(
            mode="threaded", external_rewrites=p["wait_for_rewrite_s"] > 0,
            first_answer_wait_s=p["wait_for_rewrite_s"]),
            warn=lambda m: self.get_logger().warning(m, throttle_duration_sec=2.0))
        self.t0 = time.monotonic()
        self.altitude, self.altitude_t = None, -1e9
        self.latency = LatencyWindow()
        self.counts = {"dropped_malformed": 0, "dropped_stale": 0, "rewrites_accepted": 0, "rewrites_ignored": 0,
                       "instructions_taken": 0, "instructions_refused": 0}
        self.last_doubt = ""
        self.grown = Deltas()
        self.last_publish = 0.0
        self.last_cmd = None

        # One executor thread (node_support.run): frames, the watchdog and the e-stop take turns,
        # so the safety filter's state needs no lock; a frame holds the others up for ~1 ms.
        self.cmd_pub = self.create_publisher(TwistStamped, "cmd_vel", COMMAND_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", EVENTS_QOS)
        self.create_subscription(Image, "camera/image_raw", guarded(self, self.on_image), SENSOR_QOS)
        self.create_subscription(String, "instruction", guarded(self, self.on_instruction), LATCHED_QOS)
        self.create_subscription(String, "instruction/rewritten", guarded(self, self.on_rewrite), EVENTS_QOS)
        self.create_subscription(Odometry, "odom", guarded(self, self.on_odom), SENSOR_QOS)
        self.create_service(SetBool, "estop", self.on_estop)
        self.create_timer(1.0 / p["watchdog_hz"], guarded(self, self.on_watchdog))
        self.create_timer(1.0 / p["diagnostics_hz"], guarded(self, self.publish_diagnostics))
        if p["initial_instruction"]:
            self.pilot.set_instruction(p["initial_instruction"])
        d = self.engine.describe()
        self.get_logger().info(f"flying {checkpoint} on {d.get('engine', p['engine'])}, "
                               f"{self.engine.image_size}px frames; instruction: {self.pilot.instruction or '(waiting)'!r}")

    def now(self) -> float:
        return time.monotonic() - self.t0

    def altitude_now(self) -> float | None:
        """The last odom altitude, None once older than ODOM_FRESH_S: stale bounds are no bounds."""
        return self.altitude if time.monotonic() - self.altitude_t <= ODOM_FRESH_S else None

    # -- inputs ------------------------------------------------------------------------------------
    def on_image(self, msg: Image) -> None:
        t_arrival = time.perf_counter()
        max_age, taken = self.params["max_image_age_s"], stamp_to_s(msg.header.stamp)
        age = max(0.0, self.get_clock().now().nanoseconds * 1e-9 - taken) if max_age > 0 and taken > 0 else 0.0
        if age > max_age:  # checked before the pixels are touched: a stale frame costs nothing
            self.counts["dropped_stale"] += 1
            self.get_logger().warning(f"dropped a camera frame {age:.2f} s old (max_image_age_s {max_age})",
                                      throttle_duration_sec=2.0)
            return
        try:
            rgb = fit_image(image_to_rgb(msg), self.engine.image_size)
        except ValueError as exc:
            self.counts["dropped_malformed"] += 1
            self.get_logger().warning(f"dropped a camera frame: {exc}", throttle_duration_sec=2.0)
            return
        now = self.now()
        # The view's age counts from its stamp (the camera's clock is this machine's, as a driver
        # stamps it), so a frame delayed on the way does not keep the drone flying longer.
        cmd = self.pilot.on_frame(rgb, now, altitude_m=self.altitude_now(), taken_t=now - age)
        self.publish(cmd, msg.header.stamp)
        self.latency.add(time.perf_counter() - t_arrival)
        self.log_status()

    def log_status(self) -> None:
        """Say once when the Pilot starts or stops doubting (unflyable frames, searching)."""
        doubt = self.pilot.doubt
        if doubt != self.last_doubt:
            if doubt:
                self.get_logger().warning(f"not flying the policy: {doubt}")
            else:
                self.get_logger().info("flying the policy again")
            self.last_doubt = doubt

    def on_instruction(self, msg: String) -> None:
        try:
            text = check_instruction(msg.data)
        except ValueError as exc:
            self.counts["instructions_refused"] += 1
            self.get_logger().warning(f"ignored an instruction: {exc}", throttle_duration_sec=2.0)
            return
        if text == self.pilot.user_instruction:
            return  # the same again: its sources repeat it (node_support.StatePublisher), no news
        try:
            self.pilot.set_instruction(text)
        except Exception as exc:  # the text model failing: keep flying the current instruction
            self.get_logger().error(f"could not take instruction {text!r} ({exc!r}); "
                                    f"keeping {self.pilot.instruction!r}")
            return
        self.counts["instructions_taken"] += 1
        self.get_logger().info(f"instruction: {text!r}")

    def on_rewrite(self, msg: String) -> None:
        try:
            tagged = loads_bounded(msg.data, max_bytes=MAX_REWRITE_BYTES, max_depth=2, what="rewrite")
            rewrite, about = tagged["rewrite"], tagged["instruction"]
            if not (isinstance(rewrite, str) and isinstance(about, str)):
                raise TypeError("rewrite and instruction must be strings")
        except (ValueError, TypeError, KeyError):
            rewrite, about = "", None
        if about is not None and self.pilot.offer_rewrite(rewrite, about.strip()):
            self.counts["rewrites_accepted"] += 1
            self.get_logger().info(f"acting on {self.pilot.instruction!r}", throttle_duration_sec=5.0)
            return
        self.counts["rewrites_ignored"] += 1
        why = ("not JSON {\"instruction\": ..., \"rewrite\": ...}" if about is None else
               "about another instruction" if about.strip() != self.pilot.user_instruction else "names no gate or object")
        self.get_logger().warning(f"ignored rewrite {msg.data[:120]!r}: {why}", throttle_duration_sec=2.0)

    def on_odom(self, msg: Odometry) -> None:
        # A non-finite altitude is kept: the safety filter hovers on a broken altimeter.
        self.altitude, self.altitude_t = float(msg.pose.pose.position.z), time.monotonic()

    def on_estop(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        self.pilot.estop(bool(request.data))
        # Now, not at the next frame: the e-stop must not wait for the camera.
        self.publish(self.pilot.tick(self.now(), self.altitude_now()), self.get_clock().now().to_msg())
        response.success = True
        response.message = "e-stop engaged: zero velocity until released" if request.data else "e-stop released"
        self.get_logger().warning(response.message)
        return response

    # -- outputs -----------------------------------------------------------------------------------
    def on_watchdog(self) -> None:
        """Between frames: the last command through the filter again. Sent when it changed (the
        frame went stale: hover now) or to keep cmd_vel at >= KEEPALIVE_HZ when frames are slow."""
        if time.monotonic() - self.last_publish < 0.5 / self.params["watchdog_hz"]:
            return  # a frame's command just went out
        cmd = self.pilot.tick(self.now(), self.altitude_now())
        if cmd != self.last_cmd or time.monotonic() - self.last_publish >= 1.0 / KEEPALIVE_HZ:
            self.publish(cmd, self.get_clock().now().to_msg())

    def publish(self, cmd, stamp) -> None:
        self.cmd_pub.publish(command_to_twist(cmd, stamp))
        self.last_cmd, self.last_publish = cmd, time.monotonic()

    def stats(self) -> dict:
        s = self.pilot.stats
        return {"engine": self.params["engine"], "frames": s.frames, **self.latency.summary(), **self.counts,
                "policy_errors": s.policy_errors, "callback_errors": self.callback_errors,
                "unflyable_frames": s.unflyable_frames, "search_frames": s.search_frames,
                "gate_lost_frames": s.gate_lost_frames, "status": self.pilot.status or "flying",
                "safety": self.pilot.safety.last_reason or "pass", "estop": self.pilot.safety.estopped,
                "altitude_known": self.altitude_now() is not None, "instruction": self.pilot.instruction,
                **limit_values(self.limits)}

    def publish_diagnostics(self) -> None:
        st = self.stats()
        if st["frames"] and not self.pilot.user_instruction:
            self.get_logger().warning("camera frames arrive but no instruction has come (topic instruction): hovering",
                                      throttle_duration_sec=30.0)
        new = self.grown({k: st[k] for k in ("policy_errors", "dropped_malformed", "dropped_stale", "callback_errors")})
        doubt = self.pilot.doubt
        if new["policy_errors"] or new["callback_errors"]:
            level, message = ERROR, (f"the policy failed {new['policy_errors']} time(s): hovering" if new["policy_errors"]
                                     else f"{new['callback_errors']} message(s) could not be handled: dropped")
        elif st["estop"]:
            level, message = WARN, "e-stop engaged"
        elif doubt:
            level, message = WARN, doubt  # hovering or searching, and why
        elif new["dropped_malformed"] or new["dropped_stale"]:
            level, message = WARN, f"dropped {new['dropped_malformed']} malformed, {new['dropped_stale']} stale frame(s)"
        else:
            level, message = OK, f"{st['rate_hz']:.1f} Hz, p99 {st['latency_p99_ms']:.2f} ms"
        self.diag_pub.publish(diagnostic(self, "fast loop", level, message, st))

    def close(self) -> None:
        self.pilot.close()


def main(args=None) -> None:
    run(VlaNode, args)


if __name__ == "__main__":
    main()
