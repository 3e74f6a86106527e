"""Browsing results like a sample browser: auto-play while arrowing through them, and the selected
result's large waveform, where a click plays the loop from that point.

    RESULTS  drag a loop onto your DAW's timeline                        [x] Auto-play
    [~~~~~~~~~~~~~~ the selected loop's waveform, click to play from there ~~~~~~~~~~~~~~]

Auto-play follows the user's own moves only (arrow keys, a click on a row), never a new result being
selected when a job finishes. It is remembered with the other settings.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, QSettings, QTimer
from PyQt6.QtWidgets import QCheckBox, QWidget

from gui.seek_wave import SeekWave
from gui.waveform import Thumbnail
from gui.window.results import ResultsController
from gui.window.transport import TransportController

PLAYHEAD_MS = 50  # the large waveform's playhead refresh
SETTINGS_KEY = "results/autoplay"


class BrowseController(QObject):
    def __init__(self, window: QWidget, results: ResultsController, transport: TransportController):
        super().__init__(window)
        self.results, self.transport = results, transport
        self.view = results.view
        self.wave = SeekWave()
        self.autoplay = QCheckBox("Auto-play")
        self.autoplay.setToolTip("Play each result as you select it (arrow keys or a click)")
        self.view.selection_changed.connect(self._selected)
        self.view.browsed.connect(self._browsed)
        results.loader.loaded.connect(self._thumbnail)
        self.wave.seek_requested.connect(self.seek)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAYHEAD_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def restore(self, s: QSettings) -> None:
        self.autoplay.setChecked(s.value(SETTINGS_KEY, False) in (True, "true"))

    def save(self, s: QSettings) -> None:
        s.setValue(SETTINGS_KEY, self.autoplay.isChecked())

    def _selected(self, path: str) -> None:
        row = self.view.rows.get(path)
        self.wave.set_thumbnail(row.wave.thumb if row is not None else None)

    def _thumbnail(self, path: str, thumb: Thumbnail) -> None:
        if path == self.view.selected_path():
            self.wave.set_thumbnail(thumb)

    def _browsed(self, path: str) -> None:
        row = self.view.rows.get(path)
        if self.autoplay.isChecked() and row is not None and row.entry.exists:
            self.transport.play_file(path)

    def seek(self, fraction: float) -> None:
        """Play the selected loop from `fraction` of its length (or move the playhead if it plays)."""
        path = self.view.selected_path()
        row = self.view.rows.get(path)
        if row is None or row.wave.thumb is None or not row.entry.exists:
            return
        seconds = fraction * row.wave.thumb.duration
        player = self.transport.player
        if not (player.current_path == path and player.seek(seconds)):
            self.transport.play_file(path, start=seconds)

    def _tick(self) -> None:
        player = self.transport.player
        path = self.view.selected_path()
        if player.state == "playing" and player.current_path == path and player.duration_seconds():
            duration = player.duration_seconds()
            self.wave.set_playhead((player.position_seconds() % duration) / duration)
        else:
            self.wave.set_playhead(None)
