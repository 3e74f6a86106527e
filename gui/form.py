"""The request form: prompt, tempo, length, seed, takes, the grid fit and its nudge, sampling, and the clip
with its mode.

    form = GenerateForm()
    values = form.values()                                   # a plain FormValues
    params = build_params(values, seed=7, variations=1)      # generate keys for OscClient.generate

Ranges and defaults come from the protocol table (`bridge.protocol.REQUESTS["generate"]`, through
`gui.fields`), so the form cannot offer what the daemon would refuse. `build_params` is pure and tested without widgets.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass, fields
from typing import Any

from PyQt6.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bridge import protocol
from bridge.limits import MAX_LOOP_SECONDS
from gui import theme
from gui.clip_options import CLIP_MODE_LABELS, CLIP_MODE_TIPS, CLIP_MODES, ClipOptions
from gui.clip_zone import ClipDropZone
from gui.fields import SPIN_MIN_WIDTH, double_box, int_box, spec
from gui.grid_controls import GridControls
from gui.sampling_controls import SamplingControls

MAX_RECENT_PROMPTS = 20
PROMPT_MIN_CHARS = 24  # the prompt box is sized for this many characters, whatever the recent prompts
TIME_SIGNATURES = ("4/4", "3/4", "6/8", "7/8", "5/4", "12/8", "2/4")
SETTINGS_GROUP = "form"
NOTE_MS = 8000  # an out-of-range note stays this long
__all__ = ["CLIP_MODES", "CLIP_MODE_LABELS", "CLIP_MODE_TIPS", "FormValues", "GenerateForm", "build_params"]


def loop_seconds(bars: int, bpm: float, time_signature: str) -> float | None:
    """How long `bars` bars last (a beat is a quarter note, as in bridge.audio.tempo); None for a time
    signature that cannot be read."""
    top, _, bottom = time_signature.partition("/")
    try:
        beats, unit = int(top), int(bottom)
    except ValueError:
        return None
    if beats <= 0 or unit <= 0 or bpm <= 0:
        return None
    return bars * beats * 4.0 / unit * 60.0 / bpm


def length_text(bars: int, bpm: float, time_signature: str) -> tuple[str, bool]:
    """The form's loop length ("= 8.0 s") and whether the daemon would refuse it as too long."""
    seconds = loop_seconds(bars, bpm, time_signature)
    if seconds is None:
        return "time signature?", True
    if seconds > MAX_LOOP_SECONDS:
        return f"= {seconds:.0f} s (max {MAX_LOOP_SECONDS:.0f})", True
    return f"= {seconds:.1f} s", False


@dataclass
class FormValues:
    prompt: str = ""
    bpm: float = 120.0
    bars: int = 4
    time_signature: str = "4/4"
    seed: int = 0
    seed_locked: bool = False
    variations: int = 4  # takes made by the Variations button
    grid: str = str(spec("grid").default)  # off, on or strict
    grid_shift: float = float(spec("grid_shift").default)  # beats the bar line moves
    temperature: float = float(spec("temperature").default)
    top_k: int = int(spec("top_k").default)
    top_p: float = float(spec("top_p").default)
    cfg: float = float(spec("cfg").default)
    clip_path: str = ""
    clip_mode: str = "melody"
    clip_bpm: float = 0.0  # 0 = the clip is at the song tempo
    use_region: bool = False
    region_start: float = 0.0
    region_end: float = 0.0
    prompt_seconds: float = float(spec("prompt_seconds").default)


def build_params(
    v: FormValues, *, seed: int, variations: int = 1, continue_from: str | None = None
) -> dict[str, Any]:
    """The `generate` keys for these form values. `continue_from` (the Continue button) continues that
    file; the clip then adds its melody only in 'both' mode."""
    params: dict[str, Any] = {
        "prompt": v.prompt.strip(),
        "bpm": float(v.bpm),
        "bars": int(v.bars),
        "time_signature": v.time_signature.strip() or "4/4",
        "seed": int(seed),
        "variations": int(variations),
        "temperature": float(v.temperature),
        "top_k": int(v.top_k),
        "top_p": float(v.top_p),
        "cfg": float(v.cfg),
        "grid": v.grid,
        "grid_shift": float(v.grid_shift),
    }
    clip = v.clip_path or None
    if continue_from:
        melody = clip if v.clip_mode == "both" else None
        cont: str | None = continue_from
    else:
        melody = clip if v.clip_mode in ("melody", "both") else None
        cont = clip if v.clip_mode in ("continue", "both") else None
    if melody:
        params["melody"] = melody
    if cont:
        params["continue"] = cont
        params["prompt_seconds"] = float(v.prompt_seconds)
    if clip and clip in (melody, cont):
        if v.clip_bpm > 0:
            params["melody_bpm"] = float(v.clip_bpm)
        if v.use_region and v.region_end > v.region_start:
            params["region_start"] = float(v.region_start)
            params["region_end"] = float(v.region_end)
    return params


def _section(text: str) -> QLabel:
    return theme.set_role(QLabel(text.upper()), "section")


