"""The clip's options under the clip box: what the clip is used for, its own tempo, the region and how
much of it prompts a continuation.

    Use clip for  (•) Melody  ( ) Continue  ( ) Both
    Clip BPM [same ]    Prompt [ 5.0 s]
    [ ] Region [0.00 s] to [8.00 s]

Three short rows, so the form stays narrow enough for a laptop screen (the window's minimum is 980 px
wide). The boxes' ranges come from the protocol table (`gui.fields`). Disabled while there is no clip.
"""

from __future__ import annotations

from PyQt6.QtWidgets import QButtonGroup, QCheckBox, QGridLayout, QHBoxLayout, QLabel, QRadioButton, QWidget

from gui import theme
from gui.fields import double_box

CLIP_MODES = ("melody", "continue", "both")
CLIP_MODE_LABELS = {"melody": "Melody", "continue": "Continue", "both": "Both"}
CLIP_MODE_TIPS = {
    "melody": "The clip's melody (chroma) steers the new loop",
    "continue": "The end of the clip is continued: the loop starts where the clip stops",
    "both": "Continue the clip and follow its melody",
}
CLIP_SPIN_MIN_WIDTH = 86  # px: room for "same" and "12.50 s"


class ClipOptions(QWidget):
    """The widgets are attributes (`mode_buttons`, `clip_bpm`, `use_region`, `region_start`, `region_end`,
    `prompt_seconds`); the form reads and sets them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        modes = QHBoxLayout()
        modes.setSpacing(12)
        modes.addWidget(theme.set_role(QLabel("Use clip for"), "muted"))
        for mode in CLIP_MODES:
            button = QRadioButton(CLIP_MODE_LABELS[mode])
            button.setToolTip(CLIP_MODE_TIPS[mode])
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            modes.addWidget(button)
        modes.addStretch(1)
        self.mode_buttons["melody"].setChecked(True)
        self.clip_bpm = double_box("melody_bpm", 2, 1.0)
        self.clip_bpm.setMinimum(0.0)
        self.clip_bpm.setSpecialValueText("same")
        self.clip_bpm.setValue(0.0)
        self.clip_bpm.setToolTip("The clip's own tempo, if it differs from the song (its melody is retimed)")
        self.use_region = QCheckBox("Region")
        self.use_region.setToolTip("Use only part of the clip (seconds)")
        self.region_start = double_box("region_start", 2, 0.25)
        self.region_end = double_box("region_end", 2, 0.25)
        self.region_start.setSuffix(" s")
        self.region_end.setSuffix(" s")
        self.use_region.toggled.connect(self._region_toggled)
        self.prompt_seconds = double_box("prompt_seconds", 1, 0.5)
        self.prompt_seconds.setMinimum(0.5)
        self.prompt_seconds.setSuffix(" s")
        self.prompt_seconds.setToolTip("How much of the clip's end prompts a continuation")
        for box in (self.clip_bpm, self.region_start, self.region_end, self.prompt_seconds):
            box.setMinimumWidth(CLIP_SPIN_MIN_WIDTH)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.addLayout(modes, 0, 0, 1, 4)
        grid.addWidget(theme.set_role(QLabel("Clip BPM"), "muted"), 1, 0)
        grid.addWidget(self.clip_bpm, 1, 1)
        grid.addWidget(theme.set_role(QLabel("Prompt"), "muted"), 1, 2)
        grid.addWidget(self.prompt_seconds, 1, 3)
        grid.addWidget(self.use_region, 2, 0)
        grid.addWidget(self.region_start, 2, 1)
        grid.addWidget(theme.set_role(QLabel("to"), "muted"), 2, 2)
        grid.addWidget(self.region_end, 2, 3)
        grid.setColumnStretch(4, 1)
        self._region_toggled(False)

    def mode(self) -> str:
        return next((m for m, b in self.mode_buttons.items() if b.isChecked()), "melody")

    def set_mode(self, mode: str) -> None:
        self.mode_buttons.get(mode, self.mode_buttons["melody"]).setChecked(True)

    def _region_toggled(self, on: bool) -> None:
        self.region_start.setEnabled(on)
        self.region_end.setEnabled(on)

    def set_clip_duration(self, seconds: float) -> None:
        """Once the clip was read: the region defaults to the whole clip."""
        if not self.use_region.isChecked() or self.region_end.value() <= self.region_start.value():
            self.region_start.setValue(0.0)
            self.region_end.setValue(seconds)
