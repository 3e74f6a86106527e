"""The frozen Max for Live device (the script embedded, one file to share), read back by a parser written
here from the format's description (Ableton's maxdevtools reads frozen devices the same way): chunks
with little-endian sizes; in ptch, b"mx@c", a big-endian header size, 0, and the directory's offset; the
files back to back; a b"dlst" directory of b"dire" entries whose fields are 4-byte ids with big-endian
sizes that count their own 8 bytes. Nothing from bridge.tools.m4l is used to read it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from bridge.tools import m4l

DIR = Path(__file__).resolve().parents[2] / "max_for_live"
FROZEN = DIR / "MusicGen Bridge frozen.amxd"
SOURCE_PATCH = json.loads((DIR / "musicgen_bridge.maxpat").read_text(encoding="utf-8"))
SOURCE_JS = (DIR / "musicgen_bridge.js").read_bytes()


def read_le_chunks(data: bytes) -> dict[str, bytes]:
    out, pos = {}, 0
    while pos < len(data):
        ident = data[pos : pos + 4].decode("ascii")
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        assert pos + 8 + size <= len(data), f"{ident} runs past the end"
        out[ident] = data[pos + 8 : pos + 8 + size]
        pos += 8 + size
    assert pos == len(data)
    return out


def read_be_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """Blocks whose big-endian size counts their 8-byte header; the data of each, as stored."""
    out, pos = [], 0
    while pos < len(data):
        ident = data[pos : pos + 4].decode("ascii")
        (size,) = struct.unpack(">I", data[pos + 4 : pos + 8])
        assert size >= 8 and pos + size <= len(data), (ident, size)
        out.append((ident, data[pos + 8 : pos + size]))
        pos += size
    assert pos == len(data)
    return out


def read_frozen(data: bytes) -> dict:
    chunks = read_le_chunks(data)
    ptch = chunks["ptch"]
    assert ptch[:4] == b"mx@c"
    header, zero, directory_at = struct.unpack(">III", ptch[4:16])
    assert (header, zero) == (16, 0)
    (dlst,) = read_be_blocks(ptch[directory_at:])
    assert dlst[0] == "dlst"
    files = []
    for ident, body in read_be_blocks(dlst[1]):
        assert ident == "dire"
        fields = dict(read_be_blocks(body))
        assert list(fields) == ["type", "fnam", "sz32", "of32", "vers", "flag", "mdat"]
        size, offset = struct.unpack(">I", fields["sz32"])[0], struct.unpack(">I", fields["of32"])[0]
        assert offset >= 16 and offset + size <= directory_at, "a file outside the data region"
        files.append(
            {
                "type": fields["type"].rstrip(b"\x00").decode("ascii"),
                "name": fields["fnam"].split(b"\x00")[0].decode("utf-8"),
                "flag": struct.unpack(">I", fields["flag"])[0],
                "vers": struct.unpack(">I", fields["vers"])[0],
                "offset": offset,
                "data": ptch[offset : offset + size],
            }
        )
    return {"ampf": chunks["ampf"], "meta": struct.unpack("<I", chunks["meta"])[0], "files": files, "end": directory_at}


@pytest.fixture(scope="module")
def frozen() -> dict:
    return read_frozen(FROZEN.read_bytes())


def test_the_frozen_device_is_an_audio_effect_with_meta_7(frozen):
    assert frozen["ampf"] == b"aaaa"
    assert frozen["meta"] == 7


def test_it_holds_the_device_patch_then_the_script_back_to_back(frozen):
    device, script = frozen["files"]
    assert (device["type"], device["name"], device["flag"], device["vers"]) == ("JSON", "MusicGen Bridge.amxd", 0x11, 0)
    assert (script["type"], script["name"], script["flag"]) == ("TEXT", "musicgen_bridge.js", 0)
    assert device["offset"] == 16
    assert script["offset"] == device["offset"] + len(device["data"])
    assert script["offset"] + len(script["data"]) == frozen["end"]


def test_the_embedded_patch_is_the_source_patch_naming_its_script(frozen):
    device = frozen["files"][0]["data"]
    assert device.endswith(b"\n\x00")
    patch = json.loads(device[:-2].decode("utf-8"))
    assert patch["patcher"]["dependency_cache"] == [{"name": "musicgen_bridge.js", "type": "TEXT", "implicit": 1}]
    boxes = {b["box"]["id"]: b["box"] for b in patch["patcher"]["boxes"]}
    source = {b["box"]["id"]: b["box"] for b in SOURCE_PATCH["patcher"]["boxes"]}
    assert boxes.keys() == source.keys()
    changed = [i for i in boxes if boxes[i] != source[i]]
    assert [boxes[i]["maxclass"] for i in changed] == ["comment"]  # only the missing-script text
    assert patch["patcher"]["lines"] == SOURCE_PATCH["patcher"]["lines"]
    (js_box,) = [b for b in boxes.values() if b.get("text", "").startswith("js ")]
    assert js_box["text"] == "js musicgen_bridge.js"


def test_the_embedded_script_is_the_committed_script(frozen):
    assert frozen["files"][1]["data"] == SOURCE_JS


def test_pack_frozen_round_trips_any_files_through_the_independent_parser():
    files = [("a.js", "TEXT", b"x = 1;\n"), ("odd name.txt", "TEXT", b"12345")]  # sizes not a multiple of 4
    parsed = read_frozen(m4l.pack_frozen('{"patcher": {}}', files, b"mmmm"))
    assert parsed["ampf"] == b"mmmm"
    assert [(f["name"], f["data"]) for f in parsed["files"][1:]] == [(n, d) for n, _, d in files]
    with pytest.raises(ValueError):
        m4l.pack_frozen("{}", [], b"zzzz")
