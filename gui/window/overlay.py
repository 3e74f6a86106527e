"""Keep a widget floating over the top of another, outside its layout: the message banner appears and goes
without moving the cards under it (nothing shifts while the user aims at a button).

    pin_to_top(banner, body, margin=12)
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject
from PyQt6.QtWidgets import QWidget


class TopPin(QObject):
    def __init__(self, widget: QWidget, host: QWidget, margin: int):
        super().__init__(host)
        self.widget, self.host, self.margin = widget, host, margin
        widget.setParent(host)
        host.installEventFilter(self)
        widget.installEventFilter(self)
        self.place()

    def place(self) -> None:
        width = max(self.host.width() - 2 * self.margin, 1)
        hint = self.widget.sizeHint().height()
        height = self.widget.heightForWidth(width) if self.widget.hasHeightForWidth() else -1
        self.widget.setGeometry(self.margin, self.margin // 2, width, max(height, hint))
        self.widget.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.LayoutRequest):
            self.place()
        return False


def pin_to_top(widget: QWidget, host: QWidget, margin: int = 12) -> TopPin:
    return TopPin(widget, host, margin)
