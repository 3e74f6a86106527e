"""The clip drop zone: drop an audio file (from a DAW, Finder, Explorer) or browse for one.

Shows the clip's name, length and a waveform once it has been read; emits `clip_changed(path)` ('' when
cleared). Accepts only local files the daemon can read (`gui.audio_files`); a refused drop emits
`refused(why)`, and a clip that turns out unreadable says so in plain words (`unreadable` is then True:
Generate will not send it). The window takes drops anywhere on the panel through `drop_paths`.
"""

from __future__ import annotations

import os

from PyQt6.QtCore import QMimeData, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPainter, QPaintEvent
from PyQt6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui import theme
from gui.audio_files import FILE_FILTER, TYPES_TEXT, first_clip, plain_read_error
from gui.waveform import Thumbnail, paint_thumbnail
from gui.widgets import ElidedLabel


def local_paths(mime: QMimeData) -> list[str]:
    """The local files among dropped URLs."""
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


class _Wave(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumb: Thumbnail | None = None
        self.setMinimumHeight(34)

    def paintEvent(self, _event: QPaintEvent) -> None:
        if self.thumb is None:
            return
        painter = QPainter(self)
        paint_thumbnail(painter, 0, 0, self.width(), self.height(), self.thumb, QColor(theme.MUTED))
        painter.end()


class ClipDropZone(QFrame):
    clip_changed = pyqtSignal(str)
    refused = pyqtSignal(str)  # a dropped or chosen file that cannot be a clip: why, in plain words

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropzone")
        self.setAcceptDrops(True)
        self.path = ""
        self.unreadable = ""  # why the clip cannot be read ('' = readable, or not read yet)
        self.start_dir = ""
        self.hint = QLabel("Drop a clip here to steer or continue it")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.set_role(self.hint, "muted")
        self.name = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)
        self.info = theme.set_role(ElidedLabel(), "muted")
        self.wave = _Wave()
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip(f"Choose an audio clip ({TYPES_TEXT}) (Ctrl+O)")
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
        self.unreadable = ""
        self.wave.thumb = None
        theme.repolish(theme.set_role(self.info, "muted"))
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
            self.unreadable = plain_read_error(reason)
            self.info.setText(f"Cannot use this clip. {self.unreadable}")
            self.info.setToolTip(f"{self.unreadable}\n({reason})")
            theme.repolish(theme.set_role(self.info, "warn"))

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
            self.drop_paths([path])

    def drop_paths(self, paths: list[str]) -> bool:
        """Take the first usable clip among `paths` (a drop, a dialog); False (and `refused`) if none."""
        clip, why = first_clip(paths)
        if clip:
            self.set_clip(clip)
            return True
        self.refused.emit(why)
        return False

    # ------------------------------------------------------------------ drag and drop

    def _set_hover(self, on: bool) -> None:
        self.setProperty("hover", "true" if on else "false")
        theme.repolish(self)

    def set_hover(self, on: bool) -> None:
        self._set_hover(on)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        # any local file is taken in, so that a refused one can say why when it is dropped
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
            self._set_hover(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, _event) -> None:  # noqa: ANN001
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_hover(False)
        paths = local_paths(event.mimeData())
        if paths and self.drop_paths(paths):
            event.acceptProposedAction()
        else:
            event.ignore()
