"""Handing result files to other programs: drag and drop onto a DAW timeline, and "show in folder".

    mime = mime_for_paths(["/out/dub-techno_124bpm_8bars_s7.wav"])   # file URLs + plain-text paths
    start_file_drag(widget, paths, pixmap)                           # QDrag, copy action

DAWs (Live, Bitwig, Reaper, Logic, FL, Cubase) accept a drop of `text/uri-list` file URLs, the same thing a
file manager sends. The panel only ever offers copies: nothing is moved or deleted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from PyQt6.QtCore import QMimeData, Qt, QUrl
from PyQt6.QtGui import QDesktopServices, QDrag, QPixmap
from PyQt6.QtWidgets import QWidget


def mime_for_paths(paths: Sequence[str | os.PathLike[str]]) -> QMimeData:
    """MIME data for dragging files out: absolute `file://` URLs (text/uri-list) and the paths as text."""
    absolute = [str(Path(p).expanduser().resolve()) for p in paths]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in absolute])
    mime.setText("\n".join(absolute))
    return mime


def start_file_drag(source: QWidget, paths: Sequence[str], pixmap: QPixmap | None = None) -> Qt.DropAction:
    """Run a drag of `paths` from `source` (blocks in Qt's own drag loop until the drop)."""
    drag = QDrag(source)
    drag.setMimeData(mime_for_paths(paths))
    if pixmap is not None and not pixmap.isNull():
        drag.setPixmap(pixmap)
        drag.setHotSpot(pixmap.rect().center())
    return drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)


def reveal_command(path: str, platform: str = sys.platform) -> list[str] | None:
    """The command that opens the file manager with `path` selected; None where there is no such
    command (then the folder is opened instead)."""
    if platform == "darwin":
        return ["open", "-R", path]
    if platform.startswith("win"):
        return ["explorer", f"/select,{os.path.normpath(path)}"]
    return None


def reveal_in_file_manager(path: str) -> bool:
    """Show the file in Finder / Explorer, or open its folder on Linux. Never blocks the GUI."""
    command = reveal_command(path)
    if command is not None:
        try:
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return True
        except OSError:
            pass
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(folder))
