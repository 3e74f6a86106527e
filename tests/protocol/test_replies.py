"""Replies: well-formed OSC, and every one fits a datagram (long messages and prompts are cut)."""

from __future__ import annotations

import pytest
from pythonosc.osc_message import OscMessage

from bridge import protocol
from bridge.protocol import MAX_DATAGRAM, ProtocolError


def test_replies_are_well_formed_osc():
    dgram = protocol.ack("r1", 2, "job-1")
    msg = OscMessage(dgram)
    assert msg.address == "/musicgen/ack" and msg.params == ["r1", 2, "job-1"]
    assert OscMessage(protocol.progress("r1", 1.7)).params == ["r1", 1.0]
    assert OscMessage(protocol.chunk("r1", 3, "/o/c.wav", 1.5)).params == ["r1", 3, "/o/c.wav", 1.5]
    assert OscMessage(protocol.error("r1", "no_such_code", "x")).params[1] == "internal"


def test_error_messages_are_cut_to_fit():
    dgram = protocol.error("r1", "bad_argument", "é" * 20000)
    assert len(dgram) <= MAX_DATAGRAM
    assert len(OscMessage(dgram).params[2]) <= protocol.MAX_ERROR_MESSAGE


def test_done_with_eight_long_paths_fits_and_longer_refuses():
    out = "/" + "o" * 510
    paths = [f"{out}/{'p' * 40}_120bpm_8bars_s2147483647_v{i}-10000.wav" for i in range(8)]
    assert len(protocol.done("r1", paths)) <= MAX_DATAGRAM
    with pytest.raises(ProtocolError):
        protocol.done("r1", ["/" + "x" * 1100] * 8)


def test_history_reply_cuts_prompt_and_error_to_fit():
    paths = ["/" + "p" * 600] * 8
    dgram = protocol.history(
        "h", 0, 1, "job", "r1", "failed", "2024-01-01T00:00:00", "€" * 500, "e" * 5000, paths
    )
    assert len(dgram) <= MAX_DATAGRAM
    assert OscMessage(protocol.history("h", 0, 0)).params == ["h", 0, 0]


def test_status_is_key_value_pairs():
    msg = OscMessage(protocol.status("s", {"state": "idle", "queued": 0, "uptime": 1.5, "running": None}))
    assert msg.params == ["s", "state", "idle", "queued", 0, "uptime", 1.5, "running", ""]
