"""Audio files dropped anywhere on the panel become the clip; a refused drop says why.

    DropController(window, clip_zone)   # the window then accepts drops on all of its body

Any local file is let in while it is dragged over the window (the clip box lights up), so that a file the
daemon cannot read is refused *on the drop* with a reason in the banner ("song.m4a is AAC (M4A) audio,
which the daemon cannot read …"), instead of a silent no-entry cursor. Text fields do not swallow file
drops (their own drop is turned off), so a clip dropped on the prompt lands in the clip box too.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PyQt6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QWidget

from gui.clip_zone import ClipDropZone, local_paths

DROP_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.DragLeave, QEvent.Type.Drop)


class DropController(QObject):
    def __init__(self, window: QWidget, clip: ClipDropZone):
        super().__init__(window)
        self.window, self.clip = window, clip
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def release_text_fields(self) -> None:
        """After the window is built: its text fields leave file drops to the panel."""
        for widget in self.window.findChildren(QWidget):
            if isinstance(widget, QLineEdit | QAbstractSpinBox | QComboBox):
                widget.setAcceptDrops(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if watched is not self.window or event.type() not in DROP_EVENTS:
            return False
        if isinstance(event, QDragEnterEvent | QDragMoveEvent) and event.type() != QEvent.Type.Drop:
            if local_paths(event.mimeData()):
                event.acceptProposedAction()
                self.clip.set_hover(True)
            else:
                event.ignore()
            return True
        if event.type() == QEvent.Type.DragLeave:
            self.clip.set_hover(False)
            return True
        if isinstance(event, QDropEvent):
            self.clip.set_hover(False)
            paths = local_paths(event.mimeData())
            if paths and self.clip.drop_paths(paths):  # a refusal reaches the banner through `refused`
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        return False
