"""The form's grid controls: how a take is fitted onto the song's bars, and the bar line's nudge.

    Grid           Nudge
    [On     ▾]     [−1] [ 0 beats ] [+1]

`mode` offers the protocol's grid modes (on, strict, off; default on), `shift` is `grid_shift` in the
meter's beats, its range from the protocol table. With the grid off there is no bar line to move, so the
nudge is disabled.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QToolButton, QWidget

from gui.fields import double_box, spec

GRID_MODES = ("on", "strict", "off")  # the order offered: the protocol table's choices, default first
GRID_LABELS = {"on": "On", "strict": "Strict", "off": "Off"}
GRID_TIPS = {
    "on": "Warp whatever tempo the model played onto the song's grid, its first downbeat on the loop's "
    "first sample",
    "strict": "As on, and a take that plays more than {tolerance:g} % off the tempo is generated again",
    "off": "Cut the loop as generated: the model's own timing, as before the grid fit",
}
NUDGE_STEP = 1.0  # beats moved by the −1 / +1 buttons
SHIFT_DECIMALS = 2  # 0.25 beat is the finest nudge anyone types
SHIFT_SPIN_MIN_WIDTH = 96  # px: room for "−12.5 beats"

assert set(GRID_MODES) == set(spec("grid").choices or ()), spec("grid").choices


def grid_tooltip() -> str:
    tolerance = float(spec("grid_tolerance").default)
    lines = [f"{GRID_LABELS[m]}: {GRID_TIPS[m].format(tolerance=tolerance)}" for m in GRID_MODES]
    return "Fit each take onto the song's bars.\n" + "\n".join(lines)


class GridControls:
    """The grid mode box and the nudge row; the form lays them out (`mode`, `nudge_row`)."""

    def __init__(self, parent: QWidget | None = None):
        self.mode = QComboBox(parent)
        for m in GRID_MODES:
            self.mode.addItem(GRID_LABELS[m], m)
            tip = GRID_TIPS[m].format(tolerance=float(spec("grid_tolerance").default))
            self.mode.setItemData(self.mode.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode.setToolTip(grid_tooltip())
        self.shift = double_box("grid_shift", SHIFT_DECIMALS, 0.5)
        self.shift.setSuffix(" beats")
        self.shift.setMinimumWidth(SHIFT_SPIN_MIN_WIDTH)
        self.shift.setToolTip(
            "Moves the bar line when the downbeat was found in the wrong place: +1 starts the loop one beat "
            "later in the take. With a locked seed the same loop comes back with only its bar line moved"
        )
        self.earlier, self.later = QToolButton(parent), QToolButton(parent)
        self.earlier.setText("−1")
        self.earlier.setToolTip("Bar line one beat earlier")
        self.later.setText("+1")
        self.later.setToolTip("Bar line one beat later")
        self.earlier.clicked.connect(lambda: self.shift.stepBy(-int(NUDGE_STEP / self.shift.singleStep())))
        self.later.clicked.connect(lambda: self.shift.stepBy(int(NUDGE_STEP / self.shift.singleStep())))
        self.nudge_row = QHBoxLayout()
        self.nudge_row.setSpacing(4)
        self.nudge_row.addWidget(self.earlier)
        self.nudge_row.addWidget(self.shift, 1)
        self.nudge_row.addWidget(self.later)
        self.mode.currentIndexChanged.connect(lambda _i: self._mode_changed())
        self.set_values(str(spec("grid").default), float(spec("grid_shift").default))

    def values(self) -> tuple[str, float]:
        return str(self.mode.currentData()), float(self.shift.value())

    def set_values(self, mode: str, shift: float) -> None:
        index = self.mode.findData(mode)
        self.mode.setCurrentIndex(index if index >= 0 else self.mode.findData(spec("grid").default))
        self.shift.setValue(shift)
        self._mode_changed()

    def _mode_changed(self) -> None:
        on = self.mode.currentData() != "off"
        for widget in (self.shift, self.earlier, self.later):
            widget.setEnabled(on)
