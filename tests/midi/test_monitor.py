"""The `musicgen-bridge midi` commands: monitor, check and list."""

from __future__ import annotations

import threading
import time

import mido
from midi_helpers import MINI, on

from bridge.cli import main
from bridge.midi.clock import PULSES_PER_QUARTER
from bridge.midi.monitor import monitor as bridge_midi_monitor
from bridge.midi.ports import MemoryBackend


def test_monitor_prints_messages_actions_and_the_clock_tempo():
    backend = MemoryBackend()
    pads = backend.add_input("Pads")
    lines: list[str] = []

    def play():
        time.sleep(0.1)
        pads.send(on(36))
        pads.send(on(42))
        t0 = time.monotonic() - 0.5
        pads.send(mido.Message("start"), t0 - 0.01)
        for k in range(PULSES_PER_QUARTER):
            pads.send(mido.Message("clock"), t0 + k * 0.02)  # 125 bpm

    threading.Thread(target=play, daemon=True).start()
    assert bridge_midi_monitor("pads", seconds=0.6, backend=backend, write=lines.append) == 0
    assert lines[0] == "listening to Pads with midi_default.toml"
    assert any(line.endswith("->  generate") for line in lines)
    assert any("note=42" in line and "->" not in line for line in lines)
    assert "start" in lines and "clock: 125.00 bpm (jitter 0.10 ms)" in lines, lines


def test_cli_midi_check_and_errors(tmp_path, capsys):
    assert main(["midi", "check"]) == 0
    assert "14 bindings, 8 presets" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(MINI.replace('action = "generate"', 'action = "launch"'))
    assert main(["midi", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: line 7: unknown action 'launch'" in err and "Traceback" not in err
    assert main(["serve", "--midi-clock", "--out", str(tmp_path)]) == 2
    assert "need --midi PORT" in capsys.readouterr().err


def test_cli_midi_list_and_serve_with_a_missing_port_fail_cleanly_before_loading_a_model(tmp_path, capsys):
    rc = main(["midi", "list"])
    out, err = capsys.readouterr()
    assert (rc == 0 and "inputs:" in out) or (rc == 2 and err.startswith("error: ")), (rc, out, err)
    t0 = time.monotonic()
    rc = main(["serve", "--model", "debug", "--port", "0", "--out", str(tmp_path), "--midi", "no such pads"])
    assert rc == 2 and time.monotonic() - t0 < 10
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_cli_midi_check_reports_every_mistake_with_its_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    text = MINI.replace('action = "generate"', 'action = "launch"').replace("bars = 8", "bars = 999")
    bad.write_text(text.replace("note = 45", "note = 36\naction2 = 1"))
    assert main(["midi", "check", str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"error: {bad}: line ") for line in lines), lines
    assert "unknown action 'launch'" in lines[0]
    assert any("action2" in line for line in lines) and any("bars" in line for line in lines)
