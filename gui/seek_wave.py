"""The selected result's waveform, large, above the RESULTS list: click (or drag) anywhere on it to play
the loop from there, like a sample browser's preview strip.

    wave.set_thumbnail(thumb)        # the selected row's thumbnail (None: a hint instead)
    wave.set_playhead(0.25)          # 0..1 while it plays, None when stopped
    wave.seek_requested.connect(...) # (fraction 0..1) on a click or a drag
"""

from __future__ import annotations

from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from gui import theme
from gui.waveform import Thumbnail, paint_thumbnail

SEEK_WAVE_HEIGHT = 64  # px
MARGIN = 6  # px inside the frame
HINT = "Select a result: its waveform shows here. Click it to play from that point."


def fraction_at(x: float, width: int) -> float:
    """The position (0..1) in the loop for a click at x in a widget `width` px wide."""
    inner = max(width - 2 * MARGIN, 1)
    return min(max((x - MARGIN) / inner, 0.0), 1.0)


class SeekWave(QWidget):
    seek_requested = pyqtSignal(float)  # 0..1 of the loop

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumb: Thumbnail | None = None
        self.playhead: float | None = None
        self.setFixedHeight(SEEK_WAVE_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(120)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the list has the keys; this is for the mouse
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to play the selected loop from there")

    def set_thumbnail(self, thumb: Thumbnail | None) -> None:
        self.thumb = thumb
        self.playhead = None
        self.update()

    def set_playhead(self, fraction: float | None) -> None:
        if fraction != self.playhead:
            self.playhead = fraction
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.thumb is not None:
            self.seek_requested.emit(fraction_at(event.position().x(), self.width()))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and self.thumb is not None:
            self.seek_requested.emit(fraction_at(event.position().x(), self.width()))
        super().mouseMoveEvent(event)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(theme.BORDER)))
        painter.setBrush(QColor(theme.BASE))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)
        inner = self.rect().adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        if self.thumb is None:
            painter.setPen(QColor(theme.MUTED))
            text = painter.fontMetrics().elidedText(HINT, Qt.TextElideMode.ElideRight, inner.width())
            painter.drawText(inner, Qt.AlignmentFlag.AlignCenter, text)
        else:
            paint_thumbnail(
                painter, inner.x(), inner.y(), inner.width(), inner.height(), self.thumb, QColor(theme.WAVE)
            )
            if self.playhead is not None:
                x = inner.x() + inner.width() * min(max(self.playhead, 0.0), 1.0)
                painter.setPen(QPen(QColor(theme.TEXT), 2))
                painter.drawLine(int(x), 2, int(x), self.height() - 2)
        painter.end()
