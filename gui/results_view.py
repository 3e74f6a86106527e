"""Finished loops: waveform, prompt, bpm and bars, the grid fit; play / loop / show in folder; drag a row
onto a DAW; nudge its bar line (the same loop made again with the bar line moved).

Rows are never deleted from disk by the panel. A row whose file has gone is shown as missing and cannot
be dragged.
"""

from __future__ import annotations

import datetime

from PyQt6.QtCore import QPoint, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QColor, QGuiApplication, QMouseEvent, QPainter, QPaintEvent
from PyQt6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.drag import start_file_drag
from gui.results import ResultEntry, half_bar_beats, nudge_blocked
from gui.waveform import Thumbnail, paint_waveform
from gui.widgets import ElidedLabel

ROW_HEIGHT = 88  # px: prompt, details, grid fit, file name
WAVE_SIZE = QSize(150, 52)
GRID_ROLES = {"on_grid": "ok", "too_far": "warn"}  # the fit's colour; other statuses are muted
NUDGE_MENU = "Nudge bar line…"


def nudge_choices(entry: ResultEntry) -> tuple[tuple[str, float], ...]:
    """(menu text, beats) of the nudges offered for a row: one beat either way and half a bar."""
    half = half_bar_beats(entry.time_signature or str((entry.request or {}).get("time_signature", "")))
    return (
        ("1 beat earlier (−1)", -1.0),
        ("1 beat later (+1)", 1.0),
        (f"Half a bar ({half:+g} beats)", half),
    )


class WaveWidget(QWidget):
    """A thumbnail with a playhead; says 'missing' for a file that has gone."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(WAVE_SIZE)
        self.thumb: Thumbnail | None = None
        self.playhead: float | None = None  # 0..1
        self.message = "reading…"

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.WINDOW))
        if self.thumb is not None:
            paint_waveform(
                painter,
                4,
                4,
                self.width() - 8,
                self.height() - 8,
                self.thumb.mins,
                self.thumb.maxs,
                QColor(theme.WAVE),
            )
        else:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
        if self.playhead is not None:
            x = 4 + int((self.width() - 8) * min(max(self.playhead, 0.0), 1.0))
            painter.setPen(QColor(theme.TEXT))
            painter.drawLine(x, 2, x, self.height() - 2)
        painter.end()


def _created_text(created: str) -> str:
    try:
        when = datetime.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return ""
    today = datetime.date.today()
    return when.strftime("%H:%M" if when.date() == today else "%d %b %H:%M")


class ResultRow(QFrame):
    play_requested = pyqtSignal(str, bool)  # path, loop
    stop_requested = pyqtSignal()
    reveal_requested = pyqtSignal(str)
    continue_requested = pyqtSignal(str)
    clip_requested = pyqtSignal(str)
    nudge_requested = pyqtSignal(str, float)  # path, beats the bar line moves
    pressed = pyqtSignal(str)

    def __init__(self, entry: ResultEntry, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("resultRow")
        self.entry = entry
        self.playing = False
        self._press: QPoint | None = None
        self.wave = WaveWidget()
        self.title = ElidedLabel()
        self.detail = theme.set_role(ElidedLabel(), "muted")
        self.fit = theme.set_role(ElidedLabel(), "muted")
        self.file = theme.set_role(ElidedLabel(), "muted")
        self.play = QToolButton()
        self.play.setIcon(theme.icon("play"))
        self.play.setToolTip("Play / stop")
        self.loop = QToolButton()
        self.loop.setText("Loop")
        self.loop.setCheckable(True)
        self.loop.setChecked(True)
        self.loop.setToolTip("Loop playback (the file loops without a click)")
        self.folder = QToolButton()
        self.folder.setIcon(theme.icon("folder", theme.MUTED))
        self.folder.setToolTip("Show in folder")
        self.play.clicked.connect(self._toggle_play)
        self.folder.clicked.connect(lambda: self.reveal_requested.emit(self.entry.path))
        self.setToolTip("Drag onto your DAW's timeline to use this loop · double-click to play")
        self.setCursor(Qt.CursorShape.OpenHandCursor)

        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        text.addWidget(self.fit)
        text.addWidget(self.file)
        self.play.setFixedSize(34, 34)
        self.play.setStyleSheet("padding: 0; border-radius: 17px;")
        self.play.setIconSize(QSize(18, 18))
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.loop, self.folder):
            buttons.addWidget(b)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(10)
        row.addWidget(self.play)
        row.addWidget(self.wave)
        row.addLayout(text, 1)
        row.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        e = self.entry
        self.title.setText(e.prompt or e.name)
        when = _created_text(e.created)
        self.detail.setText(" · ".join(p for p in (e.describe(), when) if p))
        exists = e.exists
        self.file.setText(e.name if exists else f"{e.name} (file missing)")
        self.fit.setText(e.grid_text)
        self.fit.setVisible(bool(e.grid_text))
        role = GRID_ROLES.get(e.grid_status, "muted")
        if self.fit.property("role") != role:
            theme.repolish(theme.set_role(self.fit, role))
        self.play.setEnabled(exists)
        self.folder.setEnabled(exists)
        if not exists:
            self.wave.thumb, self.wave.message = None, "missing"
            self.wave.update()

    def set_thumbnail(self, thumb: Thumbnail) -> None:
        self.wave.thumb = thumb
        self.entry.update_from_metadata(thumb.metadata)
        self.entry.duration = thumb.duration
        self.wave.update()
        self.refresh()

    def set_unreadable(self, reason: str) -> None:
        self.wave.thumb, self.wave.message = None, "unreadable" if self.entry.exists else "missing"
        self.wave.setToolTip(reason)
        self.wave.update()
        self.refresh()

    def set_playing(self, playing: bool, playhead: float | None = None) -> None:
        if playing != self.playing:
            self.playing = playing
            self.play.setIcon(theme.icon("stop", theme.ACCENT) if playing else theme.icon("play"))
        self.wave.playhead = playhead if playing else None
        self.wave.update()

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", "true" if selected else "false")
        theme.repolish(self)

    def _toggle_play(self) -> None:
        if self.playing:
            self.stop_requested.emit()
        else:
            self.play_requested.emit(self.entry.path, self.loop.isChecked())

    # ------------------------------------------------------------------ dragging out

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self.pressed.emit(self.entry.path)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if (
            self._press is not None
            and event.buttons() & Qt.MouseButton.LeftButton
            and (event.position().toPoint() - self._press).manhattanLength()
            >= QApplication.startDragDistance()
            and self.entry.exists
        ):
            self._press = None
            start_file_drag(self, [self.entry.path], self.wave.grab())
            return
        super().mouseMoveEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.entry.exists:
            self.play_requested.emit(self.entry.path, self.loop.isChecked())
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: ANN001
        self.build_menu().exec(event.globalPos())

    def build_menu(self) -> QMenu:
        """The row's context menu (built fresh each time: what is enabled follows the entry)."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        items = (
            ("Play", lambda: self.play_requested.emit(self.entry.path, self.loop.isChecked())),
            ("Show in folder", lambda: self.reveal_requested.emit(self.entry.path)),
            ("Copy path", lambda: QGuiApplication.clipboard().setText(self.entry.path)),
            ("Continue from this loop", lambda: self.continue_requested.emit(self.entry.path)),
            ("Use as clip", lambda: self.clip_requested.emit(self.entry.path)),
        )
        for text, slot in items:
            action = QAction(text, menu)
            action.triggered.connect(slot)
            action.setEnabled(self.entry.exists)
            menu.addAction(action)
        menu.addSeparator()
        menu.addMenu(self._nudge_menu(menu))
        return menu

    def _nudge_menu(self, parent: QMenu) -> QMenu:
        nudge = QMenu(NUDGE_MENU, parent)
        nudge.setToolTipsVisible(True)
        blocked = nudge_blocked(self.entry)
        tip = blocked or (
            "Make this loop again with its bar line moved: same seed and settings, so the same music, "
            "only the downbeat sits elsewhere"
        )
        nudge.menuAction().setToolTip(tip)
        nudge.menuAction().setStatusTip(tip)
        nudge.setEnabled(not blocked)
        for text, beats in nudge_choices(self.entry):
            action = QAction(text, nudge)
            action.triggered.connect(lambda _=False, b=beats: self.nudge_requested.emit(self.entry.path, b))
            nudge.addAction(action)
        return nudge


