"""Replies decoded by name: every encoder's datagram reads back as the reply table names its arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pythonosc.osc_message import OscMessage

from bridge import protocol
from bridge.protocol import ProtocolError
from bridge.protocol.decode import PAIR_ARG, decode_reply, reply_for

REPO = Path(__file__).resolve().parents[2]


def roundtrip(datagram: bytes):
    message = OscMessage(datagram)
    return decode_reply(message.address, list(message.params))


def test_every_encoder_reads_back_by_name():
    welcome = roundtrip(protocol.welcome("r1", "1.2.3", "musicgen-small"))
    assert (welcome.verb, welcome.request_id) == ("welcome", "r1")
    assert dict(welcome.args) == {
        "id": "r1",
        "protocol": protocol.PROTOCOL_VERSION,
        "version": "1.2.3",
        "model": "musicgen-small",
    }
    assert roundtrip(protocol.pong("p1")).request_id == "p1"
    ack = roundtrip(protocol.ack("g1", 2, "j-0001"))
    assert (ack["queue_position"], ack["job"]) == (2, "j-0001")
    assert roundtrip(protocol.progress("g1", 0.25))["fraction"] == 0.25
    chunk = roundtrip(protocol.chunk("g1", 3, "/o/c.wav", 1.5))
    assert (chunk["index"], chunk["path"], chunk["start_seconds"]) == (3, "/o/c.wav", 1.5)
    done = roundtrip(protocol.done("g1", ["/o/a.wav", "/o/b.wav"]))
    assert done.repeated == ("/o/a.wav", "/o/b.wav") and dict(done.args) == {"id": "g1"}
    error = roundtrip(protocol.error("g1", "queue_full", "too many"))
    assert (error["code"], error["message"]) == ("queue_full", "too many")
    ok = roundtrip(protocol.ok("c1", "cancel", 2))
    assert (ok["verb"], ok["count"]) == ("cancel", 2)


def test_status_pairs_keep_each_value_type():
    reply = roundtrip(protocol.status("s1", {"state": "idle", "queued": 0, "progress": 0.5}))
    assert dict(reply.pairs) == {"state": "idle", "queued": 0, "progress": 0.5}
    assert reply.repeated == () and protocol.REPLIES["status"].args[-1][0] == PAIR_ARG


def test_history_parts_and_the_empty_answer():
    part = roundtrip(protocol.history("h1", 0, 2, "j1", "r1", "done", "t1", "p1", "", ["/o/a.wav"]))
    assert (part["index"], part["count"], part["job"], part["state"], part["error"]) == (0, 2, "j1", "done", "")
    assert part.repeated == ("/o/a.wav",)
    empty = roundtrip(protocol.history("h2", 0, 0))
    assert dict(empty.args) == {"id": "h2", "index": 0, "count": 0} and "error" not in empty


def test_args_a_reply_leaves_off_are_absent():
    reply = decode_reply("/musicgen/error", ["r1", "internal"])
    assert reply["code"] == "internal" and reply.get("message", "") == "" and "message" not in reply


def test_arguments_are_typed_as_the_table_says():
    reply = decode_reply("/musicgen/ack", [7, 1.0, "j"])  # Max may send an int id and a float position
    assert (reply.request_id, reply["queue_position"]) == ("7", 1)
    with pytest.raises(ProtocolError) as info:
        decode_reply("/musicgen/progress", ["r1", "half"])
    assert info.value.code == "bad_argument" and info.value.field == "fraction"


@pytest.mark.parametrize(
    "address, args, code",
    [("/musicgen/generate", ["r1"], "unknown_address"), ("/musicgen/ack", [], "missing_argument")],
)
def test_what_is_not_a_reply(address, args, code):
    assert reply_for(address) is None or args == []
    with pytest.raises(ProtocolError) as info:
        decode_reply(address, args)
    assert info.value.code == code


def test_decoding_stays_light():
    code = "import bridge.protocol.decode, sys; assert 'torch' not in sys.modules and 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
