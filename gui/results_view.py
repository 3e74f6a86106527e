"""The RESULTS list: one `gui.result_row.ResultRow` per finished loop (waveform, prompt, bpm and bars, the
grid fit; play / show in folder; drag onto a DAW; nudge its bar line), newest first.

Rows are never deleted from disk by the panel. A row whose file has gone is shown as missing and cannot
be dragged.

The list is one Tab stop: the arrow keys move the selection (`browsed` says the user moved it, for
auto-play), Enter plays, and the Menu key or Shift+F10 opens the selected row's menu. Rows are as wide as
the list (they shrink with it) and their text is elided, the full text in its tooltip; the seed leads the
file's line, so it stays readable.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QContextMenuEvent, QKeyEvent, QResizeEvent
from PyQt6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

from gui.result_row import NUDGE_MENU, ROW_HEIGHT, ResultRow, WaveWidget, nudge_choices
from gui.results import ResultEntry

__all__ = ["NUDGE_MENU", "ROW_HEIGHT", "ResultRow", "ResultsView", "WaveWidget", "nudge_choices"]


class ResultsView(QListWidget):
    """Newest first. Rows are keyed by file path (the same file is never listed twice)."""

    play_requested = pyqtSignal(str)
    stop_requested = pyqtSignal()
    reveal_requested = pyqtSignal(str)
    continue_requested = pyqtSignal(str)
    clip_requested = pyqtSignal(str)
    nudge_requested = pyqtSignal(str, float)
    recall_requested = pyqtSignal(str)
    mark_requested = pyqtSignal(str, str)
    selection_changed = pyqtSignal(str)
    browsed = pyqtSignal(str)  # the user moved the selection (arrow keys, a click): for auto-play

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setSpacing(0)
        self.rows: dict[str, ResultRow] = {}
        self._items: dict[str, QListWidgetItem] = {}
        self._user_move = False  # the selection changes because of a key or a click
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
            "recall_requested",
            "mark_requested",
        ):
            getattr(row, name).connect(getattr(self, name))
        row.pressed.connect(self._pressed)
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, entry.path)
        item.setSizeHint(QSize(self._row_width(), ROW_HEIGHT + 6))
        if top:
            self.insertItem(0, item)
        else:
            self.addItem(item)
        self.setItemWidget(item, row)
        self.rows[entry.path] = row
        self._items[entry.path] = item
        return row, True

    def _row_width(self) -> int:
        return max(self.viewport().width(), 1)

    def updateGeometries(self) -> None:  # noqa: N802 (Qt naming)
        super().updateGeometries()  # the list resized, or its scroll bar came or went
        self._fit_rows()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def _fit_rows(self) -> None:
        if "_items" not in self.__dict__:  # Qt lays the list out once while it is being built
            return
        width = self._row_width()  # rows follow the viewport's width both ways: they shrink with it too
        changed = False
        for item in self._items.values():
            if item.sizeHint().width() != width:
                item.setSizeHint(QSize(width, ROW_HEIGHT + 6))
                changed = True
        if changed or any(row.width() != width for row in self.rows.values()):
            QTimer.singleShot(0, self.updateEditorGeometries)  # the row widgets follow their items

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        """Never narrower than a row needs (its buttons are never cut off)."""
        row = next(iter(self.rows.values()), None)
        width = row.minimumSizeHint().width() if row is not None else 0
        base = super().minimumSizeHint()
        return QSize(max(base.width(), width + self.verticalScrollBar().sizeHint().width() + 4), base.height())

    def _pressed(self, path: str) -> None:
        self._user_move = True
        try:
            self.select_path(path)
        finally:
            self._user_move = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected_path():
            self.play_requested.emit(self.selected_path())
            return
        if key == Qt.Key.Key_Menu or (key == Qt.Key.Key_F10 and mods & Qt.KeyboardModifier.ShiftModifier):
            self.open_selected_menu()
            return
        self._user_move = True
        try:
            super().keyPressEvent(event)
        finally:
            self._user_move = False

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            self.open_selected_menu()
        else:
            super().contextMenuEvent(event)

    def open_selected_menu(self) -> QMenu | None:
        """The selected row's menu, opened under the row (the Menu key, Shift+F10); None without one."""
        if self.currentItem() is None and self.count():
            self.setCurrentRow(0)
        row = self.rows.get(self.selected_path())
        if row is None:
            return None
        self.scrollToItem(self.currentItem())
        return row.open_menu()

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
        if self._user_move and current is not None:
            self.browsed.emit(self.selected_path())

    def set_playing(self, path: str, playhead: float | None = None) -> None:
        for p, row in self.rows.items():
            row.set_playing(p == path, playhead if p == path else None)
