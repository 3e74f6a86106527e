"""The transport strip at the bottom: play / stop / loop, what is playing, volume and output device."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QWidget,
)

from gui import theme
from gui.widgets import ElidedLabel


def format_time(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class PreviewBar(QFrame):
    play_clicked = pyqtSignal()
    stop_clicked = pyqtSignal()
    loop_toggled = pyqtSignal(bool)
    volume_changed = pyqtSignal(float)  # 0..1
    device_chosen = pyqtSignal(str)  # device name, '' = system default
    stream_toggled = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transport")
        self.play = QToolButton()
        self.play.setIcon(theme.icon("play"))
        self.play.setToolTip("Play the selected loop (Space)")
        self.stop = QToolButton()
        self.stop.setIcon(theme.icon("stop"))
        self.stop.setToolTip("Stop (Space)")
        self.loop = QToolButton()
        self.loop.setText("Loop")
        self.loop.setCheckable(True)
        self.loop.setChecked(True)
        self.loop.setToolTip("Loop finished results while they play")
        self.now = theme.set_role(ElidedLabel("Nothing playing"), "muted")
        self.now.setMinimumWidth(80)  # elided: the bar fits the window's minimum width
        self.time = theme.set_role(QLabel(""), "value")
        self.stream = QCheckBox("Preview while generating")
        self.stream.setChecked(True)
        self.stream.setToolTip("Hear each loop as it is generated (streamed in half-second chunks)")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(90)
        self.volume.setToolTip("Preview volume")
        self.device = QComboBox()
        self.device.setMinimumWidth(150)
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device.setMinimumContentsLength(14)  # a long device name must not widen the bar
        self.device.setToolTip("Audio output for previews")
        self.device.addItem("System default", "")

        row = QHBoxLayout(self)
        row.setContentsMargins(14, 8, 14, 8)
        row.setSpacing(8)
        row.addWidget(theme.set_role(QLabel("PREVIEW"), "section"))
        for w in (self.play, self.stop, self.loop):
            row.addWidget(w)
        row.addSpacing(6)
        row.addWidget(self.time)
        row.addWidget(self.now, 1)
        vol_label = theme.set_role(QLabel("Vol"), "muted")
        out_label = theme.set_role(QLabel("Out"), "muted")
        for w in (self.stream, vol_label, self.volume, out_label, self.device):
            row.addWidget(w)
        self._output_widgets = (self.stream, vol_label, self.volume, out_label, self.device)

        self.play.clicked.connect(self.play_clicked)
        self.stop.clicked.connect(self.stop_clicked)
        self.loop.toggled.connect(self.loop_toggled)
        self.stream.toggled.connect(self.stream_toggled)
        self.volume.valueChanged.connect(lambda v: self.volume_changed.emit(v / 100.0))
        self.device.activated.connect(lambda i: self.device_chosen.emit(self.device.itemData(i) or ""))

    def set_devices(self, names: list[str], current: str) -> None:
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItem("System default", "")
        for name in names:
            self.device.addItem(name, name)
        index = self.device.findData(current)
        self.device.setCurrentIndex(max(index, 0))
        self.device.blockSignals(False)

    def set_unavailable(self, reason: str) -> None:
        """No audio output: the panel works, previews are off, and the bar says why."""
        for w in (self.play, self.stop, self.loop):
            w.setEnabled(False)
        for w in self._output_widgets:
            w.hide()
        self.now.setText(f"Preview unavailable: {reason}")
        self.now.setToolTip(reason)
        self.time.setText("")

    def set_available(self) -> None:
        for w in (self.play, self.stop, self.loop, *self._output_widgets):
            w.setEnabled(True)
            w.show()

    def show_state(self, text: str, position: float | None = None, duration: float | None = None) -> None:
        self.now.setText(text)
        if position is None:
            self.time.setText("")
        elif duration:
            self.time.setText(f"{format_time(position)} / {format_time(duration)}")
        else:
            self.time.setText(format_time(position))
