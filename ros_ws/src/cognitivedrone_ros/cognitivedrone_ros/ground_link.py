"""ground_link: the ground station's one way in (cognitivedrone.ground_link has the protocol).

The drone's nodes talk on localhost only (`cognitivedrone stack drone`, drone.launch.py); this node
listens on one UDP port of the drone's network for signed datagrams from allow-listed peers
(`keys_file`) and passes on what they may ask: an instruction (published on `instruction`,
transient local) and e-stop release (vla_node's `estop` service). E-stop engage is passed on
from anyone. Rewrites are never taken from the ground. Each datagram gets a one-line JSON reply
({"ok": bool, "why": ...}); every refusal is counted in /diagnostics by reason.

Send from the ground station: `cognitivedrone ground send --to DRONE --keys FILE --peer NAME
instruction "fly through the red gate"` (or `estop on|off`).
"""

from __future__ import annotations

import json
import socket

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import SetBool

from cognitivedrone_ros.node_support import (
    DIAGNOSTICS_HZ,
    EVENTS_QOS,
    INSTRUCTION_REPEAT_S,
    OK,
    WARN,
    Deltas,
    Param,
    StatePublisher,
    declare_params,
    diagnostic,
    guarded,
    positive,
    run,
)


def _address(v) -> bool:
    host, sep, port = str(v).rpartition(":")
    return bool(sep and host) and port.isdigit() and 0 <= int(port) < 65536


PARAMS = [
    Param("listen", "0.0.0.0:14650", "HOST:PORT of the UDP socket the ground station sends to (port 0: any free one, "
          "logged)", _address, "HOST:PORT, e.g. 0.0.0.0:14650"),
    Param("keys_file", "", "allow-list of peers and their secrets (cognitivedrone ground keygen; readable by its owner "
          "only); empty: only e-stop engage is accepted"),
    Param("max_skew_s", 5.0, "a signed message whose time is further than this from the drone's is refused (s)",
          positive, "a number > 0"),
    Param("poll_hz", 50.0, "how often the socket is read (Hz)", positive, "a number > 0"),
    INSTRUCTION_REPEAT_S,
    DIAGNOSTICS_HZ,
]


class GroundLink(Node):
    def __init__(self):
        super().__init__("ground_link")
        from cognitivedrone.ground_link import MAX_DATAGRAM, Gate, load_keys

        p = self.params = declare_params(self, PARAMS)
        keys = load_keys(p["keys_file"]) if p["keys_file"] else {}
        self.gate = Gate(keys, max_skew_s=p["max_skew_s"])
        self.max_datagram = MAX_DATAGRAM
        host, _, port = p["listen"].rpartition(":")
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host.strip("[]"), int(port)))
        except OSError as exc:
            raise ValueError(f"ground_link: cannot listen on {p['listen']} ({exc.strerror})") from None
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.grown = Deltas()
        self.instruction_pub = StatePublisher(self, String, "instruction", p["instruction_repeat_s"])
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", EVENTS_QOS)
        self.estop = self.create_client(SetBool, "estop")
        self.estop_failures = 0
        self.create_timer(1.0 / p["poll_hz"], guarded(self, self.poll))
        self.create_timer(1.0 / p["diagnostics_hz"], guarded(self, self.publish_diagnostics))
        who = f"{len(keys)} allow-listed peer(s): {', '.join(sorted(keys))}" if keys else \
            "no keys_file: only e-stop engage is accepted"
        self.get_logger().info(f"listening on {host}:{self.port} (UDP) for the ground station; {who}")

    def poll(self) -> None:
        for _ in range(64):  # a burst is read now; a flood waits for the next tick
            try:
                datagram, sender = self.sock.recvfrom(self.max_datagram + 1)
            except (BlockingIOError, InterruptedError):
                return
            verdict = self.gate.judge(datagram)
            if verdict.accepted:
                self.act(verdict)
            else:
                self.get_logger().warning(f"refused {verdict.kind or 'a datagram'} from {sender[0]} "
                                          f"({verdict.peer or 'no peer'}): {verdict.why}", throttle_duration_sec=2.0)
            reply = {"ok": verdict.accepted, "kind": verdict.kind, "why": verdict.why}
            try:
                self.sock.sendto(json.dumps(reply).encode(), sender)
            except OSError:
                pass  # the sender is gone; the verdict stands

    def act(self, verdict) -> None:
        if verdict.kind == "instruction":
            self.instruction_pub.publish(String(data=verdict.data))
            self.get_logger().info(f"instruction from {verdict.peer}: {verdict.data!r}")
            return
        engage = bool(verdict.data)
        if not self.estop.service_is_ready():
            self.estop_failures += 1
            self.get_logger().error(f"e-stop {'engage' if engage else 'release'} from {verdict.peer or 'a peer'}: "
                                    "vla_node's estop service is not up", throttle_duration_sec=1.0)
            return
        self.estop.call_async(SetBool.Request(data=engage))
        self.get_logger().warning(f"e-stop {'engaged' if engage else 'released'} by {verdict.peer or 'an unknown peer'}"
                                  f"{'' if verdict.authenticated else ' (unauthenticated: engage is taken from anyone)'}")

    def publish_diagnostics(self) -> None:
        counts = {**self.gate.counts, "estop_failures": self.estop_failures}
        refused = {k: v for k, v in counts.items() if k.startswith("refused_")}
        new = sum(self.grown(refused).values())
        level = WARN if new or self.estop_failures else OK
        message = f"refused {new} message(s) in the last period" if new else "listening"
        self.diag_pub.publish(diagnostic(self, "ground link", level, message,
                                         {"port": self.port, "peers": len(self.gate.keys), **counts}))

    def close(self) -> None:
        self.sock.close()


def main(args=None) -> None:
    run(GroundLink, args)


if __name__ == "__main__":
    main()
