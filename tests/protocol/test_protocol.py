"""The protocol table: parsing, validation codes, reply size limits, JSON/markdown export. No daemon here."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage

from bridge import protocol
from bridge.protocol import MAX_DATAGRAM, ProtocolError, parse_request

GEN = "/musicgen/generate"


def gen(*args):
    return parse_request(GEN, ["r1", "bpm", 120, "bars", 4, *args])


def code_of(address, args) -> tuple[str, str | None]:
    with pytest.raises(ProtocolError) as e:
        request = parse_request(address, args)
        if request.verb == "generate":
            protocol.to_generation_request(request)
    return e.value.code, e.value.field


def test_import_stays_light():
    code = "import bridge.protocol, sys; bad = {'torch', 'numpy', 'soundfile'} & set(sys.modules); print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "set()"


def test_table_bounds_are_the_request_objects_bounds():
    """Every numeric generate key's upper bound in the table is exactly where GenerationRequest stops."""
    from bridge.request import SUBTYPES, GenerationRequest, RequestError

    generate = next(r for r in json.loads(protocol.to_json())["requests"] if r["verb"] == "generate")
    keys = {k["name"]: k for k in generate["keys"]}
    base = {
        "prompt": "x",
        "bpm": 400.0,
        "bars": 1,
        "time_signature": "1/4",
    }  # 512 short bars fit the length cap
    for field in (
        "bpm",
        "bars",
        "variations",
        "melody_bpm",
        "prompt_seconds",
        "temperature",
        "top_k",
        "top_p",
        "cfg",
    ):
        spec = keys[field]
        GenerationRequest(**{**base, field: spec["max"]})
        with pytest.raises(RequestError):
            GenerationRequest(**{**base, field: spec["max"] + (1 if spec["type"] == "int" else 1e-3)})
    assert set(protocol.BIT_DEPTHS.values()) == set(SUBTYPES)


def test_generate_defaults_and_mapping():
    r = gen("prompt", "dub techno", "reply_port", 9100)
    assert (r.verb, r.request_id, r.reply_port) == ("generate", "r1", 9100)
    kw = protocol.generation_kwargs(r)
    assert kw["bpm"] == 120 and kw["bars"] == 4 and kw["seed"] is None and kw["region"] is None
    assert kw["subtype"] == "PCM_24" and kw["loudness_lufs"] == -14.0 and kw["continue_from"] is None
    req = protocol.to_generation_request(r)
    assert req.prompt == "dub techno" and req.sample_rate == 44100 and 0 <= req.seed <= protocol.MAX_SEED


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


def test_generate_maps_region_continue_seed_and_format(clip):
    path = str(clip(seconds=2.0))
    r = gen(
        "continue",
        path,
        "region_start",
        0.5,
        "region_end",
        1.5,
        "seed",
        11,
        "normalize",
        0,
        "bit_depth",
        16,
        "keep_prompt",
        1,
    )
    req = protocol.to_generation_request(r)
    assert req.continue_from == Path(path) and req.region == (0.5, 1.5) and req.seed == 11
    assert req.loudness_lufs is None and req.subtype == "PCM_16" and req.keep_prompt is True


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


# --------------------------------------------------------------------------------------- replies


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


# --------------------------------------------------------------------------------------- export


def test_json_export_describes_every_address():
    data = json.loads(protocol.to_json())
    addresses = {r["address"] for r in data["requests"]}
    assert addresses == {
        f"/musicgen/{v}" for v in ("hello", "ping", "generate", "cancel", "status", "history")
    }
    replies = {r["address"] for r in data["replies"]}
    assert {
        "/musicgen/ack",
        "/musicgen/progress",
        "/musicgen/chunk",
        "/musicgen/done",
        "/musicgen/error",
        "/musicgen/pong",
        "/musicgen/status",
    } <= replies
    gen_keys = {k["name"]: k for k in next(r for r in data["requests"] if r["verb"] == "generate")["keys"]}
    assert gen_keys["bpm"] == {
        "name": "bpm",
        "type": "float",
        "required": True,
        "min": 20.0,
        "max": 400.0,
        "doc": gen_keys["bpm"]["doc"],
    }
    for name in (
        "prompt",
        "bpm",
        "bars",
        "time_signature",
        "melody",
        "melody_bpm",
        "region_start",
        "region_end",
        "continue",
        "prompt_seconds",
        "variations",
        "seed",
        "temperature",
        "top_k",
        "top_p",
        "cfg",
        "sample_rate",
        "reply_port",
    ):
        assert name in gen_keys
    assert set(data["errors"]) == set(protocol.ERRORS) and data["max_datagram"] == 8192


def test_markdown_table_lists_everything():
    md = protocol.to_markdown()
    for m in protocol.REQUESTS.values():
        assert m.address in md
    for code in protocol.ERRORS:
        assert f"`{code}`" in md


def test_cli_prints_the_protocol(capsys):
    from bridge.cli import main

    assert main(["protocol", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["prefix"] == "/musicgen"
    assert main(["protocol"]) == 0
    assert "| `/musicgen/generate <request_id>`" in capsys.readouterr().out


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


def test_readme_protocol_table_is_in_sync():
    """The README's protocol section is generated from the table; regenerate it when the protocol changes."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    begin, end = "<!-- protocol:begin -->\n", "\n<!-- protocol:end -->"
    section = readme[readme.index(begin) + len(begin) : readme.index(end)]
    assert section.strip() == protocol.to_markdown().strip()
