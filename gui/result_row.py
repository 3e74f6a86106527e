"""One finished loop in the RESULTS list: its waveform, prompt, details, grid fit and file; play, show in
folder, drag onto a DAW, and its menu (Copy path, Continue from this loop, Use as clip, Nudge bar line…).

Its buttons take no keyboard focus: the list is the Tab stop (`gui.results_view`), and the menu opens
from the keyboard there (`open_menu`).
"""

from __future__ import annotations

import datetime

from PyQt6.QtCore import QPoint, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PyQt6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui import theme
from gui.drag import start_file_drag
from gui.results import ResultEntry, half_bar_beats, nudge_blocked
from gui.waveform import Thumbnail, paint_thumbnail
from gui.widgets import ElidedLabel

ROW_HEIGHT = 88  # px: prompt, details, grid fit, file name
WAVE_SIZE = QSize(120, 52)  # at most; the selected result also has a large waveform above the list
MIN_WAVE_WIDTH = 64  # px: a narrow row gives its text the room (the large waveform shows the selected one)
WAVE_SHARE = 0.22  # of the row's width
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
        self.setMinimumWidth(MIN_WAVE_WIDTH)
        self.thumb: Thumbnail | None = None
        self.playhead: float | None = None  # 0..1
        self.message = "reading…"

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.WINDOW))
        if self.thumb is not None:
            paint_thumbnail(
                painter, 4, 4, self.width() - 8, self.height() - 8, self.thumb, QColor(theme.WAVE)
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
    play_requested = pyqtSignal(str)  # path (looped or not as the PREVIEW bar's Loop says)
    stop_requested = pyqtSignal()
    reveal_requested = pyqtSignal(str)
    continue_requested = pyqtSignal(str)
    clip_requested = pyqtSignal(str)
    nudge_requested = pyqtSignal(str, float)  # path, beats the bar line moves
    recall_requested = pyqtSignal(str)  # path: its prompt, bpm, bars and seed into the form
    mark_requested = pyqtSignal(str, str)  # path, "favourite" or "hidden" (toggled; files are never deleted)
    pressed = pyqtSignal(str)

    def __init__(self, entry: ResultEntry, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("resultRow")
        self.entry = entry
        self.playing = False
        self.favourite = False  # marks from gui.window.library, for the menu's words
        self.hidden = False
        self._press: QPoint | None = None
        self.wave = WaveWidget()
        self.title = ElidedLabel()
        self.detail = theme.set_role(ElidedLabel(), "muted")
        self.fit = theme.set_role(ElidedLabel(), "muted")
        self.seed = theme.set_role(QLabel(), "muted")  # never elided: the seed reproduces the loop
        self.seed.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.file = theme.set_role(ElidedLabel(mode=Qt.TextElideMode.ElideMiddle), "muted")
        self.play = QToolButton()
        self.play.setIcon(theme.icon("play"))
        self.play.setToolTip("Play / stop (Enter or Space plays the selected result)")
        self.folder = QToolButton()
        self.folder.setIcon(theme.icon("folder", theme.MUTED))
        self.folder.setToolTip("Show in folder")
        self.folder.setFixedSize(34, 28)
        self.folder.setStyleSheet("padding: 0;")
        for button in (self.play, self.folder):  # the list is the Tab stop; its keys play and open the menu
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play.clicked.connect(self._toggle_play)
        self.folder.clicked.connect(lambda: self.reveal_requested.emit(self.entry.path))
        self.setToolTip("Drag onto your DAW's timeline to use this loop · double-click to play")
        self.setCursor(Qt.CursorShape.OpenHandCursor)

        text = QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        text.addWidget(self.fit)
        file_line = QHBoxLayout()
        file_line.setSpacing(6)
        file_line.addWidget(self.seed)
        file_line.addWidget(self.file, 1)
        text.addLayout(file_line)
        self.play.setFixedSize(34, 34)
        self.play.setStyleSheet("padding: 0; border-radius: 17px;")
        self.play.setIconSize(QSize(18, 18))
        buttons = QVBoxLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.play, 0, Qt.AlignmentFlag.AlignHCenter)
        buttons.addWidget(self.folder, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(10)
        row.addLayout(buttons)
        row.addWidget(self.wave)
        row.addLayout(text, 1)
        self.refresh()

    def refresh(self) -> None:
        e = self.entry
        self.title.setText(e.prompt or e.name)
        when = _created_text(e.created)
        self.detail.setText(" · ".join(p for p in (e.describe(with_seed=False), when) if p))
        exists = e.exists
        name = e.name if exists else f"{e.name} (file missing)"
        self.seed.setText(f"seed {e.seed} ·" if e.seed is not None else "")
        self.seed.setVisible(e.seed is not None)
        self.file.setText(name)
        self.file.setToolTip(e.path)
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

    def resizeEvent(self, event: QResizeEvent) -> None:
        width = int(min(max(self.width() * WAVE_SHARE, MIN_WAVE_WIDTH), WAVE_SIZE.width()))
        if width != self.wave.width():
            self.wave.setFixedWidth(width)
        super().resizeEvent(event)

    def set_selected(self, selected: bool) -> None:
        self.setProperty("selected", "true" if selected else "false")
        theme.repolish(self)

    def _toggle_play(self) -> None:
        if self.playing:
            self.stop_requested.emit()
        else:
            self.play_requested.emit(self.entry.path)

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
            self.play_requested.emit(self.entry.path)
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.pressed.emit(self.entry.path)  # the menu is about this row: it becomes the selected one
        self.open_menu(event.globalPos())

    def open_menu(self, at: QPoint | None = None) -> QMenu:
        """Pop the row's menu up (at `at`, else under the row's text, for the keyboard); it returns at
        once (the menu runs in the event loop and deletes itself once closed)."""
        menu = self.build_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(at if at is not None else self.mapToGlobal(self.title.geometry().bottomLeft()))
        return menu

    def build_menu(self) -> QMenu:
        """The row's context menu (built fresh each time: what is enabled follows the entry)."""
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        items = (
            ("Play", lambda: self.play_requested.emit(self.entry.path)),
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
        path = self.entry.path
        marks = (
            ("Again like this", lambda: self.recall_requested.emit(path)),
            (
                "Remove from favourites" if self.favourite else "Add to favourites",
                lambda: self.mark_requested.emit(path, "favourite"),
            ),
            (
                "Unhide" if self.hidden else "Hide from the list",
                lambda: self.mark_requested.emit(path, "hidden"),
            ),
        )
        for text, slot in marks:
            action = QAction(text, menu)
            action.triggered.connect(slot)
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
