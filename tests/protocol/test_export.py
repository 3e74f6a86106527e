"""The exported tables: JSON for the Max device and `protocol --json`, Markdown for the README."""

from __future__ import annotations

import json
from pathlib import Path

from bridge import protocol
from bridge.cli import main


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
    assert main(["protocol", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["prefix"] == "/musicgen"
    assert main(["protocol"]) == 0
    assert "| `/musicgen/generate <request_id>`" in capsys.readouterr().out


def test_readme_protocol_table_is_in_sync():
    """The README's protocol section is generated from the table; regenerate it when the protocol changes."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    begin, end = "<!-- protocol:begin -->\n", "\n<!-- protocol:end -->"
    section = readme[readme.index(begin) + len(begin) : readme.index(end)]
    assert section.strip() == protocol.to_markdown().strip()
