"""The clip drop zone: drop an audio file (from a DAW, Finder, Explorer) or browse for one.

Shows the clip's name, length and a waveform once it has been read; emits `clip_changed(path)` ('' when
cleared). Accepts only local files with an audio extension the daemon can read.
"""

from __future__ import annotations

import os

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPainter, QPaintEvent
from PyQt6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui import theme
from gui.waveform import Thumbnail, paint_waveform

AUDIO_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".flac", ".ogg", ".mp3")
FILE_FILTER = "Audio files (" + " ".join(f"*{e}" for e in AUDIO_EXTENSIONS) + ");;All files (*)"


def audio_path_from_urls(urls) -> str:  # noqa: ANN001 (list[QUrl])
    """The first local audio file among dropped URLs, or ''."""
    for url in urls:
        if url.isLocalFile():
            path = url.toLocalFile()
            if path.lower().endswith(AUDIO_EXTENSIONS) and os.path.isfile(path):
                return path
    return ""


class _Wave(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumb: Thumbnail | None = None
        self.setMinimumHeight(34)

    def paintEvent(self, _event: QPaintEvent) -> None:
        if self.thumb is None:
            return
        painter = QPainter(self)
        paint_waveform(
            painter, 0, 0, self.width(), self.height(), self.thumb.mins, self.thumb.maxs, QColor(theme.MUTED)
        )
        painter.end()


class ClipDropZone(QFrame):
    clip_changed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropzone")
        self.setAcceptDrops(True)
        self.path = ""
        self.start_dir = ""
        self.hint = QLabel("Drop a clip here to steer or continue it")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.set_role(self.hint, "muted")
        self.name = QLabel()
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info = theme.set_role(QLabel(), "muted")
        self.wave = _Wave()
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip("Choose an audio clip (wav, aiff, flac, ogg, mp3)")
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Generate from the prompt alone")
        self.browse.clicked.connect(self._browse)
        self.clear.clicked.connect(lambda: self.set_clip(""))

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.hint)
        text.addWidget(self.name)
        text.addWidget(self.info)
        text.addWidget(self.wave)
        buttons = QVBoxLayout()
        buttons.addWidget(self.browse)
        buttons.addWidget(self.clear)
        buttons.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 8, 10, 8)
        row.addLayout(text, 1)
        row.addLayout(buttons)
        self._refresh()

    def set_clip(self, path: str) -> None:
        path = os.path.abspath(path) if path else ""
        if path == self.path:
            return
        self.path = path
        self.wave.thumb = None
        if path:
            self.start_dir = os.path.dirname(path)
        self._refresh()
        self.clip_changed.emit(path)

    def set_thumbnail(self, thumb: Thumbnail) -> None:
        if thumb.path != self.path:
            return
        self.wave.thumb = thumb
        self.info.setText(f"{thumb.duration:.2f} s · {thumb.samplerate} Hz · {thumb.channels} ch")
        self.wave.update()

    def set_unreadable(self, path: str, reason: str) -> None:
        if path == self.path:
            self.info.setText(f"Cannot read this file: {reason}")

    def _refresh(self) -> None:
        has = bool(self.path)
        self.hint.setVisible(not has)
        self.name.setVisible(has)
        self.info.setVisible(has)
        self.wave.setVisible(has)
        self.clear.setEnabled(has)
        if has:
            self.name.setText(os.path.basename(self.path))
            self.name.setToolTip(self.path)
            self.info.setText("reading…")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a clip", self.start_dir, FILE_FILTER)
        if path:
            self.set_clip(path)

    # ------------------------------------------------------------------ drag and drop

    def _set_hover(self, on: bool) -> None:
        self.setProperty("hover", "true" if on else "false")
        theme.repolish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and audio_path_from_urls(event.mimeData().urls()):
            event.acceptProposedAction()
            self._set_hover(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, _event) -> None:  # noqa: ANN001
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hover(False)
        path = audio_path_from_urls(event.mimeData().urls())
        if path:
            event.acceptProposedAction()
            self.set_clip(path)