class GenerateForm(QWidget):
    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # prompt
        self.prompt = QComboBox()
        self.prompt.setEditable(True)
        self.prompt.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.prompt.setMaxCount(MAX_RECENT_PROMPTS)
        # a long recent prompt must not widen the form
        self.prompt.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.prompt.setMinimumContentsLength(PROMPT_MIN_CHARS)
        self.prompt.lineEdit().setPlaceholderText(
            "Describe the loop, e.g. dusty boom bap drums, vinyl crackle"
        )
        self.prompt.lineEdit().setMaxLength(protocol.MAX_PROMPT_CHARS)
        self.prompt.setToolTip("What the loop should sound like. The arrow lists your recent prompts.")
        # tempo and length
        self.bpm = double_box("bpm", 2, 1.0)
        self.bpm.setValue(120.0)
        self.bars = int_box("bars")
        self.bars.setValue(4)
        self.time_signature = QComboBox()
        self.time_signature.setEditable(True)
        self.time_signature.addItems(TIME_SIGNATURES)
        self.time_signature.setToolTip("Beats per bar / beat unit")
        self.length = theme.set_role(QLabel(), "muted")
        self.length.setToolTip(f"How long the loop lasts; the daemon makes at most {MAX_LOOP_SECONDS:.0f} s")
        # seed and takes
        self.seed = QSpinBox()
        self.seed.setRange(0, protocol.MAX_SEED)
        self.seed.setMinimumWidth(SPIN_MIN_WIDTH)
        self.seed.setToolTip("Random seed. Unlocked: a new one for every request. Locked: repeatable")
        self.seed_lock = QToolButton()
        self.seed_lock.setText("Lock")
        self.seed_lock.setCheckable(True)
        self.seed_lock.setToolTip(
            "Keep this seed for the next requests (same seed + same settings = same loop)"
        )
        self.seed_lock.toggled.connect(self._seed_lock_changed)
        self.variations = int_box("variations")
        self.variations.setValue(4)
        self.variations.setPrefix("×")
        self.variations.setToolTip("Takes generated by the Variations button (one batched pass)")
        # grid fit
        self.grid = GridControls(self)
        # advanced
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("disclosure")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setText("ADVANCED  ·  sampling")
        self.advanced_toggle.toggled.connect(self._show_advanced)
        self.advanced = SamplingControls()
        a = self.advanced
        self.temperature, self.top_k, self.top_p, self.cfg = a.temperature, a.top_k, a.top_p, a.cfg
        self.reset_advanced = a.reset
        self.advanced.setVisible(False)
        # clip
        self.clip = ClipDropZone()
        self.clip_options = ClipOptions()
        o = self.clip_options
        self.mode_group, self.mode_buttons = o.mode_group, o.mode_buttons
        self.clip_bpm, self.use_region = o.clip_bpm, o.use_region
        self.region_start, self.region_end, self.prompt_seconds = (
            o.region_start,
            o.region_end,
            o.prompt_seconds,
        )
        # a number typed beyond its range: said here, under the boxes
        self.note = theme.set_role(QLabel(), "warn")
        self.note.setWordWrap(True)
        self.note.hide()
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.timeout.connect(self.note.hide)
        self.clip.clip_changed.connect(self._clip_changed)

        # layout
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        for col, (label, widget) in enumerate(
            (
                ("BPM", self.bpm),
                ("Bars", self.bars),
                ("Time sig.", self.time_signature),
                ("Length", self.length),
            )
        ):
            grid.addWidget(theme.set_role(QLabel(label), "muted"), 0, col)
            grid.addWidget(widget, 1, col)
        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_lock)
        grid.addWidget(theme.set_role(QLabel("Seed"), "muted"), 2, 0, 1, 2)
        grid.addLayout(seed_row, 3, 0, 1, 2)
        grid.addWidget(theme.set_role(QLabel("Variations"), "muted"), 2, 2)
        grid.addWidget(self.variations, 3, 2)
        grid.addWidget(theme.set_role(QLabel("Grid"), "muted"), 4, 0)
        grid.addWidget(self.grid.mode, 5, 0)
        grid.addWidget(theme.set_role(QLabel("Nudge bar line"), "muted"), 4, 1, 1, 3)
        grid.addLayout(self.grid.nudge_row, 5, 1, 1, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(_section("Prompt"))
        layout.addWidget(self.prompt)
        layout.addSpacing(6)
        layout.addWidget(_section("Tempo & length"))
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addSpacing(2)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)
        layout.addSpacing(6)
        layout.addWidget(_section("Clip"))
        layout.addWidget(self.clip)
        layout.addWidget(self.clip_options)
        self._clip_changed("")
        self.new_seed()
        self._show_length()
        for box in self.findChildren(QWidget):
            if hasattr(box, "out_of_range"):
                box.out_of_range.connect(self.show_note)
        self.bpm.valueChanged.connect(self._show_length)
        self.bars.valueChanged.connect(self._show_length)
        self.time_signature.editTextChanged.connect(self._show_length)

        for box in (self.bpm, self.bars, self.seed, self.variations, self.temperature, self.top_k):
            box.valueChanged.connect(self.changed)
        self.grid.shift.valueChanged.connect(self.changed)
        self.grid.mode.currentIndexChanged.connect(self.changed)
        self.prompt.editTextChanged.connect(self.changed)

    # ------------------------------------------------------------------ values

    def clip_mode(self) -> str:
        return self.clip_options.mode()

    def values(self) -> FormValues:
        return FormValues(
            prompt=self.prompt.currentText(),
            bpm=self.bpm.value(),
            bars=self.bars.value(),
            time_signature=self.time_signature.currentText(),
            seed=self.seed.value(),
            seed_locked=self.seed_lock.isChecked(),
            variations=self.variations.value(),
            grid=self.grid.values()[0],
            grid_shift=self.grid.values()[1],
            temperature=self.temperature.value(),
            top_k=self.top_k.value(),
            top_p=self.top_p.value(),
            cfg=self.cfg.value(),
            clip_path=self.clip.path,
            clip_mode=self.clip_mode(),
            clip_bpm=self.clip_bpm.value(),
            use_region=self.use_region.isChecked(),
            region_start=self.region_start.value(),
            region_end=self.region_end.value(),
            prompt_seconds=self.prompt_seconds.value(),
        )

    def set_values(self, v: FormValues) -> None:
        self.prompt.setEditText(v.prompt)
        self.bpm.setValue(v.bpm)
        self.bars.setValue(v.bars)
        self.time_signature.setEditText(v.time_signature)
        self.seed.setValue(v.seed)
        self.seed_lock.setChecked(v.seed_locked)
        self.variations.setValue(v.variations)
        self.grid.set_values(v.grid, v.grid_shift)
        self.temperature.setValue(v.temperature)
        self.top_k.setValue(v.top_k)
        self.top_p.setValue(v.top_p)
        self.cfg.setValue(v.cfg)
        self.clip.set_clip(v.clip_path)
        self.clip_options.set_mode(v.clip_mode)
        self.clip_bpm.setValue(v.clip_bpm)
        self.use_region.setChecked(v.use_region)
        self.region_start.setValue(v.region_start)
        self.region_end.setValue(v.region_end)
        self.prompt_seconds.setValue(v.prompt_seconds)

    def next_seed(self) -> int:
        """The seed for the next request: the shown one when locked, else a fresh random one (shown)."""
        if not self.seed_lock.isChecked():
            self.new_seed()
        return self.seed.value()

    def new_seed(self) -> None:
        self.seed.setValue(random.randint(0, protocol.MAX_SEED))

    def remember_prompt(self, text: str) -> None:
        """Put `text` at the top of the recent prompts."""
        text = text.strip()
        if not text:
            return
        index = self.prompt.findText(text, Qt.MatchFlag.MatchFixedString | Qt.MatchFlag.MatchCaseSensitive)
        if index >= 0:
            self.prompt.removeItem(index)
        self.prompt.insertItem(0, text)
        self.prompt.setCurrentIndex(0)

    def recent_prompts(self) -> list[str]:
        return [self.prompt.itemText(i) for i in range(self.prompt.count())]

    # ------------------------------------------------------------------ settings

    def save(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        for key, value in asdict(self.values()).items():
            settings.setValue(key, value)
        settings.setValue("recent_prompts", self.recent_prompts())
        settings.setValue("advanced_open", self.advanced_toggle.isChecked())
        settings.endGroup()

    def restore(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        defaults = FormValues()
        kwargs: dict[str, Any] = {}
        for f in fields(FormValues):
            default = getattr(defaults, f.name)
            raw = settings.value(f.name, default)
            try:
                if isinstance(default, bool):
                    kwargs[f.name] = raw in (True, "true", "1", 1)
                else:
                    kwargs[f.name] = type(default)(raw)
            except (TypeError, ValueError):
                kwargs[f.name] = default
        recent = settings.value("recent_prompts", []) or []
        advanced_open = settings.value("advanced_open", False) in (True, "true")
        settings.endGroup()
        if isinstance(recent, str):
            recent = [recent]
        self.prompt.clear()
        self.prompt.addItems([str(p) for p in recent][:MAX_RECENT_PROMPTS])
        values = FormValues(**kwargs)
        if values.clip_path and not os.path.isfile(values.clip_path):
            values.clip_path = ""
        self.set_values(values)
        if not values.seed_locked:
            self.new_seed()
        self.advanced_toggle.setChecked(advanced_open)

    # ------------------------------------------------------------------ slots

    def _seed_lock_changed(self, locked: bool) -> None:
        self.seed_lock.setText("Locked" if locked else "Lock")

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _clip_changed(self, path: str) -> None:
        self.clip_options.setEnabled(bool(path))

    def set_clip_duration(self, seconds: float) -> None:
        """Once the clip was read: the region defaults to the whole clip."""
        self.clip_options.set_clip_duration(seconds)

    def show_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()
        self._note_timer.start(NOTE_MS)

    def _show_length(self) -> None:
        text, bad = length_text(self.bars.value(), self.bpm.value(), self.time_signature.currentText())
        self.length.setText(text)
        role = "warn" if bad else "muted"
        if self.length.property("role") != role:
            theme.repolish(theme.set_role(self.length, role))
