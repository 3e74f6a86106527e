"""Number boxes for generate keys, their range, default and tooltip read from the protocol table.

    bpm = double_box("bpm", decimals=2, step=1.0)   # 1..400, the table's doc as its tooltip
    bars = int_box("bars")

The form and its grid controls build their boxes here, so none can offer what the daemon would refuse.
A number typed beyond the range is not silently cut to its first digits (Qt's own boxes turn a typed
"500" into "50"): the box takes it, sets the nearest allowed value when editing ends and emits
`out_of_range(note)` ("BPM 500 is out of range (1 to 400): set to 400.") for the form to show.
"""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QValidator
from PyQt6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox

from bridge import protocol
from gui.messages import FIELD_LABELS

GENERATE = protocol.REQUESTS["generate"]
SPIN_MIN_WIDTH = 64  # px: number boxes otherwise size themselves for their largest value


def spec(name: str) -> protocol.Field:
    """The protocol table's entry for one generate key."""
    field = GENERATE.field(name)
    assert field is not None, name
    return field


def tooltip(name: str) -> str:
    doc = spec(name).doc
    return doc[:1].upper() + doc[1:]


def _typed_number(box: QAbstractSpinBox, text: str) -> float | None:
    """The number in a box's text without its prefix and suffix; None if it is no number."""
    t = text
    if box.prefix() and t.startswith(box.prefix()):
        t = t[len(box.prefix()) :]
    if box.suffix() and t.endswith(box.suffix()):
        t = t[: -len(box.suffix())]
    value, ok = box.locale().toDouble(t.strip())
    return value if ok else None


def _range_text(value: float) -> str:
    return f"{value:g}"


class _RangeNote:
    """validate/fixup shared by both boxes: an out-of-range number is Intermediate while typed, then
    corrected to the nearest bound with a note."""

    label = ""

    def _validate(self, state: QValidator.State, text: str) -> QValidator.State:
        if state == QValidator.State.Invalid and _typed_number(self, text) is not None:  # type: ignore[arg-type]
            return QValidator.State.Intermediate
        return state

    def _fixup(self, text: str) -> str:
        value = _typed_number(self, text)  # type: ignore[arg-type]
        low, high = self.minimum(), self.maximum()  # type: ignore[attr-defined]
        if value is None or low <= value <= high:
            return text
        nearest = high if value > high else low
        typed = text.strip().removeprefix(self.prefix()).removesuffix(self.suffix()).strip()  # type: ignore[attr-defined]
        self.out_of_range.emit(  # type: ignore[attr-defined]
            f"{self.label} {typed} is out of range ({_range_text(low)} to {_range_text(high)}): "
            f"set to {_range_text(nearest)}."
        )
        return self.textFromValue(nearest)  # type: ignore[attr-defined]


class RangeDoubleBox(_RangeNote, QDoubleSpinBox):
    out_of_range = pyqtSignal(str)

    def validate(self, text: str, pos: int):  # noqa: ANN201 (Qt's (state, text, pos))
        state, text, pos = super().validate(text, pos)
        return self._validate(state, text), text, pos

    def fixup(self, text: str) -> str:
        return self._fixup(text)


class RangeIntBox(_RangeNote, QSpinBox):
    out_of_range = pyqtSignal(str)

    def validate(self, text: str, pos: int):  # noqa: ANN201
        state, text, pos = super().validate(text, pos)
        return self._validate(state, text), text, pos

    def fixup(self, text: str) -> str:
        return self._fixup(text)


def double_box(name: str, decimals: int, step: float) -> RangeDoubleBox:
    field = spec(name)
    box = RangeDoubleBox()
    box.label = FIELD_LABELS.get(name, name)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setRange(float(field.low if field.low is not None else 0.0), float(field.high or 1e6))
    if field.default is not None:
        box.setValue(float(field.default))
    box.setToolTip(tooltip(name))
    box.setKeyboardTracking(False)
    box.setMinimumWidth(SPIN_MIN_WIDTH)
    return box


def int_box(name: str) -> RangeIntBox:
    field = spec(name)
    box = RangeIntBox()
    box.label = FIELD_LABELS.get(name, name)
    box.setRange(int(field.low if field.low is not None else 0), int(field.high or 2**31 - 1))
    if field.default is not None:
        box.setValue(int(field.default))
    box.setToolTip(tooltip(name))
    box.setMinimumWidth(SPIN_MIN_WIDTH)
    return box
