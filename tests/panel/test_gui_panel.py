"""The panel against a real daemon: `python -m bridge.cli serve --model debug --device cpu` as a subprocess
(started by the panel's own DaemonProcess), driven through the widgets like a user would.

Also one in-process daemon (the real OSC server and job queue, with a renderer that streams known audio),
to check that streamed chunks reach the preview player intact and in order.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import QRect, QSettings, Qt
from PyQt6.QtWidgets import QApplication

from bridge.audio.io import write_wav_unique
from bridge.daemon.journal import Journal
from bridge.daemon.net import ServerOptions
from bridge.daemon.server import Server
from bridge.daemon.types import Rendered
from gui import theme
from gui.daemon import DaemonProcess, serve_command
from gui.main_window import DaemonOptions, MainWindow
from gui.messages import NOT_CONNECTED, friendly_error
from gui.osc_client import OscClient
from gui.output import FakeOutputDevice
from gui.player import CHUNK_SAMPLE_RATE, PreviewPlayer

GENERATE_TIMEOUT_MS = 60_000  # the machine is shared: the debug model usually needs < 2 s
START_TIMEOUT_S = 120.0  # loading torch and the debug model


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_panel(qtbot, tmp_path: Path, host: str, port: int, name: str = "panel", **kwargs):
    theme.apply_theme(QApplication.instance())
    settings = QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat)
    client = OscClient(name)
    client.set_target(host, port)
    device = FakeOutputDevice()
    window = MainWindow(client, settings, player=PreviewPlayer(device), **kwargs)
    qtbot.addWidget(window)
    window.show()
    return window, device


def fill_form(window: MainWindow, qtbot, prompt: str, bpm: float = 120.0, bars: int = 1) -> None:
    form = window.form
    form.prompt.setEditText("")
    qtbot.keyClicks(form.prompt.lineEdit(), prompt)
    form.bpm.setValue(bpm)
    form.bars.setValue(bars)


def new_job(window: MainWindow, before: set[str]) -> str:
    (rid,) = set(window.jobs) - before
    return rid


@pytest.fixture(scope="module")
def daemon(qapp, tmp_path_factory):
    out = tmp_path_factory.mktemp("gui-daemon") / "out"
    process = DaemonProcess()
    process.start(serve_command(0, model="debug", out=out, device="cpu"))
    try:
        process.wait_until_listening(START_TIMEOUT_S)
    except Exception:
        process.stop()
        raise
    yield SimpleNamespace(process=process, host=process.address[0], port=process.address[1], out=out)
    process.stop()


@pytest.fixture
def panel(qtbot, tmp_path, daemon):
    window, device = open_panel(qtbot, tmp_path, daemon.host, daemon.port)
    qtbot.waitUntil(lambda: window.is_connected() and bool(window.out_dir), timeout=30_000)
    return window, device


# ------------------------------------------------------------------------------------------ real daemon


def test_generate_shows_progress_chunks_and_the_finished_result(qtbot, panel, daemon):
    window, device = panel
    progress, chunks = [], []
    window.client.progress.connect(lambda _rid, f: progress.append(f))
    window.client.chunk.connect(lambda _rid, i, path, _s: chunks.append((i, path)))
    assert "debug" in window.model_label.text()
    assert Path(window.out_dir) == daemon.out.resolve()
    fill_form(window, qtbot, "dub techno stab")
    before = set(window.jobs)
    qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
    rid = new_job(window, before)
    row = window.jobs_view.row(rid)
    assert row is not None and "120 bpm · 1 bar" in row.detail.text()
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=GENERATE_TIMEOUT_MS)

    assert progress and progress == sorted(progress) and progress[-1] == 1.0
    path = window.results.paths()[0]
    assert Path(path).is_file() and Path(path).parent == daemon.out.resolve()
    result = window.results.rows[path]
    qtbot.waitUntil(lambda: result.wave.thumb is not None, timeout=20_000)
    assert result.entry.prompt == "dub techno stab"
    assert (result.entry.bpm, result.entry.bars, result.entry.time_signature) == (120.0, 1, "4/4")
    assert "120 bpm · 1 bar · 4/4" in result.detail.text()
    assert window.results.selected_path() == path
    assert window.form.recent_prompts()[0] == "dub techno stab"
    assert window.message() == ""
    qtbot.waitUntil(lambda: window.jobs_view.row(rid) is None, timeout=10_000)  # the finished row goes

    # the streamed chunks went to the output in order, while the loop was being generated
    assert chunks, "the daemon streamed no preview chunks"
    assert window.jobs[rid].chunks == len(chunks)
    assert window.player.played_chunks() == sorted(i for i, _ in chunks) == list(range(len(chunks)))
    streamed = np.concatenate([sf.read(p, dtype="float32")[0] for _, p in sorted(chunks)])
    window.player.set_volume(1.0)
    heard = np.concatenate([device.pull(1600) for _ in range(len(streamed) // 1600 + 1)])[: len(streamed), 0]
    np.testing.assert_allclose(heard, streamed, atol=1e-6)
    window.player.poll()
    assert window.player.state == "idle"

    # play the finished loop through the (fake) output
    window.play_selected()
    assert window.player.state == "playing" and device.is_open
    assert np.abs(device.pull(4410)).max() > 0
    window.stop_playback()
    assert window.player.state == "idle"


def test_keyboard_generate_queue_position_and_escape_cancels(qtbot, panel):
    window, _device = panel
    fill_form(
        window, qtbot, "long ambient drone", bpm=120.0, bars=96
    )  # minutes of audio: never finishes first
    window.activateWindow()
    window.form.prompt.setFocus()
    results_before = window.results.paths()
    before = set(window.jobs)
    qtbot.keyClick(window.form.prompt.lineEdit(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    running = new_job(window, before)
    row = window.jobs_view.row(running)
    qtbot.waitUntil(lambda: row.state == "running" and row.bar.value() > 0, timeout=GENERATE_TIMEOUT_MS)
    before = set(window.jobs)
    qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)  # a second job waits behind it
    queued = new_job(window, before)
    second = window.jobs_view.row(queued)
    qtbot.waitUntil(lambda: second.status.text() == "Queued · 1 ahead", timeout=10_000)
    assert window.cancel_button.isEnabled()
    t0 = time.monotonic()
    qtbot.keyClick(window.form.prompt.lineEdit(), Qt.Key.Key_Escape)  # cancels all of the panel's jobs
    qtbot.waitUntil(
        lambda: window.jobs[running].state == window.jobs[queued].state == "cancelled", timeout=30_000
    )
    assert time.monotonic() - t0 < 20.0  # the GPU (here: CPU) stops at its next step, not at the end
    assert row.status.text() == second.status.text() == "Cancelled"
    assert window.message() == ""  # cancelling is not an error
    assert window.results.paths() == results_before
    assert not window.cancel_button.isEnabled()


def test_variations_list_one_result_per_take(qtbot, panel):
    window, _device = panel
    fill_form(window, qtbot, "boom bap drums", bpm=90.0)
    window.form.variations.setValue(2)
    before = set(window.jobs)
    qtbot.mouseClick(window.variations_button, Qt.MouseButton.LeftButton)
    rid = new_job(window, before)
    assert window.jobs[rid].params["variations"] == 2
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=GENERATE_TIMEOUT_MS)
    takes = [window.results.rows[p].entry for p in window.results.paths()[:2]]
    assert sorted(e.take for e in takes) == [1, 2]
    assert {e.seed for e in takes} == {window.jobs[rid].params["seed"]}


def test_an_error_from_the_daemon_is_shown_as_readable_text(qtbot, panel, tmp_path):
    window, _device = panel
    clip = tmp_path / "riff.wav"
    sf.write(clip, np.zeros(44100, np.float32), 44100)
    fill_form(window, qtbot, "follow my riff")
    window.form.clip.set_clip(str(clip))
    clip.unlink()  # the clip vanished before Generate was pressed
    before = set(window.jobs)
    qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
    rid = new_job(window, before)
    qtbot.waitUntil(lambda: window.jobs[rid].state == "failed", timeout=GENERATE_TIMEOUT_MS)
    message = window.message()
    assert message.startswith("“follow my riff” failed: The clip could not be used.")
    assert "Melody clip:" in message and str(clip) in message and "bad_path" not in message
    row = window.jobs_view.row(rid)
    assert row.status.text() == "Failed" and "The clip could not be used" in row.error.text()
    # the jobs area lays the failed row out (it scrolls past its maximum height) before a user could click
    qtbot.waitUntil(lambda: row.cancel.visibleRegion().boundingRect() == row.cancel.rect() != QRect())
    qtbot.mouseClick(row.cancel, Qt.MouseButton.LeftButton)  # Dismiss
    assert window.jobs_view.row(rid) is None
    window.form.clip.set_clip("")


# ------------------------------------------------------------------------------------------ no daemon


def test_without_a_daemon_the_panel_says_so(qtbot, tmp_path):
    window, _device = open_panel(qtbot, tmp_path, "127.0.0.1", free_udp_port())
    assert window.connection_label.text() == "Daemon not running"
    assert "nothing answers at 127.0.0.1:" in window.model_label.text()
    assert not window.generate_button.isEnabled() and window.start_daemon_button.isVisible()
    assert window.submit("generate") == ""
    assert window.message() == friendly_error(NOT_CONNECTED)
    assert not window.player.available or window.player.state == "idle"


def test_a_daemon_that_cannot_start_says_why(qtbot, tmp_path):
    options = DaemonOptions(model=str(tmp_path / "no-such-checkpoint"), out=str(tmp_path / "loops"))
    window, _device = open_panel(qtbot, tmp_path, "127.0.0.1", free_udp_port(), daemon_options=options)
    qtbot.mouseClick(window.start_daemon_button, Qt.MouseButton.LeftButton)
    assert window.connection_label.text() == "Starting daemon…"
    qtbot.waitUntil(lambda: window.message() != "", timeout=int(START_TIMEOUT_S * 1000))
    assert window.message().startswith("The daemon could not start: ")
    assert "no-such-checkpoint" in window.message() and "Traceback" not in window.message()
    assert window.connection_label.text() == "Daemon not running" and window.start_daemon_button.isVisible()


def test_the_panel_starts_a_daemon_notices_it_stop_and_recovers(qtbot, tmp_path):
    port = free_udp_port()
    out = tmp_path / "my loops"
    options = DaemonOptions(model="debug", out=str(tmp_path / "default"), device="cpu")
    window, _device = open_panel(qtbot, tmp_path, "127.0.0.1", port, daemon_options=options)
    assert window.start_daemon_button.isVisible() and window.connection.folder_button.isVisible()
    window.connection.set_daemon_out(str(out))  # what Folder… does with the folder picked
    assert str(out) in window.start_daemon_button.toolTip()
    qtbot.mouseClick(window.start_daemon_button, Qt.MouseButton.LeftButton)
    assert window.daemon.running and not window.start_daemon_button.isVisible()
    qtbot.waitUntil(lambda: window.is_connected() and bool(window.out_dir), timeout=int(START_TIMEOUT_S * 1000))
    assert window.connection_label.text() == "Connected"
    assert Path(window.out_dir) == out.resolve()  # the daemon writes where the user chose

    fill_form(window, qtbot, "first loop")
    before = set(window.jobs)
    qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
    rid = new_job(window, before)
    qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=GENERATE_TIMEOUT_MS)
    first = window.results.paths()[0]

    os.kill(window.daemon.pid, signal.SIGKILL)  # the daemon crashes: said within a second, in words
    t0 = time.monotonic()
    qtbot.waitUntil(lambda: not window.is_connected() and "SIGKILL" in window.message(), timeout=1_000)
    assert time.monotonic() - t0 < 1.0
    assert window.connection_label.text() == "Daemon not running"
    assert "has stopped: it was killed by signal 9 (SIGKILL)" in window.message()
    assert "exit status" not in window.message()
    assert not window.generate_button.isEnabled() and window.start_daemon_button.isVisible()

    restart = window.banner.action("Restart")  # ...and comes back from the banner's Restart
    assert restart is not None
    qtbot.mouseClick(restart, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.is_connected, timeout=int(START_TIMEOUT_S * 1000))
    assert window.generate_button.isEnabled() and window.message() == ""

    # a fresh panel lists the earlier loop from the daemon's history (it survived the restart)
    other, _ = open_panel(qtbot, tmp_path, "127.0.0.1", port, name="second")
    qtbot.waitUntil(lambda: first in other.results.rows, timeout=30_000)
    assert other.results.rows[first].entry.prompt == "first loop"
    other.close()

    window.close()  # the panel stops the daemon it started
    assert not window.daemon.running
    assert Path(first).is_file()  # and never deletes results


# ------------------------------------------------------------------------------------------ streaming


class StreamingRenderer:
    """Streams `count` chunks of a known ramp, then writes a short loop (for the in-process daemon)."""

    name = "streaming-test"

    def __init__(self, count: int = 5, samples: int = 3200):
        self.count, self.samples = count, samples

    def audio(self) -> np.ndarray:
        n = self.count * self.samples
        return (0.5 * np.sin(2 * np.pi * 220 * np.arange(n) / CHUNK_SAMPLE_RATE)).astype(np.float32)

    def render(self, request, out_dir, *, on_progress, on_chunk, cancel):
        audio = self.audio()
        for i in range(self.count):
            piece = audio[i * self.samples : (i + 1) * self.samples]
            on_chunk(SimpleNamespace(index=i, start_sample=i * self.samples, audio=piece[None, :]))
            on_progress((i + 1) / (self.count + 1))
            time.sleep(0.01)
        path = write_wav_unique(Path(out_dir), "streamed", audio[None, :], CHUNK_SAMPLE_RATE, "PCM_16")
        on_progress(1.0)
        return Rendered((path,), {})


def test_streamed_chunks_reach_the_preview_player_in_order(qtbot, tmp_path):
    renderer = StreamingRenderer()
    out = tmp_path / "out"
    out.mkdir()
    server = Server(renderer, out, Journal.open(out), ServerOptions(port=0), model_name="streaming-test")
    server.serve_in_thread()
    try:
        window, device = open_panel(qtbot, tmp_path, *server.address)
        qtbot.waitUntil(window.is_connected, timeout=10_000)
        fill_form(window, qtbot, "streamed")
        before = set(window.jobs)
        qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
        rid = new_job(window, before)
        qtbot.waitUntil(lambda: window.jobs[rid].state == "done", timeout=30_000)
        assert window.jobs[rid].chunks == renderer.count
        assert window.player.played_chunks() == list(range(renderer.count))
        assert device.opens[0] == (CHUNK_SAMPLE_RATE, 2)
        window.player.set_volume(1.0)
        device.played.clear()
        heard = np.concatenate(
            [device.pull(1000) for _ in range(renderer.count * renderer.samples // 1000 + 1)]
        )
        n = renderer.count * renderer.samples
        np.testing.assert_allclose(heard[:n, 0], renderer.audio(), atol=2e-4)  # 16-bit chunk files
        window.player.poll()
        qtbot.waitUntil(lambda: window.player.state == "idle", timeout=5_000)
    finally:
        server.close(timeout=5)
