"""The ground link's decisions (cognitivedrone/ground_link.py), without sockets: who may do what."""

from __future__ import annotations

import json
import os

import pytest

from cognitivedrone.ground_link import MAX_DATAGRAM, Gate, load_keys, new_secret, sign, write_keys

SECRET = bytes.fromhex(new_secret())


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def gate():
    clock = Clock()
    return Gate({"gcs-1": SECRET}, max_skew_s=5.0, clock=clock), clock


def test_an_allow_listed_peer_may_instruct_and_release_the_estop(gate):
    g, clock = gate
    v = g.judge(sign("instruction", "  fly through the red gate ", "gcs-1", SECRET, t=clock.t))
    assert v.accepted and v.authenticated and v.data == "fly through the red gate" and v.peer == "gcs-1"
    v = g.judge(sign("estop", False, "gcs-1", SECRET, t=clock.t + 4.0))
    assert v.accepted and v.data is False
    assert g.counts == {"accepted_instruction": 1, "accepted_estop": 1}


def test_anyone_may_engage_the_estop_and_nobody_else_may_do_anything(gate):
    g, clock = gate
    stranger = bytes.fromhex(new_secret())
    assert g.judge(sign("estop", True, "mallory", stranger, t=clock.t)).accepted
    assert g.judge(json.dumps({"v": 1, "kind": "estop", "data": True}).encode()).accepted  # not even signed
    for kind, data in (("instruction", "fly into the crowd"), ("rewrite", "Fly through the red gate"),
                       ("estop", False)):
        v = g.judge(sign(kind, data, "mallory", stranger, t=clock.t))
        assert not v.accepted and v.why.startswith("unauthenticated: not an allow-listed peer")
        forged = sign(kind, data, "gcs-1", stranger, t=clock.t)  # a known name, the wrong key
        assert g.judge(forged).why == "unauthenticated: bad signature"
    assert g.counts["accepted_estop_engage_unauthenticated"] == 2
    assert g.counts["refused_unauthenticated"] == 6


def test_a_signed_message_that_is_old_replayed_altered_or_a_rewrite_is_refused(gate):
    g, clock = gate
    message = sign("instruction", "fly through the red gate", "gcs-1", SECRET, t=clock.t)
    assert g.judge(message).accepted
    assert g.judge(message).why.startswith("replayed")
    assert g.judge(sign("instruction", "x", "gcs-1", SECRET, t=clock.t - 6.0)).why.startswith("stale")
    altered = json.loads(sign("instruction", "fly through the red gate", "gcs-1", SECRET, t=clock.t))
    altered["data"] = "fly through the blue gate"
    assert g.judge(json.dumps(altered).encode()).why == "unauthenticated: bad signature"
    v = g.judge(sign("rewrite", "Fly through the red gate", "gcs-1", SECRET, t=clock.t))
    assert not v.accepted and v.why.startswith("not_from_ground")
    assert g.judge(sign("instruction", "", "gcs-1", SECRET, t=clock.t)).why.startswith("bad_instruction")
    # Nonces are forgotten only once their time could no longer be accepted anyway.
    clock.t += 11.0
    assert g.judge(message).why.startswith("stale")


@pytest.mark.parametrize("datagram", [b"", b"not json", b"[1, 2]", b'{"v": 1, "kind": "launch"}',
                                      b'{"v": 2, "kind": "estop", "data": true}', b"{" * 100,
                                      b'{"v": 1, "kind": "estop", "data": NaN}', b" " * (MAX_DATAGRAM + 1)])
def test_what_is_not_a_ground_link_message_is_refused_as_malformed(gate, datagram):
    g, _ = gate
    v = g.judge(datagram)
    assert not v.accepted and v.why.startswith("malformed")


def test_a_keys_file_others_may_read_or_with_short_secrets_is_refused(tmp_path):
    path = tmp_path / "keys.json"
    write_keys(path, {"gcs-1": SECRET.hex()})
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_keys(path) == {"gcs-1": SECRET}
    os.chmod(path, 0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        load_keys(path)
    write_keys(path, {"gcs-1": "abcd"})
    with pytest.raises(ValueError, match="at least 16 bytes"):
        load_keys(path)
    with pytest.raises(FileNotFoundError, match="cognitivedrone ground keygen"):
        load_keys(tmp_path / "none.json")
