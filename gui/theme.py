"""The panel's look: Fusion with a dark palette and one warm accent, like the music tools it sits beside.

Widgets opt into styles with object names (`primary`, `card`, `dropzone`, `banner`) and the `role`
property (`section`, `muted`, `value`); nothing else in the panel hard-codes colours except waveforms.

Every widget that takes keyboard focus shows it (FOCUS: a light blue border or text, distinct from the
orange of a checked button), and disabled controls are dimmed, fields and labels included.
"""

from __future__ import annotations

import os
import tempfile

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PyQt6.QtWidgets import QApplication, QStyleFactory

WINDOW = "#15161a"
CARD = "#1e2026"
BASE = "#101115"
BORDER = "#2d3038"
TEXT = "#e9eaee"
MUTED = "#8a8f9b"
ACCENT = "#ff9f43"
ACCENT_HOVER = "#ffb265"
ACCENT_DOWN = "#e5852a"
OK = "#3ddc84"
WARN = "#ffcc4d"
DANGER = "#ff6161"
WAVE = "#ffb56b"
FOCUS = "#7db4ff"  # the keyboard focus: never the accent (checked buttons are orange already)
DISABLED_TEXT = "#5d616b"

STYLESHEET = f"""
QWidget {{ color: {TEXT}; }}
QMainWindow, QDialog {{ background: {WINDOW}; }}
QFrame#card {{ background: {CARD}; border: 1px solid {BORDER}; border-radius: 10px; }}
QFrame#header {{ background: {CARD}; border-bottom: 1px solid {BORDER}; }}
QFrame#transport {{ background: {CARD}; border-top: 1px solid {BORDER}; }}
QLabel[role="section"] {{ color: {MUTED}; font-size: 8.5pt; font-weight: 600; letter-spacing: 1px; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="ok"] {{ color: {OK}; }}
QLabel[role="warn"] {{ color: {WARN}; }}
QLabel[role="title"] {{ font-size: 12pt; font-weight: 700; }}
QLabel[role="value"] {{ font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 6px; padding: 4px 6px;
    selection-background-color: {ACCENT}; selection-color: #1a1209;
}}
QSpinBox, QDoubleSpinBox {{ padding-right: 18px; }}
QSpinBox::up-button, QDoubleSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::down-button {{
    subcontrol-origin: border; width: 16px; border-left: 1px solid {BORDER}; background: transparent;
}}
QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 6px; }}
QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 6px; }}
QSpinBox::up-button:hover, QDoubleSpinBox::up-button:hover,
QSpinBox::down-button:hover, QDoubleSpinBox::down-button:hover {{ background: #2a2d35; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: url({{up}}); width: 8px; height: 5px; }}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{ image: url({{down}}); width: 8px; height: 5px; }}
QSpinBox::up-arrow:disabled, QDoubleSpinBox::up-arrow:disabled {{ image: url({{up_off}}); }}
QSpinBox::down-arrow:disabled, QDoubleSpinBox::down-arrow:disabled {{ image: url({{down_off}}); }}
QComboBox {{ padding-right: 18px; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: top right; width: 18px; border: none; }}
QComboBox::down-arrow {{ image: url({{down}}); width: 8px; height: 5px; }}
QComboBox::down-arrow:disabled {{ image: url({{down_off}}); }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus {{ border-color: {FOCUS}; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled {{
    color: {DISABLED_TEXT}; background: #15161b; border-color: #24262d;
}}
QLabel:disabled, QLabel[role="muted"]:disabled, QCheckBox:disabled, QRadioButton:disabled {{ color: #4e525c; }}
QRadioButton::indicator:disabled, QCheckBox::indicator:disabled {{ border-color: #33363e; background: #15161b; }}
QRadioButton::indicator:checked:disabled, QCheckBox::indicator:checked:disabled {{ background: #5a4630; border-color: #5a4630; }}
QComboBox QAbstractItemView {{ background: {BASE}; border: 1px solid {BORDER}; selection-background-color: {ACCENT}; }}
QPushButton, QToolButton {{
    background: #2a2d35; border: 1px solid {BORDER}; border-radius: 6px; padding: 5px 12px;
}}
QPushButton:hover, QToolButton:hover {{ background: #343842; }}
QPushButton:pressed, QToolButton:pressed {{ background: #23262d; }}
QPushButton:checked, QToolButton:checked {{ background: #3a3024; border-color: {ACCENT}; color: {ACCENT}; }}
QPushButton:checked:disabled, QToolButton:checked:disabled {{ background: #202229; border-color: {BORDER}; color: #5d616b; }}
QPushButton:disabled, QToolButton:disabled {{ color: {DISABLED_TEXT}; background: #1b1c22; border-color: #25272e; }}
QPushButton:focus, QToolButton:focus {{ border: 1px solid {FOCUS}; }}
QPushButton#primary {{
    background: {ACCENT}; color: #1a1209; border: none; font-weight: 700; padding: 7px 18px;
}}
QPushButton#primary:hover {{ background: {ACCENT_HOVER}; }}
QPushButton#primary:pressed {{ background: {ACCENT_DOWN}; }}
QPushButton#primary:disabled {{ background: #4a3a2a; color: #8a7a66; }}
QPushButton#primary {{ border: 2px solid {ACCENT}; padding: 5px 16px; }}
QPushButton#primary:focus {{ border: 2px solid {FOCUS}; }}
QPushButton#primary:disabled {{ border-color: #4a3a2a; }}
QPushButton#danger:enabled {{ color: {DANGER}; }}
QToolButton#disclosure {{ background: transparent; border: none; color: {MUTED}; padding: 2px 0; }}
QToolButton#disclosure:hover {{ color: {TEXT}; }}
QToolButton#disclosure:focus {{ color: {FOCUS}; border: none; }}
QFrame#dropzone {{ background: {BASE}; border: 1px dashed #4a4e59; border-radius: 8px; }}
QFrame#dropzone[hover="true"] {{ border: 1px solid {ACCENT}; background: #1d1812; }}
QFrame#banner {{ background: #3a1f22; border: 1px solid #6b2d33; border-radius: 8px; }}
QFrame#banner[kind="info"] {{ background: #1f2a36; border-color: #2f4a66; }}
QProgressBar {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 4px; height: 8px;
    text-align: right; color: {MUTED}; font-size: 8pt;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QListWidget {{ background: transparent; border: 1px solid transparent; border-radius: 9px; outline: none; }}
QListWidget:focus {{ border-color: {FOCUS}; }}
QListWidget::item {{ border: none; margin: 0 0 6px 0; }}
QListWidget::item:selected {{ background: transparent; }}
QFrame#resultRow {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 8px; }}
QFrame#resultRow[selected="true"] {{ border-color: {ACCENT}; }}
QFrame#jobRow {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 8px; }}
QSlider::groove:horizontal {{ height: 4px; background: {BORDER}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QSlider::sub-page:horizontal:disabled {{ background: #3a3e48; }}
QSlider::handle:horizontal {{ background: {TEXT}; width: 12px; margin: -5px 0; border-radius: 6px; }}
QSlider::handle:horizontal:focus {{ background: {FOCUS}; }}
QRadioButton::indicator:checked, QCheckBox::indicator:checked {{ background: {ACCENT}; border: 1px solid {ACCENT}; }}
QRadioButton::indicator, QCheckBox::indicator {{ width: 12px; height: 12px; border: 1px solid #555a66; background: {BASE}; }}
QRadioButton::indicator {{ border-radius: 7px; }}
QCheckBox::indicator {{ border-radius: 3px; }}
QRadioButton:focus, QCheckBox:focus {{ color: {FOCUS}; }}
QRadioButton::indicator:focus, QCheckBox::indicator:focus {{ border: 1px solid {FOCUS}; }}
QScrollBar:vertical {{ background: transparent; width: 8px; }}
QScrollBar::handle:vertical {{ background: #3a3e48; border-radius: 4px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
QToolTip {{ background: {CARD}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QStatusBar {{ background: {CARD}; color: {MUTED}; }}
"""


