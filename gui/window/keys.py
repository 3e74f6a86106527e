"""The window's keyboard: shortcuts, Space, and a Tab order that follows the screen.

    Ctrl+Enter generate · Ctrl+Shift+Enter variations · Ctrl+Alt+Enter continue · Esc cancel
    Space play/stop · Ctrl+O choose a clip · Ctrl+L lock the seed · Ctrl+Q / Ctrl+W quit

Space is a window shortcut, so it would take the key from a focused button: `press_space` clicks the
focused button (or opens the focused menu box) instead, and plays or stops only elsewhere. Text fields
keep their Space (Qt gives them the key before any shortcut).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QAbstractButton, QApplication, QComboBox, QWidget


def install_shortcuts(
    window: QWidget, bindings: Iterable[tuple[Sequence[str], Callable[[], object]]]
) -> list[QShortcut]:
    shortcuts = []
    for keys, slot in bindings:
        for key in keys:
            shortcut = QShortcut(QKeySequence(key), window)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            shortcuts.append(shortcut)
    return shortcuts


def press_space(toggle_playback: Callable[[], None]) -> None:
    """Space: what it does on the focused widget, else play / stop."""
    focused = QApplication.focusWidget()
    if isinstance(focused, QAbstractButton):
        if focused.isEnabled():
            focused.animateClick()
        return
    if isinstance(focused, QComboBox) and not focused.isEditable():
        focused.showPopup()
        return
    toggle_playback()


def chain_tab_order(widgets: Iterable[QWidget | None]) -> list[QWidget]:
    """Tab visits these in this order (None and widgets that take no Tab focus are skipped); widgets
    not named keep their place after the last one named before them."""
    chain = [w for w in widgets if w is not None and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    for first, second in zip(chain, chain[1:], strict=False):
        QWidget.setTabOrder(first, second)
    return chain
