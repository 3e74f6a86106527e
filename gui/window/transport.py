"""Preview playback: the PREVIEW bar, the output device, playing a result and streaming a job's chunks.

    PREVIEW ▶ ■ Loop  0:01.5  streaming…   [x] Preview while generating  Vol ─── Out [device]

The player is polled on a timer (transport state, playhead); a job's chunks start a stream when
"Preview while generating" is on, and its `done` ends it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PyQt6.QtCore import QObject, QSettings, QTimer
from PyQt6.QtWidgets import QWidget

from gui.osc_client import OscClient
from gui.output import PreviewUnavailable, list_output_devices, open_output_device
from gui.player import PreviewPlayer
from gui.preview_bar import PreviewBar
from gui.results_view import ResultsView
from gui.window.banner import Banner

PLAYER_POLL_MS = 50  # transport and playhead refresh


class TransportController(QObject):
    """Owns the player and the preview bar; `prompt_of(rid)` names one of the panel's jobs (None for
    another client's job, which is not previewed)."""

    def __init__(
        self,
        window: QWidget,
        settings: QSettings,
        client: OscClient,
        results: ResultsView,
        banner: Banner,
        prompt_of: Callable[[str], str | None],
        player: PreviewPlayer | None = None,
    ):
        super().__init__(window)
        self.results, self.banner, self.prompt_of = results, banner, prompt_of
        self.player = player if player is not None else PreviewPlayer()
        self._probe_audio = player is None  # a given player (tests) keeps its device
        self.settings = settings
        self.preview = PreviewBar()
        p = self.preview
        p.play_clicked.connect(self.play_selected)
        p.stop_clicked.connect(self.stop_playback)
        p.loop_toggled.connect(self.player.set_loop)
        p.volume_changed.connect(self.player.set_volume)
        p.device_chosen.connect(self._choose_device)
        results.play_requested.connect(self.play_file)
        results.stop_requested.connect(self.stop_playback)
        client.chunk.connect(self._on_chunk)
        client.done.connect(self._on_done)
        self.player.on_finished = self._playback_finished
        self._timer = QTimer(self)
        self._timer.setInterval(PLAYER_POLL_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Start polling and, for the real player, look for output devices once the window is up."""
        self._timer.start()
        if self._probe_audio:
            QTimer.singleShot(0, self._init_audio)  # after the window is shown: PortAudio takes a moment
        else:
            self._show_availability()

    # ------------------------------------------------------------------ settings

    def restore(self, s: QSettings) -> None:
        volume = float(s.value("preview/volume", 0.8))
        self.preview.volume.setValue(int(round(volume * 100)))
        self.player.set_volume(volume)
        self.preview.stream.setChecked(s.value("preview/stream", True) in (True, "true"))
        loop = s.value("preview/loop", True) in (True, "true")
        self.preview.loop.setChecked(loop)
        self.player.set_loop(loop)

    def save(self, s: QSettings) -> None:
        s.setValue("preview/volume", self.player.volume)
        s.setValue("preview/stream", self.preview.stream.isChecked())
        s.setValue("preview/loop", self.preview.loop.isChecked())
        s.setValue("preview/device", self.preview.device.currentData() or "")

    # ------------------------------------------------------------------ output device

    def _init_audio(self) -> None:
        name = str(self.settings.value("preview/device", "") or "")
        try:
            devices = [d.name for d in list_output_devices()]
        except PreviewUnavailable as e:
            self.player.set_device(open_output_device())
            self.preview.set_unavailable(str(e).rstrip("."))
            return
        self.preview.set_devices(devices, name if name in devices else "")
        self.player.set_device(open_output_device(name if name in devices else None))
        self._show_availability()

    def _show_availability(self) -> None:
        if not self.player.available:
            self.preview.set_unavailable(self.player.unavailable_reason or "no audio output device")
        else:
            self.preview.set_available()
            self.preview.show_state(f"Output: {self.player.device.name}")

    def _choose_device(self, name: str) -> None:
        self.player.set_device(open_output_device(name or None))
        self.settings.setValue("preview/device", name)
        self._show_availability()
        self.results.set_playing("")

    # ------------------------------------------------------------------ playing

    def _preview_failed(self, reason: str) -> None:
        self.player.stop()
        self.banner.show_message(f"Preview stopped: {reason}")

    def play_file(self, path: str, loop: bool | None = None, start: float = 0.0) -> None:
        """Play a result from `start` seconds; `loop` None: as the PREVIEW bar's Loop says."""
        if not self.player.available:
            self.banner.show_message(f"Preview unavailable: {self.player.unavailable_reason}.", "info")
            return
        loop = self.preview.loop.isChecked() if loop is None else loop
        try:
            self.player.play_file(path, loop=loop, start=start)
        except PreviewUnavailable as e:
            self._preview_failed(str(e))
        except Exception as e:  # soundfile raises RuntimeError/LibsndfileError for unreadable files
            self.banner.show_message(f"Cannot play {os.path.basename(path)}: {e}")

    def play_selected(self) -> None:
        path = self.results.selected_path()
        if path:
            self.play_file(path)

    def stop_playback(self) -> None:
        self.player.stop()
        self.results.set_playing("")

    def toggle_playback(self) -> None:
        if self.player.state != "idle":
            self.stop_playback()
        else:
            self.play_selected()

    def stop_if_playing(self) -> None:
        if self.player.state != "idle":
            self.stop_playback()

    # ------------------------------------------------------------------ streaming

    def _on_chunk(self, rid: str, index: int, path: str, start: float) -> None:
        if self.prompt_of(rid) is None:  # another client's job: nothing to preview here
            return
        if not (self.preview.stream.isChecked() and self.player.available):
            return
        if self.player.stream_key != rid:
            self.player.start_stream(rid)
            self.results.set_playing("")
        try:
            self.player.add_chunk_file(rid, index, path, start)
        except PreviewUnavailable as e:
            self._preview_failed(str(e))

    def _on_done(self, rid: str, _paths: list) -> None:
        if self.player.stream_key == rid:
            self.player.end_stream(rid)

    def stop_stream(self, rid: str) -> None:
        """A job failed or was cancelled: its stream stops."""
        if self.player.stream_key == rid:
            self.player.stop()

    # ------------------------------------------------------------------ polling

    def _tick(self) -> None:
        self.player.poll()
        state = self.player.state
        if not self.player.available:
            return
        if state == "playing":
            path = self.player.current_path
            pos, dur = self.player.position_seconds(), self.player.duration_seconds()
            if dur and self.player.looping:
                pos = pos % dur
            self.results.set_playing(path, pos / dur if dur else None)
            self.preview.show_state(f"Playing {os.path.basename(path)}", pos, dur)
        elif state == "streaming":
            prompt = self.prompt_of(self.player.stream_key) or ""
            self.preview.show_state(f"Streaming preview · {prompt}", self.player.position_seconds())
        else:
            self.preview.show_state(f"Output: {self.player.device.name}")

    def _playback_finished(self, _what: str) -> None:
        self.results.set_playing("")

    def close(self) -> None:
        self.player.stop()
        self.player.device.close()
