"""The Max for Live device: a valid patch wired to the protocol's ports, an .amxd in sync with its source
(read back here by an independent chunk parser), and a script that only uses addresses from the export."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge import protocol
from bridge.cli import main
from bridge.protocol.to_request import to_generation_request
from bridge.tools import m4l

DIR = Path(__file__).resolve().parents[2] / "max_for_live"
PATCH = json.loads((DIR / "musicgen_bridge.maxpat").read_text(encoding="utf-8"))
JS = (DIR / "musicgen_bridge.js").read_text(encoding="utf-8")
BOXES = {b["box"]["id"]: b["box"] for b in PATCH["patcher"]["boxes"]}
LINES = [line["patchline"] for line in PATCH["patcher"]["lines"]]
LIVE_DEVICE_HEIGHT = 169  # pixels Live gives a device


def objects(name: str) -> list[dict]:
    """Boxes whose object is `name`: [udpsend ...] boxes, or UI boxes by maxclass."""
    return [
        b
        for b in BOXES.values()
        if (b["maxclass"] == "newobj" and b.get("text", "").split()[:1] == [name]) or b["maxclass"] == name
    ]


def one(name: str) -> dict:
    (box,) = objects(name)
    return box


def connected(src: dict, outlet: int, dst: dict, inlet: int) -> bool:
    return any(
        line["source"] == [src["id"], outlet] and line["destination"] == [dst["id"], inlet] for line in LINES
    )


# ------------------------------------------------------------------------------------------- patcher


def test_the_patch_is_a_max_patcher_with_unique_box_ids():
    assert set(PATCH) == {"patcher"}
    assert len(BOXES) == len(PATCH["patcher"]["boxes"])
    for box in BOXES.values():
        assert isinstance(box["numinlets"], int) and isinstance(box["numoutlets"], int)
        assert len(box.get("outlettype", [])) == box["numoutlets"] or box["numoutlets"] == 0, box["id"]


def test_every_patch_line_joins_existing_boxes_at_existing_inlets_and_outlets():
    assert LINES
    for line in LINES:
        (src, outlet), (dst, inlet) = line["source"], line["destination"]
        assert src in BOXES and dst in BOXES, line
        assert 0 <= outlet < BOXES[src]["numoutlets"], line
        assert 0 <= inlet < BOXES[dst]["numinlets"], line


def test_the_objects_the_device_needs_are_there():
    js, send, receive = one("js"), one("udpsend"), one("udpreceive")
    device, plugin, plugout = one("live.thisdevice"), one("plugin~"), one("plugout~")
    assert js["text"] == "js musicgen_bridge.js"
    assert (device["numinlets"], device["numoutlets"]) == (1, 3)
    assert (send["numinlets"], send["numoutlets"]) == (1, 0)
    assert (receive["numinlets"], receive["numoutlets"]) == (1, 1)
    # An audio effect passes its audio through, both channels.
    assert connected(plugin, 0, plugout, 0) and connected(plugin, 1, plugout, 1)
    # live.thisdevice -> [t b b ...]: first bang every setting control (their saved values reach the js),
    # last (leftmost outlet) [init( -> js: LiveAPI is only touched after the device is ready.
    (init,) = [b for b in BOXES.values() if b["maxclass"] == "message" and b.get("text") == "init"]
    (start,) = [b for b in BOXES.values() if connected(device, 0, b, 0)]
    assert start["text"].split()[0] == "t" and set(start["text"].split()[1:]) == {"b"}
    assert connected(start, 0, init, 0) and connected(init, 0, js, 0)
    settings = {"Bars", "Mode", "Takes", "Insert", "Grid", "Nudge", "Daemon Port", "Reply Port", "Prompt"}
    banged = {
        BOXES[line["destination"][0]].get("varname") for line in LINES if line["source"][0] == start["id"]
    }
    assert banged - {None} == settings and start["numoutlets"] == len(settings) + 1
    # OSC out of the js into udpsend; replies from udpreceive into the js, and its port setting back.
    assert connected(js, 0, send, 0) and connected(receive, 0, js, 0) and connected(js, 3, receive, 0)


def test_the_sockets_use_the_protocol_defaults_and_udpreceive_defers():
    assert one("udpsend")["text"].split()[1:] == [protocol.DEFAULT_HOST, str(protocol.DEFAULT_PORT)]
    args = one("udpreceive")["text"].split()[1:]
    assert args[0] == str(protocol.DEFAULT_REPLY_PORT)
    assert args[args.index("@defer") + 1] == "1"
    params = {
        b["varname"]: b["saved_attribute_attributes"]["valueof"]
        for b in BOXES.values()
        if b.get("parameter_enable")
    }
    assert params["Daemon Port"]["parameter_initial"] == [protocol.DEFAULT_PORT]
    assert params["Reply Port"]["parameter_initial"] == [protocol.DEFAULT_REPLY_PORT]
    assert params["Takes"]["parameter_mmax"] == protocol.MAX_VARIATIONS
    for port in ("Daemon Port", "Reply Port"):  # Float shown as Int: an Int parameter stops at 255
        assert (params[port]["parameter_type"], params[port]["parameter_unitstyle"]) == (m4l.PARAM_FLOAT, 0)


def test_the_prompt_is_saved_with_the_set_and_reaches_the_script_at_init():
    prompt = next(b for b in BOXES.values() if b.get("varname") == "Prompt")
    assert prompt["maxclass"] == "textedit" and prompt["parameter_enable"] == 1
    value = prompt["saved_attribute_attributes"]["valueof"]
    # Blob: Live stores the text with the set; Stored Only: never automated.
    assert (value["parameter_type"], value["parameter_invisible"]) == (m4l.PARAM_BLOB, 1)
    assert value["parameter_longname"] == "Prompt"
    js = one("js")
    assert connected(prompt, 0, js, 0)  # its text reaches the script: on Return, on Generate, and at init
    assert m4l.check_parameters(m4l.boxes(PATCH)) == []


def test_generate_and_cancel_fire_on_mouse_up_and_any_output_counts():
    js = one("js")
    for label, word in (("Generate", "generate"), ("Cancel", "cancel")):
        (button,) = [b for b in objects("live.text") if b["text"] == label]
        assert button["mode"] == 0 and button["transition"] == 1  # button, output on mouse up (Ableton's guideline)
        (gate,) = [b for b in BOXES.values() if connected(button, 0, b, 0)]
        assert gate["text"] == "t b"  # whatever value the release sends, one click is one request
        after = [b for b in BOXES.values() if connected(gate, 0, b, 0)]
        after += [c for b in after for c in BOXES.values() if any(connected(b, o, c, 0) for o in range(b["numoutlets"]))]
        (message,) = [b for b in after if b["maxclass"] == "message" and b.get("text") == word]
        assert connected(message, 0, js, 0)


def test_the_grid_controls_follow_the_generate_keys():
    params = {
        b["varname"]: b["saved_attribute_attributes"]["valueof"]
        for b in BOXES.values()
        if b.get("parameter_enable")
    }
    grid, shift = protocol.REQUESTS["generate"].field("grid"), protocol.REQUESTS["generate"].field("grid_shift")
    modes = [item.lower() for item in params["Grid"]["parameter_enum"]]
    assert sorted(modes) == sorted(grid.choices) and modes[params["Grid"]["parameter_initial"][0]] == grid.default
    nudge = params["Nudge"]
    assert nudge["parameter_type"] == m4l.PARAM_FLOAT and nudge["parameter_unitstyle"] == 1  # Float, shown as one
    assert (nudge["parameter_mmin"], nudge["parameter_mmax"], nudge["parameter_initial"]) == (-8.0, 8.0, [shift.default])
    assert shift.low <= nudge["parameter_mmin"] and nudge["parameter_mmax"] <= shift.high
    assert (nudge["parameter_mmax"] - nudge["parameter_mmin"]) / (nudge["parameter_steps"] - 1) == 0.5
    # Each control reaches the script through its [prepend grid] / [prepend grid_shift].
    js = one("js")
    for varname, word in (("Grid", "grid"), ("Nudge", "grid_shift")):
        (control,) = [b for b in BOXES.values() if b.get("varname") == varname]
        (prep,) = [b for b in BOXES.values() if connected(control, 0, b, 0)]
        assert prep["text"] == f"prepend {word}" and connected(prep, 0, js, 0)
        assert f"\nfunction {word}(" in JS


def test_the_js_box_matches_the_script_and_every_outlet_is_used():
    js = one("js")
    assert m4l.js_io(JS) == (js["numinlets"], js["numoutlets"])
    used = {line["source"][1] for line in LINES if line["source"][0] == js["id"]}
    assert used == set(range(js["numoutlets"]))


def test_the_device_opens_in_presentation_with_its_controls_inside_the_device_view():
    p = PATCH["patcher"]
    assert p["openinpresentation"] == 1
    shown = {b["maxclass"] for b in BOXES.values() if b.get("presentation") == 1}
    assert {
        "textedit",
        "live.text",
        "live.menu",
        "live.tab",
        "live.numbox",
        "multislider",
        "comment",
    } <= shown
    for b in BOXES.values():
        if b.get("presentation") == 1:
            x, y, w, h = b["presentation_rect"]
            assert x >= 0 and y >= 0 and x + w <= p["devicewidth"] and y + h <= LIVE_DEVICE_HEIGHT, b["id"]
    shown_rects = [b["presentation_rect"] for b in BOXES.values() if b.get("presentation") == 1]
    for i, (ax, ay, aw, ah) in enumerate(shown_rects):
        for bx, by, bw, bh in shown_rects[i + 1 :]:
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), "controls overlap"
    labels = {b.get("text") for b in objects("live.text")}
    assert labels == {"Generate", "Cancel"}
    assert all(b["mode"] == 0 for b in objects("live.text"))  # buttons, not toggles


def test_parameters_have_unique_long_names():
    names = [
        b["saved_attribute_attributes"]["valueof"]["parameter_longname"]
        for b in BOXES.values()
        if b.get("parameter_enable") == 1
    ]
    assert len(names) == len(set(names)) >= 8


def test_the_status_line_says_when_the_script_did_not_load():
    status = [b for b in objects("comment") if "musicgen_bridge.js" in b.get("text", "")]
    assert status and "same folder" in status[0]["text"]


def test_check_patch_reports_broken_wiring_and_wrong_ports():
    export = protocol.describe()
    assert m4l.check_patch(PATCH, JS, export) == []
    broken = json.loads(json.dumps(PATCH))
    broken["patcher"]["lines"].append({"patchline": {"source": ["obj-nope", 0], "destination": ["obj-1", 0]}})
    for entry in broken["patcher"]["boxes"]:
        box = entry["box"]
        if box.get("text", "").startswith("udpsend"):
            box["text"] = "udpsend 127.0.0.1 9999"
        if box.get("text", "").startswith("udpreceive"):
            box["text"] = "udpreceive 9001"
    problems = " ".join(m4l.check_patch(broken, JS, export))
    assert "obj-nope" in problems and "9000" in problems and "@defer 1" in problems


def test_check_patch_reports_parameters_live_would_clamp():
    broken = json.loads(json.dumps(PATCH))
    values = {
        b["box"]["varname"]: b["box"]["saved_attribute_attributes"]["valueof"]
        for b in broken["patcher"]["boxes"]
        if b["box"].get("parameter_enable")
    }
    values["Daemon Port"]["parameter_type"] = m4l.PARAM_INT  # 1..65535 in an Int: Live clamps it to 255
    values["Nudge"]["parameter_initial"] = [9.0]
    values["Nudge"]["parameter_steps"] = 1
    values["Grid"]["parameter_mmax"] = 5
    values["Mode"]["parameter_initial"] = [3]
    problems = m4l.check_patch(broken, JS, protocol.describe())
    assert len(problems) == 5, problems
    text = " ".join(problems)
    assert "'Daemon Port' is an Int from 1 to 65535" in text and "Float with unit style Int" in text
    assert "'Nudge' starts at 9" in text and "'Nudge' has 1 step" in text
    assert "'Grid' has 3 items but its maximum is 5" in text and "'Mode' starts at item 3" in text


# --------------------------------------------------------------------------------------------- .amxd


def parse_chunks(data: bytes) -> list[tuple[str, bytes]]:
    """An independent reader: 4-byte ASCII id, little-endian uint32 size, payload; nothing left over."""
    out, pos = [], 0
    while pos < len(data):
        ident = data[pos : pos + 4].decode("ascii")
        (size,) = struct.unpack_from("<I", data, pos + 4)
        out.append((ident, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size
    assert pos == len(data)
    return out


def test_the_committed_amxd_is_an_audio_effect_holding_the_patch():
    chunks = parse_chunks((DIR / m4l.DEVICE_NAME).read_bytes())
    assert [c[0] for c in chunks] == ["ampf", "meta", "ptch"]
    assert chunks[0][1] == b"aaaa"
    assert struct.unpack("<I", chunks[1][1]) == (1,)  # what Max writes for an unfrozen device
    ptch = chunks[2][1]
    assert ptch.endswith(b"\x00") and b"\x00" not in ptch[:-1]
    assert json.loads(ptch[:-1].decode("utf-8")) == PATCH


def test_the_committed_files_match_a_fresh_build(capsys):
    assert m4l.check() == []
    assert main(["m4l", "build", "--check"]) == 0
    assert capsys.readouterr().err == ""


def test_pack_and_read_round_trip_and_refuse_other_files():
    text = json.dumps({"patcher": {"boxes": [], "lines": []}})
    for kind in m4l.DEVICE_TYPES:
        data = m4l.pack_amxd(text, kind)
        assert m4l.read_chunks(data)[0] == (b"ampf", kind)
        assert m4l.patch_from_amxd(data) == json.loads(text)
    with pytest.raises(ValueError):
        m4l.pack_amxd(text, b"xxxx")
    with pytest.raises(m4l.M4lError, match="frozen"):
        m4l.patch_from_amxd(m4l.chunk(b"ampf", b"aaaa") + m4l.chunk(b"ptch", b"mx@c\x00\x00\x00\x10"))
    with pytest.raises(m4l.M4lError, match="claims"):
        m4l.read_chunks(b"ampf\x10\x00\x00\x00aaaa")


def test_build_regenerates_stale_files_and_check_names_them(tmp_path):
    for name in (m4l.PATCH_NAME, m4l.JS_NAME):
        shutil.copy(DIR / name, tmp_path / name)
    assert sorted(m4l.check(tmp_path)) == sorted(
        f"{n} is missing" for n in (m4l.PROTOCOL_NAME, m4l.DEVICE_NAME, m4l.FROZEN_NAME)
    )
    m4l.build(tmp_path)
    assert m4l.check(tmp_path) == []
    assert (tmp_path / m4l.DEVICE_NAME).read_bytes() == (DIR / m4l.DEVICE_NAME).read_bytes()
    patch = json.loads((tmp_path / m4l.PATCH_NAME).read_text())
    patch["patcher"]["devicewidth"] = 420.0
    (tmp_path / m4l.PATCH_NAME).write_text(json.dumps(patch, indent="\t") + "\n")
    assert m4l.check(tmp_path) == [f"{n} is out of date" for n in (m4l.DEVICE_NAME, m4l.FROZEN_NAME)]
    js = tmp_path / m4l.JS_NAME
    js.write_text(js.read_text().replace('"default_port": 9000', '"default_port": 1'))
    assert f"{m4l.JS_NAME} is out of date" in m4l.check(tmp_path)
    patch["patcher"]["lines"].append({"patchline": {"source": ["obj-1", 7], "destination": ["obj-2", 0]}})
    (tmp_path / m4l.PATCH_NAME).write_text(json.dumps(patch))
    with pytest.raises(m4l.M4lError, match="outlet 7"):
        m4l.build(tmp_path)


# ------------------------------------------------------------------------------------ the JS script


def test_the_js_protocol_block_is_the_export_and_protocol_json_is_the_cli_output():
    assert m4l.js_protocol(JS) == protocol.describe()
    assert (DIR / m4l.PROTOCOL_NAME).read_text() == protocol.to_json() + "\n"


def test_every_musicgen_address_in_the_js_is_in_the_export():
    export = protocol.describe()
    known = {r["address"] for r in export["requests"]} | {r["address"] for r in export["replies"]}
    found = set(re.findall(r"/musicgen/[A-Za-z_]+", JS))
    assert found and found <= known
    hand_written = JS[: JS.index(m4l.BEGIN_MARK)]
    code = re.sub(r"/\*.*?\*/", "", hand_written, flags=re.S)
    assert "/musicgen" not in code  # addresses only come from the generated block


def test_the_verbs_and_keys_the_js_uses_exist_in_the_protocol():
    for verb, pairs in re.findall(r'composeRequest\("(\w+)", [^,]+, \[(.*?)\]\)', JS):
        assert verb in protocol.REQUESTS
        for key in re.findall(r'"(\w+)",', pairs):
            assert protocol.REQUESTS[verb].field(key) is not None, (verb, key)
    generate = JS[JS.index("function composeGenerate") :]
    generate = generate[: generate.index("\n}\n")]
    for key in re.findall(r'(?:^|\n|, |\()\s*"([a-z_]+)", (?:prompt|req\.|settings\.)', generate):
        assert protocol.REQUESTS["generate"].field(key) is not None, key
    handlers = JS[JS.index("var REPLY_HANDLERS") :]
    for verb in re.findall(r"^    (\w+): function", handlers, re.M):
        assert verb in protocol.REPLIES, verb


# ------------------------------------------------------------------- the device's requests, daemon-side


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_requests_the_device_composes_are_accepted_by_the_daemon(tmp_path):
    """The script (run in Node against a fake Live set) composes hello, generate in all three modes and
    cancel; the daemon's own parser accepts each one, and the generate requests become valid jobs."""
    clips = []
    for name in ("riff.wav", "take.wav"):
        path = tmp_path / name
        t = np.arange(4 * 32000) / 32000
        sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 32000)
        clips.append(str(path))
    out = subprocess.run(
        ["node", str(DIR / "test_support" / "compose.js"), *clips],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    sent = json.loads(out)
    assert [m["address"] for m in sent] == [
        "/musicgen/hello",
        "/musicgen/generate",
        "/musicgen/generate",
        "/musicgen/generate",
        "/musicgen/cancel",
        "/musicgen/cancel",
        "/musicgen/cancel",
    ]
    jobs = []
    for message in sent:
        request = protocol.parse_request(message["address"], message["args"])
        assert request.reply_port == protocol.DEFAULT_REPLY_PORT
        if request.verb == "generate":
            jobs.append(to_generation_request(request))
    text, melody, cont = jobs
    assert (text.bpm, text.bars, str(text.time_signature), text.prompt) == (
        123.45,
        4,
        "6/8",
        "warm analog house 808",
    )
    assert text.melody is None and text.region is None
    assert str(melody.melody) == clips[0] and melody.region == (0.25, 3.5) and melody.melody_bpm is None
    assert str(cont.continue_from) == clips[1] and cont.variations == 3
    assert (text.grid, text.grid_shift) == ("on", 0.0) and (cont.grid, cont.grid_shift) == ("strict", -1.5)
    assert cont.region == (0.9375, 2.8125) and cont.melody_bpm == 128.0  # 8 beats in 3.75 s
