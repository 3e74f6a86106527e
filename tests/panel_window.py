"""Helpers for panel tests without a daemon: a window at a given size, pointed at a port nothing answers on,
and checks that a widget is fully on screen (its visible region, not only that it exists).

    window = offline_window(qtbot, tmp_path, size=(980, 640))
    assert fully_visible(window.generate_button, window)
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import soundfile as sf
from PyQt6.QtCore import QPoint, QRect, QSettings
from PyQt6.QtGui import QRegion
from PyQt6.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QSlider, QWidget

from gui import theme
from gui.main_window import MainWindow
from gui.osc_client import OscClient
from gui.output import FakeOutputDevice
from gui.player import PreviewPlayer
from gui.results import ResultEntry

CONTROL_TYPES = (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider)
SIZES = ((980, 640), (1024, 700))  # the window's minimum and a small laptop's


def unused_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settle(app: QApplication | None = None, rounds: int = 5) -> None:
    app = app or QApplication.instance()
    for _ in range(rounds):
        app.processEvents()


def offline_window(qtbot, tmp_path: Path, size: tuple[int, int] = (980, 640), **kwargs) -> MainWindow:  # noqa: ANN001
    theme.apply_theme(QApplication.instance())
    settings = QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat)
    client = OscClient("panel")
    client.set_target("127.0.0.1", unused_udp_port())
    window = MainWindow(client, settings, player=PreviewPlayer(FakeOutputDevice()), **kwargs)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    settle()
    return window


def write_loop(folder: Path, name: str, seconds: float = 1.0, rate: int = 32000) -> str:
    path = folder / name
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    return str(path)


def add_results(window: MainWindow, folder: Path, count: int = 3) -> list[str]:
    """`count` loops on disk listed as results (newest first), with long prompts and names."""
    paths = []
    for i in range(count):
        name = f"dusty-boom-bap-drums-with-vinyl-crackle-and-tape-hiss_90bpm_8bars_s{2147480000 + i}_v{i + 1}.wav"
        path = write_loop(folder, name)
        prompt = "dusty boom bap drums with vinyl crackle, tape hiss and a long reverb tail"
        window.results_part.add(ResultEntry.from_path(path, prompt=prompt), top=True)
        paths.append(path)
    return paths


def window_rect(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def fully_visible(widget: QWidget, window: QWidget) -> bool:
    """Shown, inside the window, and not clipped by any parent (scroll areas included)."""
    if not widget.isVisible() or widget.width() <= 0 or widget.height() <= 0:
        return False
    if not window.rect().contains(window_rect(widget, window)):
        return False
    return widget.visibleRegion() == QRegion(widget.rect())


def controls(root: QWidget) -> list[QWidget]:
    """The visible controls (buttons, number boxes, menus, sliders) under `root`."""
    return [w for w in root.findChildren(QWidget) if isinstance(w, CONTROL_TYPES) and w.isVisible()]


def reach(widget: QWidget, window: MainWindow) -> None:
    """Scroll the form, the jobs or the results so that `widget` is in view, as a user would."""
    for _ in range(2):  # twice: a layout still settling may move it once
        for area in (window.compose.scroll, window.jobs_scroll):
            if area.isAncestorOf(widget):  # the whole widget (ensureWidgetVisible aims at a text cursor)
                centre = widget.mapTo(area.widget(), widget.rect().center())
                area.ensureVisible(centre.x(), centre.y(), widget.width() // 2 + 1, widget.height() // 2 + 1)
        for path, row in window.results.rows.items():
            if row is widget or row.isAncestorOf(widget):
                window.results.scrollToItem(window.results._items[path])
        settle()
