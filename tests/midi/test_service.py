"""The MIDI service with in-memory ports (a port that disappears and comes back, the mapping reloaded
after MIDI learn), attached to a real daemon, started by `serve --midi`, and end to end with the
debug model.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import mido
import pytest
import soundfile as sf
from midi_helpers import MINI, cc, on, wait_until
from osc_client import FakeRenderer, OscTestClient

import bridge.daemon.app
import bridge.midi.ports
import bridge.midi.service
from bridge.audio.tempo import TimeSignature, loop_samples
from bridge.cli import main
from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.server import Server
from bridge.midi.clock import PULSES_PER_QUARTER
from bridge.midi.learn import LearnSession, learn_binding
from bridge.midi.mapfile import user_mapping_path
from bridge.midi.ports import MemoryBackend
from bridge.midi.service import MidiOptions, MidiService, attach


@pytest.fixture
def fake_daemon(tmp_path):
    made = []

    def make(renderer=None):
        journal = Journal.open(tmp_path, synchronous="NORMAL")
        server = Server(
            renderer or FakeRenderer(), tmp_path, journal, ServerOptions(port=0), model_name="fake"
        )
        thread = server.serve_in_thread()
        client = OscTestClient(("127.0.0.1", server.address[1]))
        client.hello("panel")
        made.append((server, thread, journal, client))
        return server, client

    yield make
    for server, thread, journal, client in made:
        client.close()
        server.close(timeout=5)
        thread.join(5)
        journal.close()


def test_a_pad_hit_is_an_ordinary_job_announced_to_registered_clients(fake_daemon, tmp_path):
    server, client = fake_daemon()
    backend = MemoryBackend()
    pads = backend.add_input("Pads 20:0")
    backend.add_output("Pads 20:0 out")
    mapping = tmp_path / "map.toml"
    mapping.write_text(MINI)
    service = MidiService(MidiOptions("pads", mapping=mapping, out_port="pads"), server.jobs, backend=backend)
    service.start()
    try:
        assert service.connected and service.output_name == "Pads 20:0 out"
        pads.send(mido.Message("note_on", note=36, velocity=100, channel=9))
        ack = client.wait(lambda r: r.verb == "ack", 10)
        request_id = ack.args[0]
        assert request_id.startswith("midi-")
        done = client.wait_for(request_id, {"done"}, 10)
        assert Path(done.args[1]).is_file()
        status = service.status()
        assert status["midi_connected"] is True and status["midi_preset"] == 1 and status["midi_bars"] == 2
        assert status["midi_map"] == str(mapping)
        sent = backend.outputs["Pads 20:0 out"].sent
        wait_until(lambda: [m.velocity for m in sent if m.note == 36][:2] == [127, 64], 5, "done light")
    finally:
        service.stop()
    assert [m.velocity for m in sent if m.note == 36][-1] == 0  # lights off at shutdown


def test_the_port_disappearing_leaves_osc_working_and_it_is_reopened(fake_daemon, caplog):
    server, client = fake_daemon()
    backend = MemoryBackend()
    backend.add_input("Pads 20:0")
    service = MidiService(MidiOptions("Pads", retry_seconds=0.1), server.jobs, backend=backend)
    with caplog.at_level(logging.INFO, logger="bridge.midi.service"):
        service.start()
        try:
            backend.remove("Pads 20:0")  # unplugged
            wait_until(lambda: not service.connected, 5, "disconnect")
            assert "disappeared" in caplog.text and "OSC keeps working" in caplog.text
            assert client.ping() < 5  # the daemon still answers
            assert service.status()["midi_connected"] is False
            pads = backend.add_input("Pads 24:0")  # plugged in again, with a new client number
            wait_until(lambda: service.connected, 5, "reconnect")
            assert service.input_name == "Pads 24:0" and "is back" in caplog.text
            pads.send(on(36))
            ack = client.wait(lambda r: r.verb == "ack", 10)
            client.wait_for(ack.args[0], {"done"}, 10)
        finally:
            service.stop()
    assert service.stats["reconnects"] == 1 and service.stats["errors"] == 0


def test_the_mapping_file_is_reloaded_after_midi_learn_and_a_broken_edit_is_ignored(
    fake_daemon, tmp_path, caplog
):
    server, client = fake_daemon()
    backend = MemoryBackend()
    pads = backend.add_input("Pads")
    path = tmp_path / "map.toml"
    path.write_text(MINI)
    service = MidiService(MidiOptions("Pads", mapping=path), server.jobs, backend=backend).start()
    try:
        learn_binding(path, "generate", on(60, channel=9))
        wait_until(lambda: service.mapping.bindings_for("generate")[0].control.number == 60, 5, "reload")
        pads.send(on(60))
        client.wait(lambda r: r.verb == "done", 10)
        with caplog.at_level(logging.ERROR, logger="bridge.midi.service"):
            path.write_text(MINI.replace("note = 36", "note = 999"))
            wait_until(lambda: "not reloaded" in caplog.text, 5, "reload error")
        assert "map.toml: line 8" in caplog.text
        assert service.mapping.bindings_for("generate")[0].control.number == 60  # the previous one stays
    finally:
        service.stop()


def test_midi_learn_without_a_file_creates_the_users_mapping_and_the_daemon_switches_to_it(fake_daemon):
    server, client = fake_daemon()
    backend = MemoryBackend()
    pads = backend.add_input("Pads")
    service = MidiService(MidiOptions("Pads"), server.jobs, backend=backend).start()
    try:
        assert service.mapping_path is None and service.status()["midi_map"] == ""  # the built-in one
        session = LearnSession("generate")  # what the panel does
        assert session.path == user_mapping_path() and not session.path.exists()
        session.offer(cc(30, 127, channel=2))
        session.commit()
        wait_until(lambda: service.mapping_path == user_mapping_path(), 5, "switch to the user's file")
        pads.send(cc(30, 100, channel=2))
        client.wait(lambda r: r.verb == "done", 10)
    finally:
        service.stop()


def test_attach_puts_the_midi_fields_in_the_daemons_status(fake_daemon):
    server, client = fake_daemon()
    backend = MemoryBackend()
    backend.add_input("Pads")
    service = attach(server, MidiOptions("Pads", clock=True), backend=backend)
    try:
        assert service.status in server.status_extras
        client.send("status", "s1")
        reply = client.wait_for("s1", {"status"}, 5)
        fields = dict(zip(reply.args[1::2], reply.args[2::2], strict=True))
        assert fields["midi_connected"] == 1 and fields["clock_bpm"] == "" and fields["midi_preset"] == 1
    finally:
        service.stop()


def test_cli_serve_starts_midi_through_the_daemons_on_ready_hook(tmp_path, monkeypatch, capsys):
    """`serve --midi` as wired in bridge.cli, against the hook it asks bridge.server.serve for:
    on_ready(server) right after the Server is built, its return value called at shutdown."""
    backend = MemoryBackend()
    pads = backend.add_input("Pads 20:0")
    backend.add_output("Pads 20:0 out")
    monkeypatch.setattr(bridge.midi.ports, "default_backend", lambda: backend)
    seen = {}

    def serve(options, *, model, out_dir, on_ready=None, **kwargs):
        Path(out_dir).mkdir(exist_ok=True)
        journal = Journal.open(Path(out_dir), synchronous="NORMAL")
        server = Server(FakeRenderer(), Path(out_dir), journal, options, model_name="fake")
        stop = on_ready(server)
        service = pads.listeners[0].__self__  # the MidiService that opened the port
        seen.update(clock=service.clock is not None, out=service.output_name, map=service.mapping_path)
        pads.send(on(36))
        server.jobs.start()
        wait_until(lambda: server.jobs.history(1) and server.jobs.history(1)[0].state == "done", 10, "job")
        seen["client"] = server.jobs.history(1)[0].client
        stop()
        seen["closed"] = pads.listeners == []
        server.close(5)
        journal.close()
        return 0

    monkeypatch.setattr(bridge.daemon.app, "serve", serve)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MINI)
    args = ["serve", "--port", "0", "--out", str(tmp_path / "out"), "--midi", "pads", "--midi-clock"]
    assert main([*args, "--midi-map", str(mapping), "--midi-out", "pads"]) == 0, capsys.readouterr().err
    assert seen == {"clock": True, "out": "Pads 20:0 out", "map": mapping, "client": "midi", "closed": True}
    assert main([*args, "--midi-out", "nothing like it"]) == 2
    assert "no MIDI output port matches 'nothing like it'" in capsys.readouterr().err


# ========================================================================= end to end, debug model


def test_end_to_end_serve_with_midi_clock_and_the_debug_model(tmp_path, monkeypatch):
    """`musicgen-bridge serve --model debug --midi Pads --midi-clock --midi-map FILE`, run by the CLI in
    a thread, with an in-memory port standing in for the controller: a clock at 150 bpm and a pad hit
    give a 1-bar loop at 150 bpm through the daemon's queue and journal, announced over OSC to a client
    that only said hello; the clock tempo is in /status."""
    backend = MemoryBackend()
    pads = backend.add_input("Pads 20:0")
    monkeypatch.setattr(bridge.midi.ports, "default_backend", lambda: backend)
    servers: list[Server] = []
    real_attach = bridge.midi.service.attach

    def attach_and_keep(server, options, **kwargs):
        servers.append(server)
        return real_attach(server, options, **kwargs)

    monkeypatch.setattr(bridge.midi.service, "attach", attach_and_keep)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MINI.replace("bars = 2", "bars = 1"))
    out = tmp_path / "out"
    argv = ["serve", "--model", "debug", "--device", "cpu", "--port", "0", "--out", str(out), "--no-warmup"]
    argv += ["--engine", os.environ.get("MUSICGEN_TEST_ENGINE", "ours")]
    argv += ["--midi", "pads", "--midi-clock", "--midi-map", str(mapping)]
    rc: list[int] = []
    daemon = threading.Thread(target=lambda: rc.append(main(argv)), daemon=True)
    daemon.start()
    try:
        wait_until(lambda: servers and pads.listeners, 120, "daemon with its MIDI input")
        server = servers[0]
        with OscTestClient(("127.0.0.1", server.address[1])) as client:
            client.hello("live-device")
            now = time.monotonic()
            period = 60 / (PULSES_PER_QUARTER * 150)
            pads.send(mido.Message("start"), now - 2 * PULSES_PER_QUARTER * period - 0.001)
            for k in range(2 * PULSES_PER_QUARTER, 0, -1):  # two beats at 150 bpm, ending now
                pads.send(mido.Message("clock"), now - k * period)
            status: dict = {}
            for attempt in range(50):  # until the MIDI thread has read the clock
                client.send("status", f"st{attempt}")
                fields = client.wait_for(f"st{attempt}", {"status"}, 10).args
                status = dict(zip(fields[1::2], fields[2::2], strict=True))
                if status["clock_bpm"] != "":
                    break
                time.sleep(0.005)
            assert status["clock_bpm"] == 150.0 and status["midi_connected"] == 1, status
            assert (status["midi_bpm"], status["midi_bars"]) == (150.0, 1)
            # "last clock tempo" once the two beats of clock are older than the drop-out time
            assert status["midi_bpm_source"] in ("clock", "last clock tempo")
            pads.send(on(36, 100, channel=9))
            ack = client.wait(lambda r: r.verb == "ack", 30)
            done = client.wait_for(ack.args[0], {"done", "error"}, 120)
            assert done.verb == "done", done
            wav = Path(done.args[1])
            info = sf.info(wav)
            assert info.frames == loop_samples(1, 150, TimeSignature(4, 4), info.samplerate)
            assert "150bpm" in wav.name and wav.parent == out.resolve()
            record = server.jobs.history(1)[0]
            assert (record.client, record.state, record.request["bpm"]) == ("midi", "done", 150.0)
            assert record.request["prompt"] == "dusty drums"
    finally:
        if servers:
            servers[0].stop()
        daemon.join(60)
    assert rc == [0]
    assert pads.listeners == []  # the MIDI input was closed at shutdown
