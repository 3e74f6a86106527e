"""Exact musical time: tempo, time signatures and bar-exact lengths (pure functions, no audio).

Lengths are computed with exact rational arithmetic (`fractions.Fraction`) and rounded once, at the
end, so a 64-bar loop at 123.45 bpm is exactly as long as the DAW expects — no per-bar drift.
Rounding is half-up (half away from zero; all lengths are positive): a length landing exactly on
x.5 samples becomes x+1, whatever the parity of x (Python's `round` would go half-even).

A "beat" is a quarter note, as in Ableton Live's tempo: a 6/8 bar is 3 beats, a 7/8 bar 3.5 beats.
See docs/ARCHITECTURE.md for where this sits in the data path.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

QUARTERS_PER_WHOLE = 4  # a whole note is four quarter-note beats
SECONDS_PER_MINUTE = 60

MIN_NUMERATOR = 1
MAX_NUMERATOR = 32
ALLOWED_DENOMINATORS = (1, 2, 4, 8, 16, 32)

_TIME_SIGNATURE_RE = re.compile(r"^\s*([0-9]+)\s*/\s*([0-9]+)\s*$", re.ASCII)  # ASCII digits only: int() also reads "٤"

Number = int | float | Fraction


class LoopError(ValueError):
    """Bad tempo, bar count, time signature or audio shape for loop math."""


@dataclass(frozen=True)
class TimeSignature:
    """A time signature such as 4/4 or 7/8; validated on construction."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        if isinstance(self.numerator, bool) or not isinstance(self.numerator, int):
            raise LoopError(f"time signature numerator must be an integer, got {self.numerator!r}")
        if isinstance(self.denominator, bool) or not isinstance(self.denominator, int):
            raise LoopError(f"time signature denominator must be an integer, got {self.denominator!r}")
        if not MIN_NUMERATOR <= self.numerator <= MAX_NUMERATOR:
            raise LoopError(
                f"time signature numerator must be {MIN_NUMERATOR}..{MAX_NUMERATOR}, got {self.numerator}"
            )
        if self.denominator not in ALLOWED_DENOMINATORS:
            allowed = ", ".join(map(str, ALLOWED_DENOMINATORS))
            raise LoopError(f"time signature denominator must be one of {allowed}, got {self.denominator}")

    @classmethod
    def parse(cls, text: str) -> TimeSignature:
        """Parse "N/D" text, e.g. "4/4", "6/8", "7/8", as typed by a user or sent by the DAW."""
        match = _TIME_SIGNATURE_RE.match(text) if isinstance(text, str) else None
        if match is None:
            raise LoopError(f"time signature must look like '4/4' or '6/8', got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def bar_quarters(self) -> Fraction:
        """Length of one bar in quarter-note beats (the unit of the DAW's tempo)."""
        return Fraction(self.numerator * QUARTERS_PER_WHOLE, self.denominator)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


COMMON_TIME = TimeSignature(4, 4)


def exact(value: Number, name: str = "value") -> Fraction:
    """The exact rational a user meant: floats go through their shortest repr, so 123.45 -> 12345/100."""
    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Fraction):
        raise LoopError(f"{name} must be a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LoopError(f"{name} must be finite, got {value!r}")
        return Fraction(repr(value))
    return Fraction(value)


def _positive(value: Number, name: str) -> Fraction:
    result = exact(value, name)
    if result <= 0:
        raise LoopError(f"{name} must be positive, got {value!r}")
    return result


def positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise LoopError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves up (away from zero for the positive lengths used here)."""
    return math.floor(value + Fraction(1, 2))


def beat_seconds(bpm: Number) -> Fraction:
    """Exact length of one quarter-note beat in seconds."""
    return SECONDS_PER_MINUTE / _positive(bpm, "bpm")


def loop_seconds(bars: int, bpm: Number, ts: TimeSignature = COMMON_TIME) -> Fraction:
    """Exact length of `bars` bars in seconds."""
    return positive_int(bars, "bars") * ts.bar_quarters * beat_seconds(bpm)


def seconds_to_samples(seconds: Number, sample_rate: int) -> int:
    """Seconds to a whole number of samples, computed exactly and rounded half-up once."""
    secs = exact(seconds, "seconds")
    if secs < 0:
        raise LoopError(f"seconds must not be negative, got {seconds!r}")
    return round_half_up(secs * positive_int(sample_rate, "sample_rate"))


def loop_samples(bars: int, bpm: Number, ts: TimeSignature, sample_rate: int) -> int:
    """Exact loop length in samples: round(bars * bar_quarters * 60/bpm * sr), rounded once (half-up)."""
    return seconds_to_samples(loop_seconds(bars, bpm, ts), sample_rate)


def whole_beats_seconds(seconds: Number, bpm: Number) -> Fraction:
    """Longest duration <= `seconds` that is a whole number of beats, to beat-align an audio prompt."""
    secs = exact(seconds, "seconds")
    beat = beat_seconds(bpm)
    beats = math.floor(secs / beat)
    if beats < 1:
        raise LoopError(f"{float(secs):.3f} s is shorter than one beat ({float(beat):.3f} s) at {bpm} bpm")
    return beats * beat
