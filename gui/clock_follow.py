"""Follow the host's tempo: while a MIDI clock comes in on the chosen port, the form's BPM is the clock's.

    [x] Follow MIDI clock  [IAC Driver Bus 1 ▾]   following 124.0 bpm

The tempo is read by `bridge.midi.clock.ClockFollower` (a least-squares fit over the recent pulses, robust
to jitter, start/stop/continue) from messages `bridge.midi.ports` delivers on the driver's thread; a timer
on the GUI thread looks at it four times a second and sets the BPM box, which is locked while a clock is
followed. Without a clock (none yet, or it stopped for longer than the follower's drop-out time) the box is
free again and keeps the last tempo. Needs the `midi` extra; without it the control says so.
"""

from __future__ import annotations

import threading
from typing import Any

from PyQt6.QtCore import QSettings, QTimer, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QWidget

from bridge.midi.clock import ClockFollower
from bridge.midi.ports import MidiError, PortBackend, backend_missing, default_backend
from gui import theme
from gui.widgets import ElidedLabel

POLL_MS = 250  # how often the clock's tempo is looked at
ROUND_DECIMALS = 1  # a clock's tempo is read to about ±0.05 bpm: 123.98 is the host's 124.0, which
# matters, since the loop's length follows the BPM exactly (hosts' tempos rarely have a second decimal)
MIN_CHANGE_BPM = 0.05  # the BPM box moves only by at least this much
SETTINGS_KEY = "clock/port"


class ClockFollow(QWidget):
    """The checkbox, the port menu and what it hears. `bpm_followed(bpm)` each time the box is set."""

    bpm_followed = pyqtSignal(float)

    def __init__(
        self, bpm_box: QDoubleSpinBox, backend: PortBackend | None = None, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.bpm_box = bpm_box
        self._backend = backend
        self.follower = ClockFollower()
        self._lock = threading.Lock()  # the driver's thread feeds, the GUI thread reads
        self._handle: Any = None
        self.port = ""
        self.enabled_box = QCheckBox("Follow MIDI clock")
        self.ports = QComboBox()
        self.ports.setToolTip("The MIDI input your DAW sends its clock to")
        self.ports.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.ports.setMinimumContentsLength(8)  # a long port name must not widen the form
        self.status = theme.set_role(ElidedLabel(), "muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.enabled_box)
        layout.addWidget(self.ports, 1)
        layout.addWidget(self.status, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        missing = backend_missing() if backend is None else ""
        if missing:
            self.enabled_box.setEnabled(False)
            self.ports.setVisible(False)
            self.enabled_box.setToolTip(f"Following a MIDI clock is unavailable: {missing}")
        else:
            self.enabled_box.setToolTip(
                "While your DAW sends MIDI clock to this port, the BPM follows the song's tempo"
            )
            self.refresh_ports()
        self.enabled_box.toggled.connect(self._toggled)

    @property
    def backend(self) -> PortBackend:
        if self._backend is None:
            self._backend = default_backend()
        return self._backend

    @property
    def following(self) -> bool:
        return self._handle is not None

    def refresh_ports(self) -> None:
        current = self.ports.currentText() or self.port
        try:
            names = self.backend.input_names()
        except MidiError as e:
            names = []
            self.status.setToolTip(str(e))
        self.ports.clear()
        self.ports.addItems(names)
        self.ports.setVisible(bool(names))
        if current in names:
            self.ports.setCurrentText(current)

    # ------------------------------------------------------------------ on / off

    def _toggled(self, on: bool) -> None:
        if on:
            self.start()
        else:
            self.stop()

    def start(self) -> bool:
        """Open the chosen port and follow its clock; False (the status says why) if it cannot."""
        self.stop()
        self.refresh_ports()
        name = self.ports.currentText()
        if not name:
            self.status.setText("no MIDI input found")
            self.enabled_box.setChecked(False)
            return False
        try:
            self._handle = self.backend.open_input(name, self._deliver)
        except MidiError as e:
            self.status.setText(str(e))
            self.enabled_box.setChecked(False)
            return False
        self.port = name
        with self._lock:
            self.follower.reset()
        self.status.setText("waiting for a clock…")
        self._timer.start()
        if not self.enabled_box.isChecked():
            self.enabled_box.setChecked(True)
        return True

    def stop(self) -> None:
        self._timer.stop()
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.bpm_box.setEnabled(True)
        self.status.setText("")

    def _deliver(self, msg: Any, t: float) -> None:  # the driver's thread
        with self._lock:
            self.follower.feed_message(msg, t)

    # ------------------------------------------------------------------ reading the tempo

    def poll(self) -> float | None:
        """Set the BPM box from the clock (if one is heard now); returns the clock's tempo or None."""
        with self._lock:
            bpm = self.follower.bpm
        box = self.bpm_box
        if bpm is None:
            if not box.isEnabled():
                box.setEnabled(True)
            self.status.setText("no clock: BPM is yours" if self.following else "")
            return None
        value = round(min(max(bpm, box.minimum()), box.maximum()), ROUND_DECIMALS)
        if abs(value - box.value()) >= MIN_CHANGE_BPM:
            box.setValue(value)
            self.bpm_followed.emit(value)
        box.setEnabled(False)  # the host decides the tempo while its clock runs
        self.status.setText(f"following {value:.1f} bpm")
        return bpm

    # ------------------------------------------------------------------ settings

    def save(self, settings: QSettings) -> None:
        settings.setValue(SETTINGS_KEY, self.port or self.ports.currentText())
        settings.setValue("clock/follow", self.following)

    def restore(self, settings: QSettings) -> None:
        self.port = str(settings.value(SETTINGS_KEY, "") or "")
        if self.port and self.ports.findText(self.port) >= 0:
            self.ports.setCurrentText(self.port)
        if settings.value("clock/follow", False) in (True, "true") and self.enabled_box.isEnabled():
            self.enabled_box.setChecked(True)