def _arrow_images() -> dict[str, str]:
    """Small triangle PNGs for spin boxes and combo boxes, drawn once per process into a temp folder
    (stylesheets take images only from files or resources)."""
    global _ARROWS
    if _ARROWS:
        return _ARROWS
    folder = tempfile.mkdtemp(prefix="musicgen-panel-theme-")
    images = {}
    for name, up, colour in (
        ("up", True, MUTED),
        ("down", False, MUTED),
        ("up_off", True, "#454954"),
        ("down_off", False, "#454954"),
    ):
        image = QImage(16, 10, QImage.Format.Format_ARGB32)
        image.fill(QColor(0, 0, 0, 0))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        points = (
            [QPointF(1, 9), QPointF(15, 9), QPointF(8, 1)]
            if up
            else [QPointF(1, 1), QPointF(15, 1), QPointF(8, 9)]
        )
        painter.drawPolygon(QPolygonF(points))
        painter.end()
        path = os.path.join(folder, f"{name}.png")
        image.save(path)
        images[name] = path.replace(os.sep, "/")
    _ARROWS = images
    return images


_ARROWS: dict[str, str] = {}


def stylesheet() -> str:
    sheet = STYLESHEET
    for name, path in _arrow_images().items():
        sheet = sheet.replace("{" + name + "}", path)
    return sheet


def apply_theme(app: QApplication) -> None:
    app.setStyle(QStyleFactory.create("Fusion"))
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: CARD,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#2a2d35",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#1a1209",
        QPalette.ColorRole.ToolTipBase: CARD,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: "#6b707b",
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#5d616b"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#5d616b"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#5d616b"))
    app.setPalette(palette)
    font = QFont(app.font())
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(stylesheet())


def set_role(widget, role: str):  # noqa: ANN001, ANN201 (any QWidget; returns it for chaining)
    widget.setProperty("role", role)
    return widget


def repolish(widget) -> None:  # noqa: ANN001
    """Re-apply the stylesheet after a dynamic property changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def icon(kind: str, colour: str = TEXT, size: int = 32) -> QIcon:
    """Flat icons drawn in code (no image files, same look on every platform): play, stop, folder."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    s = size / 32.0
    if kind == "play":
        painter.drawPolygon(
            QPolygonF([QPointF(10 * s, 7 * s), QPointF(25 * s, 16 * s), QPointF(10 * s, 25 * s)])
        )
    elif kind == "stop":
        painter.drawRoundedRect(QRectF(9 * s, 9 * s, 14 * s, 14 * s), 2 * s, 2 * s)
    elif kind == "folder":
        path = QPainterPath()
        path.moveTo(5 * s, 10 * s)
        path.lineTo(13 * s, 10 * s)
        path.lineTo(15 * s, 12 * s)
        path.lineTo(27 * s, 12 * s)
        path.lineTo(27 * s, 24 * s)
        path.lineTo(5 * s, 24 * s)
        path.closeSubpath()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        pen = QPen(QColor(colour), 2 * s)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawPath(path)
    painter.end()
    return QIcon(pixmap)
