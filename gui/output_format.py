"""The file the daemon writes: sample rate, bit depth, loudness target (or none) and, where the daemon
offers it, the channel count. Collapsed under one line that says what is chosen:

    OUTPUT  ·  44.1 kHz · 24-bit · −14 LUFS
      Sample rate [44.1 kHz ▾]  Bit depth [24-bit ▾]  [x] Normalize to [−14.0 LUFS]  Channels [Model's ▾]

The choices, ranges and defaults are the protocol table's (`bridge.protocol.REQUESTS["generate"]`), so the
panel offers exactly what the daemon takes; `params()` are generate keys, sent with every request.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QSettings, Qt, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from bridge import protocol
from gui import theme
from gui.fields import double_box

GENERATE = protocol.REQUESTS["generate"]
SETTINGS_GROUP = "output"
BIT_DEPTH_LABELS = {"16": "16-bit", "24": "24-bit", "float": "32-bit float"}
CHANNEL_LABELS = {0: "Model's", 1: "Mono", 2: "Stereo"}
CHANNEL_TIPS = {
    0: "As the model makes it: mono, or stereo from a stereo model",
    1: "Mono (a stereo take is downmixed)",
    2: "Stereo (a mono take plays in both channels)",
}


def rate_label(rate: int) -> str:
    """44100 -> '44.1 kHz', 48000 -> '48 kHz'."""
    return f"{rate / 1000:g} kHz"


def _field(name: str) -> protocol.Field | None:
    return GENERATE.field(name)


class OutputFormat(QWidget):
    """`params()` for generate; `changed` when a choice changes. Channels only where the protocol has them."""

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        rate, depth = _field("sample_rate"), _field("bit_depth")
        loudness, channels = _field("loudness"), _field("channels")
        assert rate is not None and depth is not None and loudness is not None
        self.toggle = QToolButton()
        self.toggle.setObjectName("disclosure")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolTip("The file's format: sample rate, bit depth, loudness")
        self.toggle.toggled.connect(self._show)
        self.sample_rate = QComboBox()
        for value in rate.choices or ():
            self.sample_rate.addItem(rate_label(int(value)), int(value))
        self.sample_rate.setToolTip("Sample rate of the file (the model makes 32 kHz; others are resampled)")
        self.bit_depth = QComboBox()
        for value in depth.choices or ():
            self.bit_depth.addItem(BIT_DEPTH_LABELS.get(str(value), str(value)), str(value))
        self.bit_depth.setToolTip("WAV sample format")
        self.normalize = QCheckBox("Normalize to")
        self.normalize.setToolTip(
            "Bring the loop to this integrated loudness (the −1 dBFS peak ceiling always applies)"
        )
        self.loudness = double_box("loudness", 1, 0.5)
        self.loudness.setSuffix(" LUFS")
        self.channels: QComboBox | None = None
        if channels is not None:  # a daemon whose protocol offers a channel choice
            self.channels = QComboBox()
            for value in channels.choices or ():
                self.channels.addItem(CHANNEL_LABELS.get(int(value), str(value)), int(value))
                self.channels.setItemData(
                    self.channels.count() - 1, CHANNEL_TIPS.get(int(value), ""), Qt.ItemDataRole.ToolTipRole
                )
            self.channels.setToolTip(channels.doc[:1].upper() + channels.doc[1:])
        self.details = QWidget()
        grid = QGridLayout(self.details)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        cells: list[tuple[str, QWidget]] = [("Sample rate", self.sample_rate), ("Bit depth", self.bit_depth)]
        if self.channels is not None:
            cells.append(("Channels", self.channels))
        for col, (label, widget) in enumerate(cells):
            grid.addWidget(theme.set_role(QLabel(label), "muted"), 0, col)
            grid.addWidget(widget, 1, col)
        grid.addWidget(self.normalize, 2, 0)
        grid.addWidget(self.loudness, 2, 1)
        self.details.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.toggle)
        layout.addWidget(self.details)
        self.set_params({})
        for combo in (self.sample_rate, self.bit_depth, self.channels):
            if combo is not None:
                combo.currentIndexChanged.connect(self._changed)
        self.normalize.toggled.connect(self._changed)
        self.loudness.valueChanged.connect(self._changed)

    # ------------------------------------------------------------------ values

    def params(self) -> dict[str, Any]:
        """The generate keys of the chosen format."""
        p: dict[str, Any] = {
            "sample_rate": int(self.sample_rate.currentData()),
            "bit_depth": str(self.bit_depth.currentData()),
            "normalize": self.normalize.isChecked(),
        }
        if self.normalize.isChecked():
            p["loudness"] = float(self.loudness.value())
        if self.channels is not None:
            p["channels"] = int(self.channels.currentData())
        return p

    def set_params(self, p: dict[str, Any]) -> None:
        """Choose a format from generate keys; a key not given (or not offered) takes its default."""

        def pick(combo: QComboBox, name: str, cast: type) -> None:
            field = _field(name)
            value = p.get(name, field.default if field is not None else None)
            try:
                index = combo.findData(cast(value))
            except (TypeError, ValueError):
                index = -1
            if index < 0 and field is not None:
                index = combo.findData(cast(field.default))
            combo.setCurrentIndex(max(index, 0))

        pick(self.sample_rate, "sample_rate", int)
        pick(self.bit_depth, "bit_depth", str)
        if self.channels is not None:
            pick(self.channels, "channels", int)
        loudness = _field("loudness")
        self.normalize.setChecked(bool(p.get("normalize", True)))
        self.loudness.setValue(float(p.get("loudness", loudness.default if loudness else -14.0)))
        self._changed()

    def summary(self) -> str:
        """'44.1 kHz · 24-bit · −14 LUFS' (what the collapsed line says)."""
        parts = [self.sample_rate.currentText(), self.bit_depth.currentText()]
        if self.normalize.isChecked():
            parts.append(f"{self.loudness.value():g} LUFS".replace("-", "−"))
        else:
            parts.append("level as generated")
        if self.channels is not None and int(self.channels.currentData()) != 0:
            parts.append(self.channels.currentText().lower())
        return " · ".join(parts)

    # ------------------------------------------------------------------ settings

    def save(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        for key, value in self.params().items():
            settings.setValue(key, value)
        settings.setValue("open", self.toggle.isChecked())
        settings.endGroup()

    def restore(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        p: dict[str, Any] = {}
        for key in ("sample_rate", "bit_depth", "loudness", "channels"):
            if settings.contains(key):
                p[key] = settings.value(key)
        if settings.contains("normalize"):
            p["normalize"] = settings.value("normalize") in (True, "true", "1", 1)
        opened = settings.value("open", False) in (True, "true")
        settings.endGroup()
        try:
            self.set_params(p)
        except (TypeError, ValueError):
            self.set_params({})
        self.toggle.setChecked(opened)

    # ------------------------------------------------------------------ slots

    def _show(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _changed(self, *_args: object) -> None:
        self.loudness.setEnabled(self.normalize.isChecked())
        self.toggle.setText(f"OUTPUT  ·  {self.summary()}")
        self.changed.emit()
