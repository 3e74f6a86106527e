"""The finished loops: the RESULTS list, their waveform thumbnails, and the daemon's output folder.

    Saved in ~/Music/MusicGen Bridge                                    [Copy path] [Open folder]

The folder is shown in the window (from the daemon's status), not only in a tooltip. Open folder and a
row's Show in folder say so (`problem`) when no file manager could be started, and offer the path to
copy instead.
"""

from __future__ import annotations

import os

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QToolButton, QWidget

from gui import theme
from gui.drag import reveal_in_file_manager
from gui.results import ResultEntry
from gui.results_view import ResultsView
from gui.waveform import Thumbnail, ThumbnailLoader
from gui.widgets import ElidedLabel

NO_FOLDER_YET = "the daemon's folder"


class ResultsController(QObject):
    """Owns the results view, the thumbnail loader (the clip zone's thumbnails come from it too) and
    Open folder."""

    problem = pyqtSignal(str)  # something the user asked for did not work: why, in plain words

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.view = ResultsView()
        self.loader = ThumbnailLoader(parent=window)
        self.out_dir = ""
        self.folder_label = theme.set_role(ElidedLabel(mode=Qt.TextElideMode.ElideMiddle), "muted")
        self.folder_label.setText(f"Saved in {NO_FOLDER_YET}")
        self.copy_path_button = QToolButton()
        self.copy_path_button.setText("Copy path")
        self.copy_path_button.setToolTip("Copy the output folder's path (paste it into your DAW's browser)")
        self.copy_path_button.setEnabled(False)
        self.copy_path_button.clicked.connect(self.copy_out_dir)
        self.open_folder_button = QToolButton()
        self.open_folder_button.setText("Open folder")
        self.open_folder_button.setToolTip("Open the daemon's output folder")
        self.open_folder_button.setEnabled(False)
        self.open_folder_button.clicked.connect(lambda: self.out_dir and self.reveal(self.out_dir))
        self.view.reveal_requested.connect(self.reveal)
        self.loader.loaded.connect(self._on_thumbnail)
        self.loader.failed.connect(self._on_thumbnail_failed)

    def set_out_dir(self, out: str) -> None:
        """Where the daemon writes (from its status); '' leaves the last one."""
        if out:
            self.out_dir = out
            self.open_folder_button.setEnabled(True)
            self.copy_path_button.setEnabled(True)
            self.open_folder_button.setToolTip(f"Open {out}")
            home = os.path.expanduser("~")
            shown = "~" + out[len(home) :] if home and out.startswith(home + os.sep) else out
            self.folder_label.setText(f"Saved in {shown}")
            self.folder_label.setToolTip(out)

    def copy_out_dir(self) -> None:
        if self.out_dir:
            QGuiApplication.clipboard().setText(self.out_dir)

    def reveal(self, path: str) -> bool:
        """Show `path` in the file manager; when none can be started, say so and copy the path."""
        if reveal_in_file_manager(path):
            return True
        QGuiApplication.clipboard().setText(path)
        self.problem.emit(
            f"No file manager could be opened for {path}. Its path is copied: paste it into your DAW's "
            "browser or a file manager."
        )
        return False

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
