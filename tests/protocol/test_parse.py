"""Checking requests against the table: types, ranges, ids, paths, and the code of every kind of error."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage

from bridge import protocol
from bridge.protocol import MAX_DATAGRAM, ProtocolError, parse_request
from bridge.protocol.to_request import to_generation_request

GEN = "/musicgen/generate"


def gen(*args):
    return parse_request(GEN, ["r1", "bpm", 120, "bars", 4, *args])


def code_of(address, args) -> tuple[str, str | None]:
    with pytest.raises(ProtocolError) as e:
        request = parse_request(address, args)
        if request.verb == "generate":
            to_generation_request(request)
    return e.value.code, e.value.field


def test_ints_and_floats_are_interchangeable():
    r = parse_request(GEN, ["r1", "bpm", 120, "bars", 4.0, "variations", 2.0, "cfg", 3, "seed", 7])
    assert r.params["bars"] == 4 and isinstance(r.params["bars"], int)
    assert r.params["cfg"] == 3.0 and isinstance(r.params["cfg"], float)
    assert code_of(GEN, ["r1", "bpm", 120, "bars", 4.5]) == ("bad_argument", "bars")


def test_float32_values_read_as_the_client_meant():
    dgram = protocol.encode(GEN, ["r1", "bpm", 123.45, "bars", 2])  # 'f' on the wire
    msg = OscMessage(dgram)
    assert msg.params[2] != 123.45  # float32 rounding...
    assert parse_request(msg.address, msg.params).params["bpm"] == 123.45  # ...undone


def test_int_request_ids_from_max_are_accepted():
    assert parse_request("/musicgen/ping", [17]).request_id == "17"


@pytest.mark.parametrize(
    "address,args,expected",
    [
        ("/musicgen/nope", ["r1"], ("unknown_address", None)),
        ("/other/generate", ["r1"], ("unknown_address", None)),
        (GEN, [], ("missing_argument", "request_id")),
        (GEN, [1.5], ("bad_argument", "request_id")),
        (GEN, ["bad id!"], ("bad_argument", "request_id")),
        (GEN, ["x" * 65], ("too_long", "request_id")),
        (GEN, ["r1", "bars", 4], ("missing_argument", "bpm")),
        (GEN, ["r1", "bpm", 120, "bars"], ("missing_argument", None)),
        (GEN, ["r1", "bpm", 120, "bars", 4, "colour", "red"], ("bad_argument", None)),
        (GEN, ["r1", "bpm", 120, "bpm", 121, "bars", 4], ("bad_argument", "bpm")),
        (GEN, ["r1", 5, 120, "bars", 4], ("bad_argument", None)),
        (GEN, ["r1", "bpm", "fast", "bars", 4], ("bad_argument", "bpm")),
        (GEN, ["r1", "bpm", b"\x01", "bars", 4], ("bad_argument", "bpm")),
        (GEN, ["r1", "bpm", True, "bars", 4], ("bad_argument", "bpm")),
        (GEN, ["r1", "bpm", None, "bars", 4], ("bad_argument", "bpm")),
        (GEN, ["r1", "bpm", [1, 2], "bars", 4], ("bad_argument", "bpm")),
        (GEN, ["r1", "bpm", 1000, "bars", 4], ("out_of_range", "bpm")),
        (GEN, ["r1", "bpm", math.nan, "bars", 4], ("out_of_range", "bpm")),
        (GEN, ["r1", "bpm", math.inf, "bars", 4], ("out_of_range", "bpm")),
        (GEN, ["r1", "bpm", 120, "bars", 0], ("out_of_range", "bars")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "prompt", "x" * 501], ("too_long", "prompt")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "time_signature", "4/4" * 10], ("too_long", "time_signature")),
        (
            GEN,
            ["r1", "bpm", 120, "bars", 4, "time_signature", "5/3", "prompt", "x"],
            ("bad_argument", "time_signature"),
        ),
        (GEN, ["r1", "bpm", 120, "bars", 4, "time_signature", "٤/٤"], ("bad_argument", "time_signature")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "time_signature", "４/４"], ("bad_argument", "time_signature")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "time_signature", "4/4\nX"], ("bad_argument", "time_signature")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "melody", "/tmp/a\nb.wav"], ("bad_path", "melody")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "continue", "/tmp/\x1b[31m.wav"], ("bad_path", "continue")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "sample_rate", 12345], ("out_of_range", "sample_rate")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "bit_depth", "32"], ("bad_argument", "bit_depth")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "keep_prompt", 2], ("bad_argument", "keep_prompt")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "seed", -2], ("out_of_range", "seed")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "prompt_seconds", 0], ("out_of_range", "prompt_seconds")),
        (GEN, ["r1", "bpm", 20, "bars", 512, "prompt", "x"], ("out_of_range", "bars")),  # far beyond 300 s
        (GEN, ["r1", "bpm", 120, "bars", 4, "region_start", 0.0], ("missing_argument", "region_end")),
        (
            GEN,
            ["r1", "bpm", 120, "bars", 4, "region_start", 0, "region_end", 1, "prompt", "x"],
            ("out_of_range", "region_start/region_end"),
        ),
        (GEN, ["r1", "bpm", 120, "bars", 4, "prompt", ""], ("bad_argument", "prompt")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "melody", "x" * 1025], ("too_long", "melody")),
        (GEN, ["r1", "bpm", 120, "bars", 4, "melody", "clip.wav", "prompt", "x"], ("bad_path", "melody")),
        (
            GEN,
            ["r1", "bpm", 120, "bars", 4, "melody", "/tmp/../etc/passwd", "prompt", "x"],
            ("bad_path", "melody"),
        ),
        (
            GEN,
            ["r1", "bpm", 120, "bars", 4, "continue", "/dev/zero", "prompt", "x"],
            ("bad_path", "continue"),
        ),
        (GEN, ["r1", "bpm", 120, "bars", 4, "melody", "/", "prompt", "x"], ("bad_path", "melody")),
        (
            GEN,
            ["r1", "bpm", 120, "bars", 4, "melody", "/no/such/file.wav", "prompt", "x"],
            ("bad_path", "melody"),
        ),
        ("/musicgen/hello", ["h", "reply_port", 70000], ("out_of_range", "reply_port")),
        ("/musicgen/hello", ["h", "name", "n" * 65], ("too_long", "name")),
        ("/musicgen/history", ["h", "limit", 0], ("out_of_range", "limit")),
        ("/musicgen/cancel", ["c", "job", 5], ("bad_argument", "job")),
    ],
)
def test_each_kind_of_bad_request_gets_its_code(address, args, expected):
    assert code_of(address, args) == expected


def test_a_broken_request_still_carries_its_id_and_reply_port():
    with pytest.raises(ProtocolError) as e:
        parse_request(GEN, ["r9", "bpm", "x", "reply_port", 9100])
    assert (e.value.request_id, e.value.reply_port) == ("r9", 9100)
    assert str(e.value).startswith("bpm: ")


def test_paths_from_max_on_macos_lose_the_volume_name():
    if os.name == "nt":
        pytest.skip("POSIX paths only")
    assert protocol.check_path("melody", "Macintosh HD:/Users/me/a.wav") == "/Users/me/a.wav"
    with pytest.raises(ProtocolError):
        protocol.check_path("melody", "a\x00b")


def test_fingerprint_ignores_reply_port_and_id():
    a = gen("prompt", "x", "reply_port", 1000)
    b = parse_request(GEN, ["r2", "prompt", "x", "bars", 4, "bpm", 120.0, "reply_port", 2000])
    c = gen("prompt", "y")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


# --------------------------------------------------------------------------------------- fuzz

osc_values = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(max_size=40),
    st.binary(max_size=16),
    st.booleans(),
    st.none(),
    st.sampled_from([k.name for m in protocol.REQUESTS.values() for k in m.fields]),
)
addresses = st.one_of(st.sampled_from([m.address for m in protocol.REQUESTS.values()]), st.text(max_size=30))


@settings(max_examples=400, deadline=None)
@given(addresses, st.lists(osc_values, max_size=12))
def test_parse_request_only_ever_raises_protocol_errors(address, args):
    try:
        request = parse_request(address, args)
    except ProtocolError as e:
        assert e.code in protocol.ERRORS
        assert len(protocol.error(e.request_id, e.code, str(e))) <= MAX_DATAGRAM
        return
    assert request.verb in protocol.REQUESTS
    if request.verb == "generate":
        try:
            protocol.generation_kwargs(request)
        except ProtocolError as e:
            assert e.code == "missing_argument"
