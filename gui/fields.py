"""Number boxes for generate keys, their range, default and tooltip read from the protocol table.

    bpm = double_box("bpm", decimals=2, step=1.0)   # 1..400, the table's doc as its tooltip
    bars = int_box("bars")

The form and its grid controls build their boxes here, so none can offer what the daemon would refuse.
"""

from __future__ import annotations

from PyQt6.QtWidgets import QDoubleSpinBox, QSpinBox

from bridge import protocol

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


def double_box(name: str, decimals: int, step: float) -> QDoubleSpinBox:
    field = spec(name)
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setRange(float(field.low if field.low is not None else 0.0), float(field.high or 1e6))
    if field.default is not None:
        box.setValue(float(field.default))
    box.setToolTip(tooltip(name))
    box.setKeyboardTracking(False)
    box.setMinimumWidth(SPIN_MIN_WIDTH)
    return box


def int_box(name: str) -> QSpinBox:
    field = spec(name)
    box = QSpinBox()
    box.setRange(int(field.low if field.low is not None else 0), int(field.high or 2**31 - 1))
    if field.default is not None:
        box.setValue(int(field.default))
    box.setToolTip(tooltip(name))
    box.setMinimumWidth(SPIN_MIN_WIDTH)
    return box