class ResultsView(QListWidget):
    """Newest first. Rows are keyed by file path (the same file is never listed twice)."""

    play_requested = pyqtSignal(str, bool)
    stop_requested = pyqtSignal()
    reveal_requested = pyqtSignal(str)
    continue_requested = pyqtSignal(str)
    clip_requested = pyqtSignal(str)
    nudge_requested = pyqtSignal(str, float)
    selection_changed = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSpacing(0)
        self.rows: dict[str, ResultRow] = {}
        self._items: dict[str, QListWidgetItem] = {}
        self.currentItemChanged.connect(self._current_changed)

    def add_entry(self, entry: ResultEntry, top: bool = True) -> tuple[ResultRow, bool]:
        """The row for entry.path, created if new (second value: whether it was new)."""
        if entry.path in self.rows:
            row = self.rows[entry.path]
            if entry.prompt and not row.entry.prompt:
                row.entry.prompt = entry.prompt
            if entry.created and not row.entry.created:
                row.entry.created = entry.created
            if entry.request is not None and row.entry.request is None:
                row.entry.request = entry.request
            if entry.grid_text and not row.entry.grid_text:
                row.entry.grid_status, row.entry.grid_text = entry.grid_status, entry.grid_text
            row.refresh()
            return row, False
        row = ResultRow(entry)
        for name in (
            "play_requested",
            "stop_requested",
            "reveal_requested",
            "continue_requested",
            "clip_requested",
            "nudge_requested",
        ):
            getattr(row, name).connect(getattr(self, name))
        row.pressed.connect(self.select_path)
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, entry.path)
        item.setSizeHint(QSize(100, ROW_HEIGHT + 6))
        if top:
            self.insertItem(0, item)
        else:
            self.addItem(item)
        self.setItemWidget(item, row)
        self.rows[entry.path] = row
        self._items[entry.path] = item
        return row, True

    def paths(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def select_path(self, path: str) -> None:
        item = self._items.get(path)
        if item is not None:
            self.setCurrentItem(item)

    def selected_path(self) -> str:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def _current_changed(self, current: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        for item, on in ((previous, False), (current, True)):
            if item is not None:
                row = self.rows.get(item.data(Qt.ItemDataRole.UserRole))
                if row is not None:
                    row.set_selected(on)
        self.selection_changed.emit(self.selected_path())

    def set_playing(self, path: str, playhead: float | None = None) -> None:
        for p, row in self.rows.items():
            row.set_playing(p == path, playhead if p == path else None)
