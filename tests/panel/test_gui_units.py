"""The panel's pure parts and small widgets, without a daemon: drag MIME data, error text, result parsing,
request building, the OSC client's reply handling, thumbnails, the daemon command line, MIDI learn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import QPoint, QPointF, QSettings, Qt, QUrl
from PyQt6.QtGui import QColor, QDragEnterEvent, QDropEvent
from pythonosc.osc_message import OscMessage

from bridge import protocol
from bridge.midi import ports
from bridge.names import parse_stem
from bridge.protocol import ProtocolError
from gui import midi_learn
from gui.app import build_parser
from gui.clip_zone import ClipDropZone
from gui.daemon import parse_listening, serve_command
from gui.drag import mime_for_paths, reveal_command
from gui.form import FormValues, GenerateForm, build_params
from gui.messages import friendly_error, humanize_detail
from gui.osc_client import HistoryEntry, OscClient, build_request
from gui.results import ResultEntry, entries_from_history, parse_comment
from gui.waveform import ThumbnailLoader, compute_peaks, read_thumbnail, waveform_pixmap

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------ drag


def test_drag_mime_data_carries_file_urls(tmp_path):
    a = tmp_path / "dub techno_124bpm_8bars_s7.wav"
    b = tmp_path / "second take.wav"
    a.write_bytes(b"RIFF")
    b.write_bytes(b"RIFF")
    mime = mime_for_paths([a, str(b)])
    assert mime.hasUrls()
    urls = mime.urls()
    assert [u.isLocalFile() for u in urls] == [True, True]
    assert [u.toLocalFile() for u in urls] == [str(a), str(b)]
    uri_list = bytes(mime.data("text/uri-list")).decode()
    assert uri_list.split("\r\n")[0] == QUrl.fromLocalFile(str(a)).toString(
        QUrl.ComponentFormattingOption.FullyEncoded
    )
    assert uri_list.startswith("file:///") and "%20" in uri_list  # spaces are encoded, as DAWs expect
    assert mime.text().splitlines() == [str(a), str(b)]


def test_drag_mime_data_makes_relative_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mime = mime_for_paths(["loop.wav"])
    assert mime.urls()[0].toLocalFile() == str(tmp_path / "loop.wav")


def test_a_dragged_audio_file_drops_onto_the_clip_zone(qtbot, tmp_path):
    zone = ClipDropZone()
    qtbot.addWidget(zone)
    clip = tmp_path / "my riff.aiff"
    sf.write(clip, np.zeros(4410, np.float32), 44100)
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio")

    keep = []  # the events only point at their QMimeData: keep it alive

    def event(kind, path):
        keep.append(mime_for_paths([path]))
        args = (Qt.DropAction.CopyAction, keep[-1], Qt.MouseButton.LeftButton)
        if kind is QDragEnterEvent:
            return QDragEnterEvent(QPoint(5, 5), *args, Qt.KeyboardModifier.NoModifier)
        return QDropEvent(QPointF(5, 5), *args, Qt.KeyboardModifier.NoModifier)

    entering = event(QDragEnterEvent, notes)  # let in while dragged, so that the drop can say why not
    zone.dragEnterEvent(entering)
    assert entering.isAccepted()
    with qtbot.waitSignal(zone.refused) as refusal:
        dropped = event(QDropEvent, notes)
        zone.dropEvent(dropped)
    assert not dropped.isAccepted() and zone.path == ""
    assert "notes.txt is not an audio file the daemon can read" in refusal.args[0]
    accepted = event(QDragEnterEvent, clip)
    zone.dragEnterEvent(accepted)
    assert accepted.isAccepted()
    with qtbot.waitSignal(zone.clip_changed) as blocker:  # the panel's own drag-out MIME drops in too
        zone.dropEvent(event(QDropEvent, clip))
    assert blocker.args == [str(clip)] and zone.path == str(clip)


def test_reveal_command_per_platform():
    assert reveal_command("/a/b.wav", "darwin") == ["open", "-R", "/a/b.wav"]
    assert reveal_command("C:/x/b.wav", "win32")[0] == "explorer"
    assert reveal_command("/a/b.wav", "linux") is None


# ------------------------------------------------------------------------------------------ messages


def test_error_codes_become_readable_sentences():
    text = friendly_error("queue_full", "33 jobs are waiting")
    assert text.startswith("The daemon is busy: too many jobs queued. Try again in a moment.")
    assert "33 jobs are waiting" in text
    assert friendly_error("bad_path", "melody: /x.wav: file does not exist") == (
        "The clip could not be used. (Melody clip: /x.wav: file does not exist)"
    )
    assert friendly_error("cancelled", "cancelled by request") == "Cancelled."
    assert "queue_full" not in friendly_error("queue_full")
    for code in protocol.ERRORS:  # every protocol code has its own sentence
        assert friendly_error(code) != friendly_error("no-such-code"), code
    assert (
        humanize_detail("bpm: must be from 20 to 400, got 500.0") == "BPM: must be from 20 to 400, got 500.0"
    )


# ------------------------------------------------------------------------------------------ results


def test_result_names_and_metadata_are_parsed():
    info = parse_stem("/out/deep-house_123.45bpm_8bars_s42_v2-3.wav")
    assert info == {"slug": "deep-house", "bpm": 123.45, "bars": 8, "seed": 42, "take": 2}
    assert parse_stem("/somewhere/my song.wav") == {}
    assert (
        parse_comment("bpm=124 bars=8 time_signature=7/8 seed=7 model=debug take=2")["time_signature"]
        == "7/8"
    )
    entry = ResultEntry.from_path("/out/deep-house_124bpm_1bars_s7.wav")
    assert entry.prompt == "deep house" and entry.describe() == "124 bpm · 1 bar · seed 7"
    entry.update_from_metadata(
        {"title": "Deep House, róisín", "comment": "bpm=124 bars=1 time_signature=3/4"}
    )
    assert entry.prompt == "Deep House, róisín" and "3/4" in entry.describe()
    history = [
        HistoryEntry("j2", "r2", "failed", "2025-01-02T10:00:00", "p2", "boom", ()),
        HistoryEntry(
            "j1", "r1", "done", "2025-01-01T10:00:00", "p1", "", ("/o/a_120bpm_2bars_s1_v1.wav", "/o/b.wav")
        ),
    ]
    entries = entries_from_history(history)
    assert [e.path for e in entries] == ["/o/a_120bpm_2bars_s1_v1.wav", "/o/b.wav"]
    assert entries[0].prompt == "p1" and entries[0].take == 1 and entries[0].job == "j1"


# ------------------------------------------------------------------------------------------ requests


def _decode(dgram: bytes) -> tuple[str, list]:
    message = OscMessage(dgram)
    return message.address, list(message.params)


def test_form_values_become_generate_requests(tmp_path):
    clip = str(tmp_path / "clip.wav")
    v = FormValues(prompt=" dub techno ", bpm=124.0, bars=8, time_signature="7/8", top_k=0, clip_path=clip)
    p = build_params(v, seed=5)
    assert p["prompt"] == "dub techno" and p["melody"] == clip and "continue" not in p
    assert p["seed"] == 5 and p["variations"] == 1 and p["time_signature"] == "7/8"
    v.clip_mode = "continue"
    p = build_params(v, seed=5, variations=3)
    assert p["continue"] == clip and "melody" not in p and p["prompt_seconds"] == 4.0 and p["variations"] == 3
    v.clip_mode, v.clip_bpm, v.use_region, v.region_start, v.region_end = "both", 98.5, True, 1.0, 3.5
    p = build_params(v, seed=5)
    assert p["melody"] == p["continue"] == clip
    assert (p["melody_bpm"], p["region_start"], p["region_end"]) == (98.5, 1.0, 3.5)
    # Continue from a result: the result is continued; the clip adds its melody only in 'both' mode
    p = build_params(v, seed=5, continue_from="/out/result.wav")
    assert p["continue"] == "/out/result.wav" and p["melody"] == clip
    v.clip_mode = "melody"
    p = build_params(v, seed=5, continue_from="/out/result.wav")
    assert p["continue"] == "/out/result.wav" and "melody" not in p and "region_start" not in p
    # no clip: nothing clip-related is sent
    p = build_params(FormValues(prompt="x"), seed=1)
    assert not {"melody", "continue", "melody_bpm", "region_start"} & set(p)


def test_requests_are_checked_against_the_protocol_before_sending(tmp_path):
    params = build_params(FormValues(prompt="dub", bpm=124.0, bars=8), seed=9)
    address, args = _decode(build_request("generate", "panel-x-g1", params, 50123))
    assert address == "/musicgen/generate"
    request = protocol.parse_request(address, args)
    assert request.params["bpm"] == 124.0 and request.params["bars"] == 8 and request.reply_port == 50123
    with pytest.raises(ProtocolError) as e:
        build_request("generate", "panel-x-g2", {**params, "bpm": 500.0}, 50123)
    assert e.value.code == "out_of_range" and e.value.field == "bpm"
    with pytest.raises(ProtocolError):
        build_request("generate", "panel-x-g3", {**params, "melody": "relative/clip.wav"}, 50123)
    with pytest.raises(ProtocolError):  # region needs both ends
        build_request("generate", "panel-x-g4", {**params, "region_start": 1.0}, 50123)
    address, args = _decode(build_request("cancel", "panel-x-c1", {"job": None}, 50123))
    assert args == ["panel-x-c1", "reply_port", 50123]


def test_client_turns_replies_into_signals(qtbot):
    client = OscClient()
    seen: dict[str, list] = {
        k: [] for k in ("ack", "progress", "chunk", "done", "error", "status", "history")
    }
    for name, store in seen.items():
        getattr(client, name).connect(lambda *a, store=store: store.append(a))
    client.handle_reply("/musicgen/ack", ["r1", 2, "job-1"])
    client.handle_reply("/musicgen/progress", ["r1", 0.25])
    client.handle_reply("/musicgen/chunk", ["r1", 0, "/o/.jobs/j/chunk-0000.wav", 0.0])
    client.handle_reply("/musicgen/done", ["r1", "/o/a.wav", "/o/b.wav"])
    client.handle_reply("/musicgen/error", ["r2", "queue_full", "too many"])
    client.handle_reply("/musicgen/status", ["s1", "state", "idle", "queued", 0, "model", "debug"])
    client.handle_reply("/musicgen/not-a-reply", ["x"])
    assert seen["ack"] == [("r1", 2, "job-1")]
    assert seen["progress"] == [("r1", 0.25)]
    assert seen["chunk"] == [("r1", 0, "/o/.jobs/j/chunk-0000.wav", 0.0)]
    assert seen["done"] == [("r1", ["/o/a.wav", "/o/b.wav"])]
    assert seen["error"] == [("r2", "queue_full", "too many")]
    assert seen["status"] == [("s1", {"state": "idle", "queued": 0, "model": "debug"})]
    # a history answer is delivered once all its parts arrived, in index order
    client.handle_reply("/musicgen/history", ["h1", 1, 2, "j1", "r1", "done", "t1", "p1", "", "/o/a.wav"])
    assert seen["history"] == []
    client.handle_reply("/musicgen/history", ["h1", 0, 2, "j2", "r2", "failed", "t2", "p2", "boom"])
    assert [e.job for e in seen["history"][0][1]] == ["j2", "j1"]
    assert seen["history"][0][1][1].paths == ("/o/a.wav",)
    client.handle_reply("/musicgen/history", ["h2", 0, 0])
    assert seen["history"][1] == ("h2", [])
    client.close()


# ------------------------------------------------------------------------------------------ waveform


def test_peaks_are_min_and_max_per_column():
    x = np.concatenate([np.full(100, 0.5), np.full(100, -0.25)]).astype(np.float32)
    mins, maxs = compute_peaks(x, 4)
    assert list(maxs) == [0.5, 0.5, -0.25, -0.25] and list(mins) == [0.5, 0.5, -0.25, -0.25]
    stereo = np.stack([x, -x], axis=1)
    mins, maxs = compute_peaks(stereo, 2)
    assert list(maxs) == [0.5, 0.25] and list(mins) == [-0.5, -0.25]
    mins, maxs = compute_peaks(np.zeros(0), 8)
    assert len(mins) == len(maxs) == 8
    mins, maxs = compute_peaks(np.array([0.1, -0.2, 0.3]), 6)  # fewer samples than columns
    assert len(maxs) == 6 and max(maxs) == pytest.approx(0.3)


def test_thumbnail_reads_peaks_and_metadata_off_the_gui_thread(qtbot, tmp_path):
    path = tmp_path / "x_120bpm_1bars_s3.wav"
    t = np.arange(44100) / 44100
    sf.write(path, (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100, subtype="PCM_24")
    with sf.SoundFile(path, "r+") as f:
        f.title = "dub techno"
        f.comment = "bpm=120 bars=1 time_signature=4/4 seed=3 model=debug"
    thumb = read_thumbnail(str(path), 64)
    assert len(thumb.maxs) == 64 and max(thumb.maxs) == pytest.approx(0.5, abs=1e-3)
    assert thumb.duration == pytest.approx(1.0) and thumb.metadata["title"] == "dub techno"
    pixmap = waveform_pixmap(thumb.mins, thumb.maxs, 120, 40, QColor("#ff9f43"))
    image = pixmap.toImage()
    assert image.pixelColor(60, 20).alpha() > 0  # the envelope covers the middle
    loader = ThumbnailLoader(columns=32)
    with qtbot.waitSignal(loader.loaded, timeout=20000) as blocker:
        loader.request(str(path))
    assert blocker.args[0] == str(path) and len(blocker.args[1].maxs) == 32
    with qtbot.waitSignal(loader.loaded, timeout=2000):  # cached: answered at once
        loader.request(str(path))
    with qtbot.waitSignal(loader.failed, timeout=2000):
        loader.request(str(tmp_path / "gone.wav"))


# ------------------------------------------------------------------------------------------ daemon


def test_daemon_command_and_listening_line():
    argv = serve_command(9100, model="debug", out="/tmp/loops", device="cpu", python="/py")
    assert argv[:4] == ["/py", "-m", "bridge.cli", "serve"]
    assert argv[argv.index("--port") + 1] == "9100" and argv[argv.index("--model") + 1] == "debug"
    assert argv[argv.index("--out") + 1] == "/tmp/loops" and "--device" in argv
    assert "--device" not in serve_command(9000, device="auto")
    assert parse_listening("listening on 127.0.0.1:9000\n") == ("127.0.0.1", 9000)
    assert parse_listening("listening on [::1]:9001") == ("::1", 9001)
    assert parse_listening("2025 INFO loaded model") is None


# ------------------------------------------------------------------------------------------ form & midi


def test_form_settings_survive_a_restart(qtbot, tmp_path):
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros(4410, np.float32), 44100)
    settings = QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)
    form = GenerateForm()
    qtbot.addWidget(form)
    form.set_values(
        FormValues(
            prompt="acid line",
            bpm=133.5,
            bars=16,
            time_signature="7/8",
            seed=77,
            seed_locked=True,
            variations=3,
            grid="strict",
            grid_shift=-1.5,
            temperature=0.8,
            top_k=100,
            top_p=0.9,
            cfg=5.0,
            clip_path=str(clip),
            clip_mode="both",
            clip_bpm=90.0,
            use_region=True,
            region_start=0.5,
            region_end=1.5,
        )
    )
    form.remember_prompt("older prompt")
    form.remember_prompt("acid line")
    form.save(settings)
    settings.sync()
    again = GenerateForm()
    qtbot.addWidget(again)
    again.restore(QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    v = again.values()
    assert (v.prompt, v.bpm, v.bars, v.time_signature, v.seed, v.seed_locked) == (
        "acid line",
        133.5,
        16,
        "7/8",
        77,
        True,
    )
    assert (v.variations, v.temperature, v.top_k, v.top_p, v.cfg) == (3, 0.8, 100, 0.9, 5.0)
    assert (v.clip_path, v.clip_mode, v.clip_bpm, v.use_region) == (str(clip), "both", 90.0, True)
    assert (v.grid, v.grid_shift) == ("strict", -1.5)
    assert again.recent_prompts() == ["acid line", "older prompt"]
    assert again.next_seed() == 77  # locked
    again.seed_lock.setChecked(False)
    assert {again.next_seed() for _ in range(3)} != {77}


def test_midi_learn_is_disabled_without_a_midi_backend(qtbot, monkeypatch):
    monkeypatch.setattr(ports, "mido", None)
    monkeypatch.setattr(ports, "_rtmidi", None)
    button = midi_learn.MidiLearnButton()
    qtbot.addWidget(button)
    assert not button.isEnabled() and "mido" in button.toolTip()
    ok, reason = midi_learn.midi_learn_available()
    assert not ok and "mido" in reason
    monkeypatch.setattr(ports, "mido", SimpleNamespace())
    assert midi_learn.midi_learn_available() == (True, "")


class FakeSession:
    def __init__(self, action, taken=True):
        self.action, self.taken, self.message, self.cancelled = action, taken, None, False

    def listen(self, port, timeout):
        self.message = SimpleNamespace(type="note_on", note=36, channel=9, velocity=100)
        return {"bindings": 1} if self.taken else None

    def cancel(self):
        self.cancelled = True


def fake_midi(inputs, taken=True):
    module = SimpleNamespace(sessions=[])

    def session(action):
        module.sessions.append(FakeSession(action, taken))
        return module.sessions[-1]

    module.list_ports = lambda: (inputs, [])
    module.LearnSession = session
    module.control_of = lambda msg: SimpleNamespace(
        describe=lambda: f"note {msg.note} on channel {msg.channel + 1}"
    )
    return module


def test_midi_learn_binds_the_next_pad_off_the_gui_thread(qtbot, monkeypatch):
    module = fake_midi(["Pads MIDI 1", "Keys"])
    monkeypatch.setattr(midi_learn, "midi", module)
    monkeypatch.setattr(midi_learn, "midi_learn_available", lambda: (True, ""))
    button = midi_learn.MidiLearnButton("generate")
    qtbot.addWidget(button)
    assert button.isEnabled()
    with qtbot.waitSignal(button.learned, timeout=5000) as blocker:
        button.click()
    assert blocker.args == ["note 36 on channel 10 on Pads MIDI 1"]
    assert [s.action for s in module.sessions] == ["generate"] and not button.learning
    for inputs, taken, words in (([], True, "no MIDI input"), (["Pads"], False, "nothing was pressed")):
        monkeypatch.setattr(midi_learn, "midi", fake_midi(inputs, taken))
        with qtbot.waitSignal(button.failed, timeout=5000) as blocker:
            button.click()
        assert words in blocker.args[0]


# ------------------------------------------------------------------------------------------ start-up


def test_the_panel_starts_without_the_model_or_the_daemons_audio_stack():
    """The panel loads the protocol, the limits and the file-name format of the bridge, MIDI learn (with
    the time-signature parser its mapping checks presets with), and the audio libraries it plays and draws
    with (numpy, soundfile, sounddevice); never the model (torch, transformers), the daemon's audio
    processing (soxr, pyloudnorm, the rest of bridge.audio) or the daemon itself."""
    code = (
        "import gui.app, gui.main_window, sys\n"
        "heavy = {'torch', 'transformers', 'soxr', 'pyloudnorm'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "ours = {m.split('.')[1] for m in sys.modules if m.startswith('bridge.')}\n"
        "assert ours <= {'limits', 'names', 'protocol', 'midi', 'audio'}, ours\n"
        "audio = {m for m in sys.modules if m.startswith('bridge.audio.')}\n"
        "assert audio <= {'bridge.audio.tempo'}, audio\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def test_command_line_options():
    args = build_parser().parse_args(
        ["--host", "127.0.0.1", "--port", "9100", "--spawn-daemon", "--model", "debug"]
    )
    assert (args.host, args.port, args.spawn_daemon, args.model) == ("127.0.0.1", 9100, True, "debug")
