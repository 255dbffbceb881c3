"""The ground station's one way in (docs/design.md, Who may command the drone).

On the drone, every ROS 2 node talks on localhost only; the ground station reaches it through
one UDP port (the `ground_link` node), with datagrams it signs. Each datagram is one JSON object:

    {"v": 1, "peer": "gcs-1", "kind": "instruction" | "estop" | "rewrite", "data": ...,
     "t": unix time (s), "nonce": 32 hex digits, "sig": HMAC-SHA256 of the rest, hex}

signed with the peer's secret from an allow-list (a keys file only root or the drone's user can
read: `cognitivedrone ground keygen`). `Gate.judge` decides:

- e-stop engage ({"kind": "estop", "data": true}) is always accepted, signed or not: anyone
  who can reach the drone may stop it;
- e-stop release and instructions only from an allow-listed peer, with a valid signature, a
  time within `max_skew_s` of the drone's and a nonce not seen before (no replays);
- rewrites never: they come from the on-board reasoner only;
- anything else (not JSON, too big, wrong fields) is refused.
Every refusal is counted by reason (the node puts the counts in /diagnostics).

Why not SROS2: DDS security would do this with certificates, but the Fast DDS in the PyPI
wheels is built without it, so it cannot be tested here; README says how to set it up on a
ROS machine whose DDS has it. This module needs only the standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

PROTOCOL = 1
DEFAULT_PORT = 14650
MAX_DATAGRAM = 4096  # an instruction is at most 2,000 characters
KINDS = ("instruction", "estop", "rewrite")
MIN_SECRET_BYTES = 16
REASONS = ("malformed", "unauthenticated", "stale", "replayed", "not_from_ground", "bad_instruction")


def canonical(message: dict) -> bytes:
    """The bytes a signature covers: the message without "sig", keys sorted, no spaces."""
    body = {k: v for k, v in message.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(kind: str, data, peer: str, secret: bytes, t: float | None = None, nonce: str | None = None) -> bytes:
    """A datagram for the drone's ground_link."""
    message = {"v": PROTOCOL, "peer": peer, "kind": kind, "data": data, "t": time.time() if t is None else t,
               "nonce": nonce or secrets.token_hex(16)}
    message["sig"] = hmac.new(secret, canonical(message), hashlib.sha256).hexdigest()
    return json.dumps(message).encode()


def new_secret() -> str:
    return secrets.token_hex(32)


def load_keys(path: str | Path) -> dict[str, bytes]:
    """peer -> secret, from a JSON keys file {"peers": {"NAME": "HEX SECRET"}}. Refused (one-line
    ValueError) if others may read it, or a secret is short or not hex."""
    from cognitivedrone.bounded_json import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no keys file (make one: cognitivedrone ground keygen --out {path})")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{path}: group or others may read it; its secrets would not be secret (chmod 600 {path})")
    raw = load_file(path)
    peers = raw.get("peers") if isinstance(raw, dict) else None
    if not isinstance(peers, dict) or not peers:
        raise ValueError(f'{path}: expected {{"peers": {{"NAME": "HEX SECRET", ...}}}}')
    keys = {}
    for name, value in peers.items():
        try:
            secret = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            secret = b""
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"{path}: peer {name!r}: a secret is at least {MIN_SECRET_BYTES} bytes of hex "
                             f"(cognitivedrone ground keygen makes 32)")
        keys[str(name)] = secret
    return keys


def write_keys(path: str | Path, peers: dict[str, str]) -> None:
    """The keys file, readable by its owner only, written whole or not at all."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"peers": peers}, f, indent=1)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Verdict:
    """What the drone does with one datagram."""

    accepted: bool
    kind: str | None
    data: object = None
    peer: str | None = None
    authenticated: bool = False
    why: str = ""  # for a refusal: one of REASONS, then what exactly


@dataclass
class Gate:
    """The decisions, without sockets or ROS (the ground_link node feeds it datagrams)."""

    keys: dict[str, bytes]
    max_skew_s: float = 5.0
    clock: object = time.time
    counts: dict[str, int] = field(default_factory=dict)
    _nonces: OrderedDict = field(default_factory=OrderedDict)

    def judge(self, datagram: bytes) -> Verdict:
        verdict = self._judge(datagram)
        if verdict.accepted:
            key = f"accepted_{verdict.kind}" + ("_engage" if verdict.kind == "estop" and verdict.data else "")
            if verdict.kind == "estop" and verdict.data and not verdict.authenticated:
                key += "_unauthenticated"
        else:
            key = f"refused_{verdict.why.split(':')[0]}"
        self.counts[key] = self.counts.get(key, 0) + 1
        return verdict

    def _judge(self, datagram: bytes) -> Verdict:
        from cognitivedrone.bounded_json import loads_bounded

        if len(datagram) > MAX_DATAGRAM:
            return Verdict(False, None, why=f"malformed: {len(datagram)} bytes, at most {MAX_DATAGRAM}")
        try:
            message = loads_bounded(datagram, max_bytes=MAX_DATAGRAM, max_depth=4, what="datagram")
        except ValueError as exc:
            return Verdict(False, None, why=f"malformed: {exc}")
        if not isinstance(message, dict) or message.get("kind") not in KINDS or message.get("v") != PROTOCOL:
            return Verdict(False, None, why=f"malformed: not a ground-link message (v {PROTOCOL}; kind one of {KINDS})")
        kind, data = message["kind"], message.get("data")
        peer = message.get("peer") if isinstance(message.get("peer"), str) else None
        problem = self._authenticate(message)
        if kind == "estop" and data is True:  # engage: whoever asks
            return Verdict(True, kind, True, peer, authenticated=problem is None)
        if problem is not None:
            return Verdict(False, kind, data, peer, why=problem)
        if kind == "rewrite":
            return Verdict(False, kind, data, peer, True, "not_from_ground: rewrites come from the on-board reasoner")
        if kind == "estop":
            if data is not False:
                return Verdict(False, kind, data, peer, True, "malformed: estop data is true or false")
            return Verdict(True, kind, False, peer, True)
        from cognitivedrone.pilot import check_instruction

        try:
            return Verdict(True, kind, check_instruction(data), peer, True)
        except ValueError as exc:
            return Verdict(False, kind, None, peer, True, f"bad_instruction: {exc}")

    def _authenticate(self, message: dict) -> str | None:
        """None if the message is signed by an allow-listed peer, recent and new; else why not."""
        peer, sig, t, nonce = (message.get(k) for k in ("peer", "sig", "t", "nonce"))
        secret = self.keys.get(peer) if isinstance(peer, str) else None
        if secret is None:
            return "unauthenticated: not an allow-listed peer"
        want = hmac.new(secret, canonical(message), hashlib.sha256).hexdigest()
        if not isinstance(sig, str) or not hmac.compare_digest(sig, want):
            return "unauthenticated: bad signature"
        now = self.clock()
        if not isinstance(t, (int, float)) or isinstance(t, bool) or abs(now - t) > self.max_skew_s:
            return f"stale: its time is more than {self.max_skew_s:g} s from the drone's (clocks synchronised?)"
        if not isinstance(nonce, str) or (peer, nonce) in self._nonces:
            return "replayed: this nonce was used before"
        self._nonces[(peer, nonce)] = now
        while self._nonces and next(iter(self._nonces.values())) < now - 2 * self.max_skew_s:
            self._nonces.popitem(last=False)  # older than any time still accepted: cannot come back
        return None
