"""The window's message banner: an error stays until dismissed, a note goes after a few seconds."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from gui import theme

INFO_BANNER_MS = 6000  # a note ("info") hides itself after this long


class Banner(QFrame):
    """Readable text for the user: `show_message(text, kind)` with kind "error" or "info"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide_message)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide_message)

    def show_message(self, text: str, kind: str = "error") -> None:
        self.label.setText(text)
        self.setProperty("kind", kind)
        theme.repolish(self)
        self.show()
        if kind == "info":
            self._timer.start(INFO_BANNER_MS)
        else:
            self._timer.stop()

    def hide_message(self) -> None:
        self.hide()

    def message(self) -> str:
        """The text shown now ('' while hidden)."""
        return self.label.text() if self.isVisible() else ""
