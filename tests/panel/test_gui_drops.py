"""Files dropped on the panel, the clip that cannot be read, and the small things a producer trips over: a
typed BPM beyond the range, what Continue continues, where the files go, the daemon being started."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from osc_client import FakeRenderer
from panel_window import add_results, offline_window, settle
from PyQt6.QtCore import QPoint, QPointF, QSettings, Qt
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QApplication

from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.server import Server
from gui import audio_files
from gui.drag import mime_for_paths
from gui.main_window import MainWindow
from gui.osc_client import OscClient
from gui.output import FakeOutputDevice
from gui.player import PreviewPlayer
from gui.window import results as results_part

TIMEOUT_MS = 20_000


def drop_on(widget, path) -> tuple[bool, bool]:  # noqa: ANN001
    """Drag `path` over `widget` and drop it there, as the window system would; (entered, dropped)."""
    mime = mime_for_paths([path])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(5, 5), *args)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(5, 5), *args)
    QApplication.sendEvent(widget, drop)
    settle()
    return enter.isAccepted(), drop.isAccepted()


@pytest.fixture
def window(qtbot, tmp_path):
    return offline_window(qtbot, tmp_path, (1024, 700))


@pytest.mark.parametrize(("suffix", "fmt", "subtype"), [("oga", "OGG", "VORBIS"), ("opus", "OGG", "OPUS")])
def test_an_ogg_clip_dropped_on_the_window_body_becomes_the_clip(qtbot, window, tmp_path, suffix, fmt, subtype):
    clip = tmp_path / f"my riff.{suffix}"
    sf.write(clip, 0.2 * np.ones(9600, np.float32), 48000, format=fmt, subtype=subtype)
    # the jobs area's hint: no drop target of its own, the drop reaches the panel
    target = window.jobs_view.empty
    assert not target.acceptDrops()
    assert drop_on(target, clip) == (True, True)
    assert window.form.clip.path == str(clip)
    qtbot.waitUntil(lambda: window.form.clip.wave.thumb is not None, timeout=TIMEOUT_MS)  # and it reads
    assert f"*.{suffix}" in audio_files.FILE_FILTER  # the open dialog offers it too


def test_a_clip_dropped_on_the_prompt_lands_in_the_clip_box(window, tmp_path):
    clip = tmp_path / "riff.wav"
    sf.write(clip, np.zeros(4410, np.float32), 44100)
    assert drop_on(window.form.prompt.lineEdit(), clip) == (True, True)
    assert window.form.clip.path == str(clip) and window.form.prompt.currentText() == ""


def test_a_refused_drop_says_why(window, tmp_path):
    song = tmp_path / "song.m4a"
    song.write_bytes(b"\x00\x00\x00\x20ftypM4A ")
    assert drop_on(window.results, song) == (True, False)
    assert window.form.clip.path == ""
    message = window.message()
    assert message.startswith("song.m4a is AAC (M4A) audio, which the daemon cannot read")
    assert "libsndfile" in message and "WAV" in message
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    drop_on(window.form.clip, notes)
    assert "notes.txt is not an audio file the daemon can read" in window.message()


def test_every_readable_type_is_in_the_open_dialog():
    for ext in (".wav", ".aif", ".aiff", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".caf", ".w64"):
        assert f"*{ext}" in audio_files.FILE_FILTER
    assert "*.m4a" not in audio_files.FILE_FILTER
    assert audio_files.clip_verdict("/nowhere/x.wav")[1] == "x.wav is not there any more."


def test_bpm_500_typed_says_it_is_out_of_range(qtbot, window):
    bpm = window.form.bpm
    bpm.setFocus()
    bpm.lineEdit().selectAll()
    qtbot.keyClicks(bpm, "500")
    assert bpm.lineEdit().text() == "500"  # not cut to "50"
    qtbot.keyClick(bpm, Qt.Key.Key_Return)
    assert bpm.value() == bpm.maximum()
    note = window.form.note
    assert note.isVisible() and note.text() == f"BPM 500 is out of range (20 to {bpm.maximum():g}): set to {bpm.maximum():g}."


def test_the_loop_length_is_shown_in_seconds(window):
    form = window.form
    form.bpm.setValue(120.0)
    form.bars.setValue(4)
    form.time_signature.setEditText("4/4")
    assert form.length.text() == "= 8.0 s"
    form.time_signature.setEditText("6/8")  # 3 beats a bar
    assert form.length.text() == "= 6.0 s"
    form.bpm.setValue(40.0)
    form.bars.setValue(128)
    assert form.length.text().startswith("= 576 s (max") and form.length.property("role") == "warn"


def test_continue_follows_the_selected_result_and_says_so(window, tmp_path):
    paths = add_results(window, tmp_path, 2)
    window.client._set_connected(True)  # the button's state only; nothing is sent here
    window.compose.update_actions()
    assert window.continue_button.text() == "Continue" and not window.continue_button.isEnabled()
    window.results.select_path(paths[0])
    assert window.continue_button.text() == "Continue selected" and window.continue_button.isEnabled()
    assert window.compose.continue_target() == (paths[0], "result")
    assert paths[0].rsplit("/", 1)[1] in window.continue_button.toolTip()
    window.form.clip.set_clip(paths[1])
    assert window.compose.continue_target() == (paths[0], "result")  # a visible selection wins
    window.results.setCurrentItem(None)
    window.compose.update_actions()
    assert window.continue_button.text() == "Continue clip"
    assert window.compose.continue_target() == (paths[1], "clip")
    window.client._set_connected(False)


def test_the_output_folder_is_shown_and_its_path_can_be_copied(qtbot, window, monkeypatch, tmp_path):
    out = str(tmp_path / "MusicGen Bridge")
    window.results_part.set_out_dir(out)
    label = window.results_part.folder_label
    assert label.isVisible() and label.text() == f"Saved in {out}"
    qtbot.mouseClick(window.results_part.copy_path_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == out
    QApplication.clipboard().setText("")
    monkeypatch.setattr(results_part, "reveal_in_file_manager", lambda _path: False)  # no file manager
    qtbot.mouseClick(window.open_folder_button, Qt.MouseButton.LeftButton)
    assert window.message().startswith(f"No file manager could be opened for {out}. Its path is copied")
    assert QApplication.clipboard().text() == out
    (path,) = add_results(window, tmp_path, 1)
    window.results.rows[path].folder.click()  # a row's Show in folder says so too
    assert f"No file manager could be opened for {path}" in window.message()


def test_spawn_daemon_shows_starting_not_a_red_not_running(qtbot, tmp_path):
    window = offline_window(qtbot, tmp_path, spawn_daemon=True)
    assert window.connection_label.text() == "Starting daemon…"
    assert "not running" not in window.connection_label.text().lower()


@pytest.fixture
def live(qtbot, tmp_path):
    """A window connected to an in-process daemon (the real server and queue, a fake renderer)."""
    out = tmp_path / "out"
    out.mkdir()
    renderer = FakeRenderer()
    server = Server(renderer, out, Journal.open(out), ServerOptions(port=0), model_name="fake")
    server.serve_in_thread()
    settings = QSettings(str(tmp_path / "live.ini"), QSettings.Format.IniFormat)
    client = OscClient("panel")
    client.set_target(*server.address)
    w = MainWindow(client, settings, player=PreviewPlayer(FakeOutputDevice()))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(w.is_connected, timeout=TIMEOUT_MS)
    yield w, renderer
    w.close()
    server.close(timeout=5)


def test_generate_is_not_sent_with_a_clip_known_unreadable(qtbot, live, tmp_path):
    window, renderer = live
    bad = tmp_path / "take.wav"
    bad.write_text("no audio here")
    window.form.prompt.setEditText("dub chords")
    window.form.clip.set_clip(str(bad))
    qtbot.waitUntil(lambda: bool(window.form.clip.unreadable), timeout=TIMEOUT_MS)
    assert window.submit("generate") == ""
    assert window.message().startswith("Not sent: the clip take.wav cannot be read.")
    assert "Clear it" in window.message() and window.jobs == {}
    qtbot.mouseClick(window.form.clip.clear, Qt.MouseButton.LeftButton)  # cleared: it goes
    rid = window.submit("generate")
    assert rid
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=TIMEOUT_MS)
    assert renderer.rendered[-1].melody is None
