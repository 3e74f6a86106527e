"""The window's message banner: an error stays until dismissed, a note goes after a few seconds.

    banner.show_message("The daemon stopped: killed by signal 9 (SIGKILL).", actions=[("Restart", restart)])
    banner.show_message("Cannot use 'x:abc': ...", topic="connection")
    banner.hide_topic("connection")          # e.g. a good connect clears what the bad one said

Actions are buttons beside the text (Retry, Restart): pressing one hides the banner and runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from gui import theme

INFO_BANNER_MS = 6000  # a note ("info") hides itself after this long


class Banner(QFrame):
    """Readable text for the user: `show_message(text, kind)` with kind "error" or "info", optional
    action buttons, and a topic that a later event may clear (`hide_topic`)."""

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
        self.topic = ""
        self.action_buttons: list[QPushButton] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.addWidget(self.label, 1)
        self._actions = QHBoxLayout()
        self._actions.setSpacing(6)
        layout.addLayout(self._actions)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide_message)

    def show_message(
        self,
        text: str,
        kind: str = "error",
        actions: Sequence[tuple[str, Callable[[], object]]] = (),
        topic: str = "",
    ) -> None:
        self.label.setText(text)
        self.topic = topic
        self._set_actions(actions)
        self.setProperty("kind", kind)
        theme.repolish(self)
        self.show()
        if kind == "info":
            self._timer.start(INFO_BANNER_MS)
        else:
            self._timer.stop()

    def _set_actions(self, actions: Sequence[tuple[str, Callable[[], object]]]) -> None:
        for button in self.action_buttons:
            self._actions.removeWidget(button)
            button.deleteLater()
        self.action_buttons = []
        for text, slot in actions:
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, run=slot: (self.hide_message(), run()))
            self._actions.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
            self.action_buttons.append(button)

    def action(self, text: str) -> QPushButton | None:
        """The action button labelled `text` while the banner shows it."""
        return next((b for b in self.action_buttons if b.text() == text and self.isVisible()), None)

    def hide_message(self) -> None:
        self.hide()

    def hide_topic(self, topic: str) -> None:
        """Hide the banner if it shows a message of this topic."""
        if self.isVisible() and self.topic == topic:
            self.hide_message()

    def message(self) -> str:
        """The text shown now ('' while hidden)."""
        return self.label.text() if self.isVisible() else ""
