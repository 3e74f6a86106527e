"""The finished loops: the RESULTS list, their waveform thumbnails, and the daemon's output folder."""

from __future__ import annotations

from PyQt6.QtCore import QObject
from PyQt6.QtWidgets import QToolButton, QWidget

from gui.drag import reveal_in_file_manager
from gui.results import ResultEntry
from gui.results_view import ResultsView
from gui.waveform import Thumbnail, ThumbnailLoader


class ResultsController(QObject):
    """Owns the results view, the thumbnail loader (the clip zone's thumbnails come from it too) and
    Open folder."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.view = ResultsView()
        self.loader = ThumbnailLoader(parent=window)
        self.out_dir = ""
        self.open_folder_button = QToolButton()
        self.open_folder_button.setText("Open folder")
        self.open_folder_button.setToolTip("Open the daemon's output folder")
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(lambda: self.out_dir and reveal_in_file_manager(self.out_dir))
        self.view.reveal_requested.connect(reveal_in_file_manager)
        self.loader.loaded.connect(self._on_thumbnail)
        self.loader.failed.connect(self._on_thumbnail_failed)

    def set_out_dir(self, out: str) -> None:
        """Where the daemon writes (from its status); '' leaves the last one."""
        if out:
            self.out_dir = out
            self.open_folder_button.setEnabled(True)
            self.open_folder_button.setToolTip(f"Open {out}")

    def add(self, entry: ResultEntry, top: bool) -> None:
        row, new = self.view.add_entry(entry, top=top)
        if new and entry.exists:
            self.loader.request(entry.path)
        elif new:
            row.set_unreadable("the file is missing")

    def add_newest(self, entries: list[ResultEntry], select: bool = False) -> None:
        """A job's files, first take on top; `select` makes the first one the selected result."""
        for entry in reversed(entries):
            self.add(entry, top=True)
        if select and entries:
            self.view.select_path(entries[0].path)
            self.view.scrollToTop()

    def _on_thumbnail(self, path: str, thumb: Thumbnail) -> None:
        row = self.view.rows.get(path)
        if row is not None:
            row.set_thumbnail(thumb)

    def _on_thumbnail_failed(self, path: str, reason: str) -> None:
        row = self.view.rows.get(path)
        if row is not None:
            row.set_unreadable(reason)
