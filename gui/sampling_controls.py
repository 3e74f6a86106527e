"""The form's sampling settings under ADVANCED: temperature, top-k, top-p and classifier-free guidance.

    Temperature [1.00]   Top-k [250 ]
    Top-p       [0.00]   CFG   [3.0 ]
    [Defaults]

Short rows, so the form stays narrow; ranges and defaults come from the protocol table (`gui.fields`).
"""

from __future__ import annotations

from PyQt6.QtWidgets import QGridLayout, QLabel, QToolButton, QWidget

from gui import theme
from gui.fields import double_box, int_box, spec


class SamplingControls(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.temperature = double_box("temperature", 2, 0.05)
        self.top_k = int_box("top_k")
        self.top_p = double_box("top_p", 2, 0.05)
        self.cfg = double_box("cfg", 1, 0.5)
        self.reset = QToolButton()
        self.reset.setText("Defaults")
        self.reset.setToolTip("Back to the model's usual settings (temperature 1, top-k 250, CFG 3)")
        self.reset.clicked.connect(self.set_defaults)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        for i, (label, box) in enumerate(
            (
                ("Temperature", self.temperature),
                ("Top-k", self.top_k),
                ("Top-p", self.top_p),
                ("CFG", self.cfg),
            )
        ):
            row, col = divmod(i, 2)
            grid.addWidget(theme.set_role(QLabel(label), "muted"), row, col * 2)
            grid.addWidget(box, row, col * 2 + 1)
        grid.addWidget(self.reset, 2, 0)
        grid.setColumnStretch(4, 1)

    def set_defaults(self) -> None:
        self.temperature.setValue(float(spec("temperature").default))
        self.top_k.setValue(int(spec("top_k").default))
        self.top_p.setValue(float(spec("top_p").default))
        self.cfg.setValue(float(spec("cfg").default))
